"""Enumerations shared by the catalog, the manifest parser and the API layers."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ItemType(StrEnum):
    """Kinds of storage item.  Values match the encord SDK's ``StorageItemType`` wire names."""

    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"
    IMAGE_GROUP = "image_group"
    IMAGE_SEQUENCE = "image_sequence"
    DICOM_SERIES = "dicom_series"
    DICOM_FILE = "dicom_file"
    NIFTI = "nifti"
    PDF = "pdf"
    PLAIN_TEXT = "plain_text"

    @property
    def is_composite(self) -> bool:
        """Groups, sequences and series are backed by ordered child items."""
        return self in _COMPOSITES


_COMPOSITES = frozenset({ItemType.IMAGE_GROUP, ItemType.IMAGE_SEQUENCE, ItemType.DICOM_SERIES})


class Provider(StrEnum):
    """Cloud storage provider of an integration."""

    S3 = "s3"
    S3_COMPATIBLE = "s3_compatible"
    AZURE = "azure"
    GCS = "gcs"
    LOCAL = "local"


class StorageLocation(IntEnum):
    """Where a dataset's media lives.  Integers match the encord SDK's ``StorageLocation``."""

    CORD_STORAGE = 0
    AWS = 1
    GCP = 2
    AZURE = 3
    S3_COMPATIBLE = 4

    @classmethod
    def for_provider(cls, provider: Provider) -> StorageLocation:
        return _LOCATION_BY_PROVIDER[provider]


_LOCATION_BY_PROVIDER = {
    Provider.S3: StorageLocation.AWS,
    Provider.S3_COMPATIBLE: StorageLocation.S3_COMPATIBLE,
    Provider.AZURE: StorageLocation.AZURE,
    Provider.GCS: StorageLocation.GCP,
    Provider.LOCAL: StorageLocation.CORD_STORAGE,
}


class JobStatus(StrEnum):
    """Import job states, as the encord SDK's ``LongPollingStatus`` names them."""

    PENDING = "PENDING"
    DONE = "DONE"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self is not JobStatus.PENDING


class DuplicatesBehavior(StrEnum):
    """What ``dataset.link_items`` does with an item that is already in the dataset."""

    SKIP = "skip"
    DUPLICATE = "duplicate"
    FAIL = "fail"
