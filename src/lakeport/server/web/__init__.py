"""The web console: server-rendered page shells whose data comes from the API's JSON (``/api/v1``).

``router`` serves the pages; ``STATIC`` is the folder mounted at ``/static`` (one CSS file and small ES modules,
no build step). Pages hold no business logic: each one fetches the same JSON a script would.
"""

from lakeport.server.web.pages import STATIC, router

__all__ = ["STATIC", "router"]
