"""SDK objects for folders and items.  Names follow the encord SDK so seed snippets read the same."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from typing import Any
from uuid import UUID

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.items import ItemUpdate
from bucketdex.catalog.registration import DryRunReport
from bucketdex.core.records import FolderRecord, ItemRecord
from bucketdex.sdk.bundle import Bundle
from bucketdex.sdk.ids import as_uuid
from bucketdex.sdk.imports import ImportResult, read_private_files
from bucketdex.sdk.views import FolderView, ItemView


class StorageFolder(FolderView):
    def __init__(self, catalog: Catalog, record: FolderRecord) -> None:
        self._catalog = catalog
        self._record = record

    @property
    def parent(self) -> StorageFolder | None:
        if self._record.parent_id is None:
            return None
        return StorageFolder(self._catalog, self._catalog.folders.get(self._record.parent_id))

    def list_items(self, *, include_children: bool = False, page_size: int = 1000) -> Iterator[StorageItem]:
        """Items directly in this folder; files inside groups/series only with ``include_children``."""
        for record in self._catalog.items.list_in_folder(
            self.uuid, page_size=page_size, include_children=include_children
        ):
            yield StorageItem(self._catalog, record)

    def add_private_data_to_folder_start(
        self,
        integration_id: UUID | str | None,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        ignore_errors: bool = False,
    ) -> UUID:
        """Start registering a manifest (a path, a dict, JSON or CSV text) into this folder.

        Returns the job's UUID at once; the job runs in the background."""
        data, source = read_private_files(private_files)
        integration = None if integration_id is None else as_uuid(integration_id, what="integration_id")
        job = self._catalog.imports.start(
            self.uuid, data, source_name=source, integration_id=integration, ignore_errors=ignore_errors
        )
        return job.id

    def dry_run_private_data(
        self,
        private_files: str | os.PathLike[str] | dict[str, Any] | bytes,
        ignore_errors: bool = False,
    ) -> DryRunReport:
        """What registering this manifest here would do (add, skip, update, fail), writing nothing.

        A manifest that cannot be read at all raises ManifestError listing every problem."""
        data, source = read_private_files(private_files)
        return self._catalog.imports.dry_run(self.uuid, data, source_name=source, ignore_errors=ignore_errors)

    def add_private_data_to_folder_get_result(
        self, upload_job_id: UUID | str, timeout_seconds: float | None = None
    ) -> ImportResult:
        """The job's state; waits up to ``timeout_seconds`` (until it finishes if None)."""
        job = self._catalog.imports.wait(as_uuid(upload_job_id, what="upload_job_id"), timeout_seconds)
        return ImportResult.from_job(job)

    def create_subfolder(
        self, name: str, description: str | None = None, client_metadata: dict[str, Any] | None = None
    ) -> StorageFolder:
        record = self._catalog.folders.create(name, description, client_metadata, parent_id=self.uuid)
        return StorageFolder(self._catalog, record)

    def list_subfolders(self) -> list[StorageFolder]:
        return [StorageFolder(self._catalog, f) for f in self._catalog.folders.subfolders(self.uuid)]

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Change the given fields (``None`` leaves a field as it is)."""
        changes: dict[str, Any] = {
            "name": name,
            "description": description,
            "client_metadata": client_metadata,
        }
        self._record = self._catalog.folders.update(
            self.uuid, **{k: v for k, v in changes.items() if v is not None}
        )

    def refetch_data(self) -> None:
        self._record = self._catalog.folders.get(self.uuid)

    def __repr__(self) -> str:
        return f"StorageFolder(uuid={self.uuid}, name={self.name!r})"


class StorageItem(ItemView):
    def __init__(self, catalog: Catalog, record: ItemRecord) -> None:
        self._catalog = catalog
        self._record = record

    @property
    def parent_folder(self) -> StorageFolder:
        return StorageFolder(self._catalog, self._catalog.folders.get(self._record.folder_id))

    def get_child_items(self) -> list[StorageItem]:
        """The files of a group, sequence or series, in order."""
        return [StorageItem(self._catalog, r) for r in self._catalog.items.children(self.uuid)]

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
        bundle: Bundle | None = None,
    ) -> None:
        """Change the given fields (``None`` leaves one as it is); with ``bundle``, on the bundle's exit."""
        fields: dict[str, Any] = {
            "name": name,
            "description": description,
            "client_metadata": client_metadata,
        }
        change = ItemUpdate(self.uuid, **{k: v for k, v in fields.items() if v is not None})
        if bundle is None:
            _flush_updates(self._catalog, [(self, change)])
        else:
            # One key per catalog: the bundle writes all of that catalog's updates in one call.
            bundle.add(("item_update", self._catalog), partial(_flush_updates, self._catalog), (self, change))

    def refetch_data(self) -> None:
        self._record = self._catalog.items.get(self.uuid)

    def __repr__(self) -> str:
        return f"StorageItem(uuid={self.uuid}, type={self.item_type.value}, name={self.name!r})"


def _flush_updates(catalog: Catalog, payloads: list[tuple[StorageItem, ItemUpdate]]) -> None:
    merged: dict[UUID, ItemUpdate] = {}
    for _, change in payloads:  # later updates of the same item win, field by field
        earlier = merged.get(change.item_id)
        merged[change.item_id] = change if earlier is None else _merge(earlier, change)
    catalog.items.update_many(list(merged.values()))
    fresh = {r.id: r for r in catalog.items.get_many(list(merged))}
    for item, _ in payloads:
        item._record = fresh[item.uuid]


def _merge(earlier: ItemUpdate, later: ItemUpdate) -> ItemUpdate:
    unset = ItemUpdate(earlier.item_id)
    pick = {
        name: getattr(later, name)
        if getattr(later, name) is not getattr(unset, name)
        else getattr(earlier, name)
        for name in ("name", "description", "client_metadata")
    }
    return ItemUpdate(earlier.item_id, **pick)
