"""A crawler's definition: targets, database, policies and options, with Glue's names and checks."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lakeport.catalog.names import check_name
from lakeport.crawler.targets import Target, compile_glob
from lakeport.errors import InvalidInput

UPDATE_IN_DATABASE = "UPDATE_IN_DATABASE"
LOG = "LOG"
DELETE_FROM_DATABASE = "DELETE_FROM_DATABASE"
DEPRECATE_IN_DATABASE = "DEPRECATE_IN_DATABASE"
UPDATE_BEHAVIORS = (UPDATE_IN_DATABASE, LOG)
DELETE_BEHAVIORS = (DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE, LOG)

CRAWL_EVERYTHING = "CRAWL_EVERYTHING"
CRAWL_NEW_FOLDERS_ONLY = "CRAWL_NEW_FOLDERS_ONLY"
CRAWL_EVENT_MODE = "CRAWL_EVENT_MODE"
RECRAWL_BEHAVIORS = (CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY, CRAWL_EVENT_MODE)

HEADER_MODES = ("auto", "present", "absent")
PARTITION_TYPES = ("infer", "string")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")

# Short spellings accepted by the CLI and definition files.
_ALIASES = {
    "update": UPDATE_IN_DATABASE,
    "log": LOG,
    "delete": DELETE_FROM_DATABASE,
    "deprecate": DEPRECATE_IN_DATABASE,
    "everything": CRAWL_EVERYTHING,
    "new-folders-only": CRAWL_NEW_FOLDERS_ONLY,
    "new_folders_only": CRAWL_NEW_FOLDERS_ONLY,
    "events": CRAWL_EVENT_MODE,
    "event": CRAWL_EVENT_MODE,
}


def _choice(field_name: str, value: str, allowed: tuple[str, ...]) -> str:
    resolved = _ALIASES.get(value.lower(), value.upper())
    if resolved not in allowed:
        raise InvalidInput(f"crawler {field_name} {value!r} is not one of {', '.join(allowed)}")
    return resolved


@dataclass(frozen=True)
class CrawlerDefinition:
    name: str
    targets: tuple[str, ...]
    database: str
    table_prefix: str = ""
    exclusions: tuple[str, ...] = ()
    update_behavior: str = UPDATE_IN_DATABASE
    delete_behavior: str = DEPRECATE_IN_DATABASE
    recrawl_behavior: str = CRAWL_EVERYTHING
    table_level: int | None = None
    combine_compatible_schemas: bool = False
    partition_types: str = "infer"  # "infer" (bigint/date/string from the folder values) or "string" (as Glue)
    csv_header: str = "auto"
    csv_delimiter: str | None = None
    sample_bytes: int = 1024 * 1024
    description: str = ""
    role: str = ""
    classifiers: tuple[str, ...] = ()  # names of custom classifiers to try before the built-ins
    parameters: Mapping[str, str] = field(default_factory=dict)

    def checked(self) -> CrawlerDefinition:
        """The definition normalized, or InvalidInput naming the field at fault."""
        if not _NAME.match(self.name):
            raise InvalidInput(
                f"crawler name {self.name!r} is not valid", hint="use letters, digits, '_', '-' and '.' (1-255)"
            )
        if not self.targets:
            raise InvalidInput(f"crawler {self.name}: no targets", hint="give at least one s3://bucket/prefix/")
        targets = tuple(Target.parse(t).uri for t in self.targets)
        for pattern in self.exclusions:
            compile_glob(pattern)
        update_behavior = _choice("update behavior", self.update_behavior, UPDATE_BEHAVIORS)
        delete_behavior = _choice("delete behavior", self.delete_behavior, DELETE_BEHAVIORS)
        recrawl = _choice("recrawl behavior", self.recrawl_behavior, RECRAWL_BEHAVIORS)
        if recrawl == CRAWL_NEW_FOLDERS_ONLY and (update_behavior, delete_behavior) != (LOG, LOG):
            raise InvalidInput(
                f"crawler {self.name}: crawling new folders only needs update and delete behavior LOG",
                hint="as in Glue: --update-behavior log --delete-behavior log",
            )
        if self.table_level is not None and not 1 <= self.table_level <= 100:
            raise InvalidInput(f"crawler {self.name}: table level must be 1 or more (the bucket is level 1)")
        if self.partition_types not in PARTITION_TYPES:
            raise InvalidInput(
                f"crawler {self.name}: partition types {self.partition_types!r} is not one of infer, string"
            )
        if self.csv_header not in HEADER_MODES:
            raise InvalidInput(
                f"crawler {self.name}: csv header {self.csv_header!r} is not one of auto, present, absent"
            )
        if self.csv_delimiter is not None and len(self.csv_delimiter) != 1:
            raise InvalidInput(f"crawler {self.name}: csv delimiter must be one character, not {self.csv_delimiter!r}")
        if not 1024 <= self.sample_bytes <= 10 * 1024 * 1024:
            raise InvalidInput(f"crawler {self.name}: sample size must be between 1 KiB and 10 MiB")
        if self.classifiers:
            from lakeport.crawler.classifiers import custom_classifier

            for classifier in self.classifiers:
                custom_classifier(classifier)  # an unknown name is refused now, not when a crawl starts
        prefix = self.table_prefix.lower()
        if prefix and not re.fullmatch(r"[a-z0-9_]+", prefix):
            raise InvalidInput(f"crawler {self.name}: table prefix {self.table_prefix!r} must be letters, digits, _")
        return dataclasses.replace(
            self,
            targets=targets,
            database=check_name("database", self.database),
            table_prefix=prefix,
            update_behavior=update_behavior,
            delete_behavior=delete_behavior,
            recrawl_behavior=recrawl,
        )

    @property
    def parsed_targets(self) -> tuple[Target, ...]:
        return tuple(Target.parse(t) for t in self.targets)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["targets"] = list(self.targets)
        data["exclusions"] = list(self.exclusions)
        data["classifiers"] = list(self.classifiers)
        data["parameters"] = dict(self.parameters)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrawlerDefinition:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"crawler definition: unknown field {unknown[0]!r}", hint=", ".join(sorted(known)))
        values = dict(data)
        for name in ("targets", "exclusions", "classifiers"):
            if name in values:
                raw = values[name]
                values[name] = (raw,) if isinstance(raw, str) else tuple(raw)
        return cls(**values)

    def to_glue(self) -> dict[str, Any]:
        """The ``Crawler`` shape Glue's GetCrawler returns (without the state fields)."""
        out: dict[str, Any] = {
            "Name": self.name,
            "Role": self.role,
            "DatabaseName": self.database,
            "Description": self.description,
            "Targets": {"S3Targets": [{"Path": t, "Exclusions": list(self.exclusions)} for t in self.targets]},
            "Classifiers": list(self.classifiers),
            "TablePrefix": self.table_prefix,
            "SchemaChangePolicy": {"UpdateBehavior": self.update_behavior, "DeleteBehavior": self.delete_behavior},
            "RecrawlPolicy": {"RecrawlBehavior": self.recrawl_behavior},
        }
        grouping: dict[str, Any] = {}
        if self.combine_compatible_schemas:
            grouping["TableGroupingPolicy"] = "CombineCompatibleSchemas"
        if self.table_level is not None:
            grouping["TableLevelConfiguration"] = self.table_level
        if grouping:
            out["Configuration"] = {"Version": 1.0, "Grouping": grouping}
        return out
