"""SDK objects for datasets and their data rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.records import DataRow as DataRowRecord
from bucketdex.catalog.records import Dataset as DatasetRecord
from bucketdex.catalog.records import LinkResult
from bucketdex.catalog.types import DuplicatesBehavior, ItemType, StorageLocation
from bucketdex.sdk.ids import HasUuid, as_uuid


@dataclass(frozen=True)
class DataRow:
    """One item linked into a dataset (``uid`` is the data row, ``backing_item_uuid`` the item)."""

    uid: UUID
    title: str
    backing_item_uuid: UUID
    data_type: ItemType
    file_link: str | None
    created_at: datetime

    @classmethod
    def from_record(cls, record: DataRowRecord) -> DataRow:
        return cls(
            uid=record.id,
            title=record.title,
            backing_item_uuid=record.item_id,
            data_type=record.item_type,
            file_link=record.file_link,
            created_at=record.created_at,
        )


class Dataset:
    def __init__(self, catalog: Catalog, record: DatasetRecord) -> None:
        self._catalog = catalog
        self._record = record

    @property
    def dataset_hash(self) -> UUID:
        return self._record.id

    uuid = dataset_hash
    title = property(lambda self: self._record.title)
    description = property(lambda self: self._record.description)
    created_at = property(lambda self: self._record.created_at)
    last_edited_at = property(lambda self: self._record.updated_at)

    @property
    def storage_location(self) -> StorageLocation:
        return self._record.storage_location

    def link_items(
        self,
        item_uuids: Iterable[UUID | str | HasUuid],
        duplicates_behavior: DuplicatesBehavior | str = DuplicatesBehavior.SKIP,
    ) -> list[DataRow]:
        """Link storage items into this dataset; returns the data rows created."""
        ids = [as_uuid(i, what="item uuid") for i in item_uuids]
        result: LinkResult = self._catalog.datasets.link_items(self.dataset_hash, ids, duplicates_behavior)
        return [DataRow.from_record(r) for r in result.linked]

    def list_data_rows(self) -> list[DataRow]:
        return [DataRow.from_record(r) for r in self._catalog.datasets.data_rows(self.dataset_hash)]

    def refetch_data(self) -> None:
        self._record = self._catalog.datasets.get(self.dataset_hash)

    def __repr__(self) -> str:
        return f"Dataset(dataset_hash={self.dataset_hash}, title={self.title!r})"
