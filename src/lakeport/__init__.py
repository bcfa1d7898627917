"""lakeport: the AWS analytics pipeline on one laptop.

Start from :class:`Lake`::

    from lakeport import Lake
    lake = Lake.open("my-lake")
    lake.storage.put_object("lakeport", "staging/hello.txt", b"hi")
"""

from lakeport.errors import LakeportError
from lakeport.lake import Lake

__version__ = "0.1.0"
__all__ = ["Lake", "LakeportError", "__version__"]
