"""Read-only views of folder, item and dataset records: the attribute names the encord SDK uses, shared
by the embedded objects (``sdk/storage.py``) and the remote ones (``sdk/remote.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from bucketdex.core.records import DatasetRecord, FolderRecord, ItemRecord
from bucketdex.core.types import ItemType, StorageLocation


class FolderView:
    _record: FolderRecord

    uuid = property(lambda self: self._record.id)
    parent_uuid = property(lambda self: self._record.parent_id)
    name = property(lambda self: self._record.name)
    description = property(lambda self: self._record.description)
    created_at = property(lambda self: self._record.created_at)
    last_edited_at = property(lambda self: self._record.updated_at)

    @property
    def client_metadata(self) -> dict[str, Any]:
        return dict(self._record.client_metadata)


class ItemView:
    _record: ItemRecord

    uuid = property(lambda self: self._record.id)
    parent_folder_uuid = property(lambda self: self._record.folder_id)
    name = property(lambda self: self._record.name)
    description = property(lambda self: self._record.description)
    url = property(lambda self: self._record.url)
    integration_hash = property(lambda self: self._record.integration_id)
    created_at = property(lambda self: self._record.created_at)
    last_edited_at = property(lambda self: self._record.updated_at)
    parent_item_uuid = property(lambda self: self._record.parent_item_id)
    position = property(lambda self: self._record.position)

    @property
    def item_type(self) -> ItemType:
        return self._record.item_type

    @property
    def client_metadata(self) -> dict[str, Any]:
        return dict(self._record.client_metadata)

    @property
    def media(self) -> Any:
        """All media metadata (size, mime, dimensions, fps, duration, pages, DICOM UIDs, extras)."""
        return self._record.media

    def __getattr__(self, name: str) -> Any:
        # file_size, mime_type, width, height, fps, duration, frame_count, audio_*, dicom_*...
        media = self.__dict__["_record"].media
        if name in type(media).column_names():
            return getattr(media, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


class DatasetView:
    _record: DatasetRecord

    @property
    def dataset_hash(self) -> uuid.UUID:
        return self._record.id

    uuid = dataset_hash
    title = property(lambda self: self._record.title)
    description = property(lambda self: self._record.description)
    created_at = property(lambda self: self._record.created_at)
    last_edited_at = property(lambda self: self._record.updated_at)

    @property
    def storage_location(self) -> StorageLocation:
        return self._record.storage_location
