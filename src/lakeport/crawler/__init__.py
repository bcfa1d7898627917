"""The crawler (Glue crawlers' role): reads the lake's files, infers schemas and partitions, keeps the catalog."""

from lakeport.crawler.classifiers import BUILTIN_CLASSIFIERS, Classifier, FileShape, register_classifier
from lakeport.crawler.crawler import CrawlerNotFound, Crawlers
from lakeport.crawler.definition import CrawlerDefinition
from lakeport.crawler.runs import (
    CrawlerInfo,
    CrawlerNotRunningException,
    CrawlerRunningException,
    CrawlerStoppingException,
    CrawlRun,
)

__all__ = [
    "BUILTIN_CLASSIFIERS",
    "Classifier",
    "CrawlRun",
    "CrawlerDefinition",
    "CrawlerInfo",
    "CrawlerNotFound",
    "CrawlerNotRunningException",
    "CrawlerRunningException",
    "CrawlerStoppingException",
    "Crawlers",
    "FileShape",
    "register_classifier",
]
