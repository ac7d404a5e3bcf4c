"""Datasets and integrations in remote mode: the same names as the embedded SDK's ``Dataset``
and ``client.get_cloud_integrations()``, over the server's native API (``/api/v1``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from bucketdex.core.records import DatasetRecord, IntegrationRecord
from bucketdex.core.types import DuplicatesBehavior, ItemType, Provider, StorageLocation
from bucketdex.sdk.dataset import DataRow
from bucketdex.sdk.ids import HasUuid, as_uuid
from bucketdex.sdk.imports import ImportResult, read_private_files
from bucketdex.sdk.views import DatasetView
from bucketdex.storage.selftest import SelfTestReport

if TYPE_CHECKING:
    from bucketdex.sdk.remote import RemoteClient


class RemoteDataset(DatasetView):
    """A dataset on the server; the same names as the embedded ``Dataset``."""

    def __init__(self, client: RemoteClient, record: DatasetRecord) -> None:
        self._client = client
        self._record = record

    def link_items(
        self,
        item_uuids: Iterable[UUID | str | HasUuid],
        duplicates_behavior: DuplicatesBehavior | str = DuplicatesBehavior.SKIP,
    ) -> list[DataRow]:
        body = {
            "item_ids": [str(as_uuid(i, what="item uuid")) for i in item_uuids],
            "duplicates_behavior": DuplicatesBehavior(duplicates_behavior).value,
        }
        result = self._client.call("POST", f"/datasets/{self.dataset_hash}/items", json=body)
        return [data_row_of(r) for r in result["linked"]]

    def list_data_rows(self) -> list[DataRow]:
        return [data_row_of(r) for r in self._client.call("GET", f"/datasets/{self.dataset_hash}/rows")]

    def add_private_data_to_dataset_start(
        self,
        integration_id: UUID | str | None,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        ignore_errors: bool = False,
    ) -> UUID:
        """Send a manifest to register into the dataset's folder and link; the job's UUID."""
        data, source = read_private_files(private_files)
        params: dict[str, Any] = {"ignore_errors": ignore_errors, "source_name": source}
        if integration_id is not None:
            params["integration_id"] = str(integration_id)
        path = f"/datasets/{self.dataset_hash}/import-jobs"
        return UUID(self._client.call("POST", path, params=params, content=data)["id"])

    def add_private_data_to_dataset_get_result(
        self, upload_job_id: UUID | str, timeout_seconds: float | None = None
    ) -> ImportResult:
        return self._client.get_import_result(upload_job_id, timeout_seconds)

    def refetch_data(self) -> None:
        self._record = dataset_of(self._client.call("GET", f"/datasets/{self.dataset_hash}"))

    def __repr__(self) -> str:
        return f"RemoteDataset(dataset_hash={self.dataset_hash}, title={self.title!r})"


class RemoteIntegration:
    """An integration on the server; the same names as the embedded ``CloudIntegration``
    (its credentials never leave the server: only whether there are some)."""

    def __init__(self, client: RemoteClient, record: IntegrationRecord) -> None:
        self._client = client
        self._record = record

    @property
    def id(self) -> UUID:
        return self._record.id

    integration_id = id
    title = property(lambda self: self._record.title)
    provider = property(lambda self: self._record.provider)
    bucket = property(lambda self: self._record.bucket)
    region = property(lambda self: self._record.region)
    endpoint = property(lambda self: self._record.endpoint)
    strict_client_only = property(lambda self: self._record.strict_client_only)
    has_credentials = property(lambda self: self._record.has_credentials)
    created_at = property(lambda self: self._record.created_at)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self._record.options)

    def check(self, write: bool = False, cors_origin: str | None = None) -> SelfTestReport:
        """The server's permission self-test of this integration."""
        body = {"write": write, "cors_origin": cors_origin}
        return SelfTestReport.from_dict(
            self._client.call("POST", f"/integrations/{self.id}/check", json=body)
        )

    def delete(self) -> None:
        self._client.call("DELETE", f"/integrations/{self.id}")

    def __repr__(self) -> str:
        return f"RemoteIntegration(id={self.id}, title={self.title!r})"


def dataset_of(data: dict[str, Any]) -> DatasetRecord:
    folder = data["backing_folder_id"]
    return DatasetRecord(
        id=uuid.UUID(data["id"]),
        title=data["title"],
        description=data["description"],
        storage_location=StorageLocation(data["storage_location"]),
        backing_folder_id=None if folder is None else uuid.UUID(folder),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


def data_row_of(data: dict[str, Any]) -> DataRow:
    return DataRow(
        uid=uuid.UUID(data["id"]),
        title=data["title"],
        backing_item_uuid=uuid.UUID(data["item_id"]),
        data_type=ItemType(data["item_type"]),
        file_link=data["file_link"],
        created_at=datetime.fromisoformat(data["created_at"]),
    )


def integration_of(data: dict[str, Any]) -> IntegrationRecord:
    """The server's integration record (it never carries credentials, only whether there are some)."""
    return IntegrationRecord(
        id=uuid.UUID(data["id"]),
        title=data["title"],
        provider=Provider(data["provider"]),
        bucket=data["bucket"],
        region=data["region"],
        endpoint=data["endpoint"],
        strict_client_only=data["strict_client_only"],
        options=dict(data["options"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        has_credentials=data["has_credentials"],
    )
