"""The Python SDK: thin objects over the catalog (embedded) or, later, the HTTP API (remote)."""

from bucketdex.sdk.bundle import Bundle
from bucketdex.sdk.client import Client
from bucketdex.sdk.collections import Collection, FilterPreset
from bucketdex.sdk.dataset import DataRow, Dataset
from bucketdex.sdk.integration import CloudIntegration
from bucketdex.sdk.storage import StorageFolder, StorageItem

__all__ = [
    "Bundle",
    "Client",
    "CloudIntegration",
    "Collection",
    "DataRow",
    "Dataset",
    "FilterPreset",
    "StorageFolder",
    "StorageItem",
]
