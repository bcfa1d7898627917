"""Plugins for the crawler, with pluggy: a package adds classifiers through the ``lakeport`` entry point group.

A plugin module implements ``lakeport_classifiers()`` returning classifier objects (see ``classifiers.py``)
and is declared in its package's metadata as ``[project.entry-points.lakeport] name = "module"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from lakeport.crawler.classifiers import Classifier

hookspec = pluggy.HookspecMarker("lakeport")
hookimpl = pluggy.HookimplMarker("lakeport")


class CrawlerSpec:
    @hookspec
    def lakeport_classifiers(self) -> list[Any]:  # type: ignore[empty-body]
        """Custom classifiers this plugin provides."""


_loaded = False


def plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("lakeport")
    manager.add_hookspecs(CrawlerSpec)
    manager.load_setuptools_entrypoints("lakeport")
    return manager


def load_plugins() -> list[Classifier]:
    """Register every plugin's classifiers (once per process); return them."""
    global _loaded
    from lakeport.crawler.classifiers import register_classifier

    found: list[Classifier] = []
    if _loaded:
        return found
    _loaded = True
    for group in plugin_manager().hook.lakeport_classifiers():
        for classifier in group or ():
            register_classifier(classifier)
            found.append(classifier)
    return found
