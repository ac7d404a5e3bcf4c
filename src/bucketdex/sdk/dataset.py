"""SDK objects for datasets and their data rows."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import DataRowRecord, DatasetRecord, LinkResult
from bucketdex.core.types import DuplicatesBehavior, ItemType
from bucketdex.sdk.ids import HasUuid, as_uuid
from bucketdex.sdk.imports import ImportResult, read_private_files
from bucketdex.sdk.views import DatasetView


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


class Dataset(DatasetView):
    def __init__(self, catalog: Catalog, record: DatasetRecord) -> None:
        self._catalog = catalog
        self._record = record

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

    def add_private_data_to_dataset_start(
        self,
        integration_id: UUID | str | None,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        ignore_errors: bool = False,
    ) -> UUID:
        """Register a manifest into the dataset's backing folder and link the new items; returns the
        job's UUID at once (the job runs in the background)."""
        data, source = read_private_files(private_files)
        folder_id = self._catalog.datasets.backing_folder(self.dataset_hash)
        integration = None if integration_id is None else as_uuid(integration_id, what="integration_id")
        job = self._catalog.imports.start(
            folder_id,
            data,
            source_name=source,
            integration_id=integration,
            dataset_id=self.dataset_hash,
            ignore_errors=ignore_errors,
        )
        return job.id

    def add_private_data_to_dataset_get_result(
        self, upload_job_id: UUID | str, timeout_seconds: float | None = None
    ) -> ImportResult:
        job = self._catalog.imports.wait(as_uuid(upload_job_id, what="upload_job_id"), timeout_seconds)
        return ImportResult.from_job(job)

    def refetch_data(self) -> None:
        self._record = self._catalog.datasets.get(self.dataset_hash)

    def __repr__(self) -> str:
        return f"Dataset(dataset_hash={self.dataset_hash}, title={self.title!r})"
