"""Object storage (S3's role): buckets, objects, object events, on a local folder or any S3-compatible store."""

from lakeport.storage.backend import Backend, open_backend
from lakeport.storage.events import EventLog, ObjectEvent
from lakeport.storage.objects import BucketInfo, ListPage, ObjectInfo, ObjectStream
from lakeport.storage.storage import Storage
from lakeport.storage.transfer import Location, Transfer, Transfers, parse_location
from lakeport.storage.watcher import ObjectWatcher, ScanResult

__all__ = [
    "Backend",
    "BucketInfo",
    "EventLog",
    "ListPage",
    "Location",
    "ObjectEvent",
    "ObjectInfo",
    "ObjectStream",
    "ObjectWatcher",
    "ScanResult",
    "Storage",
    "Transfer",
    "Transfers",
    "open_backend",
    "parse_location",
]
