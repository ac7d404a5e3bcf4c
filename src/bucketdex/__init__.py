"""bucketdex: register media kept in cloud object storage into a searchable catalog."""

from bucketdex.core.types import DuplicatesBehavior, ItemType, JobStatus, Provider, StorageLocation
from bucketdex.errors import (
    AlreadyExists,
    BucketdexError,
    Conflict,
    FilterError,
    InvalidArgument,
    ItemValidationError,
    MetadataSchemaError,
    MetadataValidationError,
    NotFound,
)
from bucketdex.index.builder import F, Filter, where
from bucketdex.sdk import (
    Bundle,
    Client,
    CloudIntegration,
    Collection,
    DataRow,
    Dataset,
    FilterPreset,
    StorageFolder,
    StorageItem,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "BucketdexError",
    "Bundle",
    "Client",
    "CloudIntegration",
    "Collection",
    "Conflict",
    "DataRow",
    "Dataset",
    "DuplicatesBehavior",
    "F",
    "Filter",
    "FilterError",
    "FilterPreset",
    "InvalidArgument",
    "ItemType",
    "ItemValidationError",
    "JobStatus",
    "MetadataSchemaError",
    "MetadataValidationError",
    "NotFound",
    "Provider",
    "StorageFolder",
    "StorageItem",
    "StorageLocation",
    "where",
]
