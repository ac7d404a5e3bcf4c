"""SDK objects for datasets and their data rows (on either backend)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from bucketdex.catalog.datasets import DataRowQuery
from bucketdex.core.limits import choice
from bucketdex.core.records import DataRowRecord, DatasetRecord
from bucketdex.core.types import DuplicatesBehavior, ItemType, StorageLocation
from bucketdex.sdk.backend import Backend, ImportRequest
from bucketdex.sdk.ids import HasUuid, as_utc, as_uuid, item_types_of
from bucketdex.sdk.imports import ImportResult, PrivateFiles, read_private_files


@dataclass(frozen=True)
class DataRow:
    """One item linked into a dataset (``uid`` is the data row, ``backing_item_uuid`` the item):
    the encord SDK's names for a ``DataRowRecord``."""

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
    def __init__(self, backend: Backend, record: DatasetRecord) -> None:
        self._backend = backend
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
        behavior = choice(DuplicatesBehavior, duplicates_behavior, what="duplicates_behavior")
        result = self._backend.link_items(self.dataset_hash, ids, behavior)
        return [DataRow.from_record(r) for r in result.linked]

    def list_data_rows(
        self,
        title_eq: str | None = None,
        title_like: str | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        data_types: Iterable[ItemType | str] | None = None,
    ) -> list[DataRow]:
        """The dataset's rows in link order: titled exactly ``title_eq`` or like ``title_like``
        (SQL ``LIKE``: ``%`` any text, ``_`` one character; any case), linked before
        ``created_before`` / at or after ``created_after`` (naive times are UTC), of these types."""
        query = DataRowQuery(
            title_eq=title_eq, title_like=title_like,
            created_before=as_utc(created_before, what="created_before"),
            created_after=as_utc(created_after, what="created_after"),
            item_types=item_types_of(data_types),
        )  # fmt: skip
        return [DataRow.from_record(r) for r in self._backend.data_rows(self.dataset_hash, query)]

    def get_data_row(self, data_row: DataRow | UUID | str) -> DataRow:
        """One row of this dataset, read afresh (``NotFound`` once it is deleted)."""
        row_id = _row_id(data_row)
        return DataRow.from_record(self._backend.data_row(self.dataset_hash, row_id))

    def delete_data(self, data_rows: Iterable[DataRow | UUID | str] | DataRow | UUID | str) -> int:
        """Remove these rows from the dataset (their storage items stay in their folders), all
        or none: ``NotFound`` naming any that is not a row of this dataset.  How many went."""
        if isinstance(data_rows, str | UUID | DataRow):
            data_rows = [data_rows]  # one row given bare
        return self._backend.delete_data_rows(self.dataset_hash, [_row_id(r) for r in data_rows])

    def add_private_data_to_dataset_start(
        self,
        integration_id: UUID | str | None,
        private_files: PrivateFiles,
        ignore_errors: bool = False,
    ) -> UUID:
        """Register a manifest into the dataset's backing folder and link the new items; returns the
        job's UUID at once (the job runs in the background)."""
        data, source = read_private_files(private_files)
        integration = None if integration_id is None else as_uuid(integration_id, what="integration_id")
        request = ImportRequest(data, source, dataset_id=self.dataset_hash, integration_id=integration,
                                ignore_errors=ignore_errors)  # fmt: skip
        return self._backend.start_import(request).id

    def add_private_data_to_dataset_get_result(
        self, upload_job_id: UUID | str, timeout_seconds: float | None = None
    ) -> ImportResult:
        job_id = as_uuid(upload_job_id, what="upload_job_id")
        return ImportResult.from_job(self._backend.get_job(job_id, timeout_seconds))

    def refetch_data(self) -> None:
        self._record = self._backend.get_dataset(self.dataset_hash)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and other.dataset_hash == self.dataset_hash

    def __hash__(self) -> int:
        return hash(self.dataset_hash)

    def __repr__(self) -> str:
        return f"Dataset(dataset_hash={self.dataset_hash}, title={self.title!r})"


def _row_id(row: DataRow | UUID | str) -> UUID:
    return row.uid if isinstance(row, DataRow) else as_uuid(row, what="data row uid")
