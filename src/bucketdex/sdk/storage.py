"""SDK objects for folders and items.  Names follow the encord SDK so seed snippets read the same.

Each object holds a record (``FolderRecord``, ``ItemRecord``) and the ``Backend`` it came from:
the same class works on the embedded catalog and on a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.items import ItemQuery
from bucketdex.catalog.registration import DryRunReport
from bucketdex.core.records import (
    DeleteResult,
    FolderRecord,
    FolderSummary,
    ItemRecord,
    ItemSummary,
    JobRecord,
    MediaMetadata,
)
from bucketdex.core.types import ItemType
from bucketdex.sdk.backend import Backend, FolderListing, ImportRequest, ItemChange
from bucketdex.sdk.bundle import Bundle
from bucketdex.sdk.ids import as_uuid, item_types_of, list_order, page_size_of
from bucketdex.sdk.imports import ImportResult, PrivateFiles, read_private_files

if TYPE_CHECKING:
    from bucketdex.sdk.similarity import SimilarItem

MEDIA_FIELDS = frozenset(MediaMetadata.column_names())


class StorageFolder:
    def __init__(self, backend: Backend, record: FolderRecord) -> None:
        self._backend = backend
        self._record = record

    uuid = property(lambda self: self._record.id)
    parent_uuid = property(lambda self: self._record.parent_id)
    name = property(lambda self: self._record.name)
    description = property(lambda self: self._record.description)
    created_at = property(lambda self: self._record.created_at)
    last_edited_at = property(lambda self: self._record.updated_at)

    @property
    def client_metadata(self) -> dict[str, Any]:
        return dict(self._record.client_metadata)

    @property
    def parent(self) -> StorageFolder | None:
        parent_id = self._record.parent_id
        return (
            None if parent_id is None else StorageFolder(self._backend, self._backend.get_folder(parent_id))
        )

    def list_items(
        self,
        *,
        search: str | None = None,
        item_types: Iterable[ItemType | str] | None = None,
        is_in_dataset: bool | None = None,
        include_children: bool = False,
        order: ListOrder | str = ListOrder.CREATED_AT,
        desc: bool = False,
        page_size: int = 1000,
    ) -> Iterator[StorageItem]:
        """Items directly in this folder, oldest first unless ``order="name"`` / ``desc``: those
        whose name contains ``search`` (any case), of ``item_types``, linked to a dataset or not
        (``is_in_dataset``).  Files inside groups and series only with ``include_children``."""
        return self._items(
            ItemQuery(self.uuid, False, search, item_types_of(item_types), is_in_dataset, include_children),
            order, desc, page_size,
        )  # fmt: skip

    def find_items(
        self,
        search: str | None = None,
        *,
        item_types: Iterable[ItemType | str] | None = None,
        is_in_dataset: bool | None = None,
        recursive: bool = False,
        order: ListOrder | str = ListOrder.NAME,
        desc: bool = False,
        page_size: int = 100,
    ) -> Iterator[StorageItem]:
        """Items whose name contains ``search`` (any case), of ``item_types``, in a dataset or
        not, in this folder and, with ``recursive``, every folder below it; by name (as the
        encord SDK's ``find_items``) or ``order="created_at"``, ``desc`` reversed."""
        query = ItemQuery(self.uuid, recursive, search, item_types_of(item_types), is_in_dataset)
        return self._items(query, order, desc, page_size)

    def _items(
        self, query: ItemQuery, order: ListOrder | str, desc: bool, page_size: int
    ) -> Iterator[StorageItem]:
        # arguments checked now (on either backend), not when the first item is asked for
        records = self._backend.find_items(query, list_order(order), desc, page_size_of(page_size))
        return (StorageItem(self._backend, record) for record in records)

    def add_private_data_to_folder_start(
        self,
        integration_id: UUID | str | None,
        private_files: PrivateFiles,
        ignore_errors: bool = False,
    ) -> UUID:
        """Start registering a manifest (a path, a dict, JSON or CSV text) into this folder.

        Returns the job's UUID at once; the job runs in the background."""
        return self._import(integration_id, private_files, ignore_errors).id

    def _import(
        self, integration_id: UUID | str | None, private_files: PrivateFiles, ignore_errors: bool,
        *, detach: bool = False,
    ) -> JobRecord:  # fmt: skip
        data, source = read_private_files(private_files)
        integration = None if integration_id is None else as_uuid(integration_id, what="integration_id")
        request = ImportRequest(data, source, folder_id=self.uuid, integration_id=integration,
                                ignore_errors=ignore_errors)  # fmt: skip
        return self._backend.start_import(request, detach=detach)

    def dry_run_private_data(
        self,
        private_files: PrivateFiles,
        ignore_errors: bool = False,
        integration_id: UUID | str | None = None,
    ) -> DryRunReport:
        """What registering this manifest here would do (add, skip, update, fail), writing nothing.

        With ``integration_id`` (the job's), URLs outside its bucket are unit errors as in the
        job; no file is read.  A manifest that cannot be read at all raises ManifestError
        listing every problem."""
        data, source = read_private_files(private_files)
        integration = None if integration_id is None else as_uuid(integration_id, what="integration_id")
        request = ImportRequest(
            data, source, folder_id=self.uuid, integration_id=integration, ignore_errors=ignore_errors
        )
        return self._backend.dry_run(request)

    def add_private_data_to_folder_get_result(
        self, upload_job_id: UUID | str, timeout_seconds: float | None = None
    ) -> ImportResult:
        """The job's state; waits up to ``timeout_seconds`` (until it finishes if None)."""
        job_id = as_uuid(upload_job_id, what="upload_job_id")
        return ImportResult.from_job(self._backend.get_job(job_id, timeout_seconds))

    def create_subfolder(
        self, name: str, description: str | None = None, client_metadata: dict[str, Any] | None = None
    ) -> StorageFolder:
        record = self._backend.create_folder(name, description, client_metadata, self.uuid)
        return StorageFolder(self._backend, record)

    def list_subfolders(
        self, search: str | None = None, *, order: ListOrder | str = ListOrder.NAME, desc: bool = False
    ) -> list[StorageFolder]:
        """The folders directly in this one whose name contains ``search`` (any case), by name
        unless ``order="created_at"``, ``desc`` reversed."""
        listing = FolderListing(search, parent_id=self.uuid, order=list_order(order), desc=desc)
        return [StorageFolder(self._backend, f) for f in self._backend.find_folders(listing, 1000)]

    def find_subfolders(
        self,
        search: str | None = None,
        *,
        recursive: bool = True,
        order: ListOrder | str = ListOrder.NAME,
        desc: bool = False,
        page_size: int = 100,
    ) -> Iterator[StorageFolder]:
        """Folders at any depth below this one (only the direct ones unless ``recursive``) whose
        name contains ``search`` (any case); by name or ``order="created_at"``, ``desc`` reversed."""
        sort = list_order(order)
        listing = (
            FolderListing(search, under=self.uuid, order=sort, desc=desc)
            if recursive
            else FolderListing(search, parent_id=self.uuid, order=sort, desc=desc)
        )
        records = self._backend.find_folders(listing, page_size_of(page_size))
        return (StorageFolder(self._backend, f) for f in records)

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Change the given fields (``None`` leaves a field as it is)."""
        fields = {"name": name, "description": description, "client_metadata": client_metadata}
        changes = {k: v for k, v in fields.items() if v is not None}
        self._record = self._backend.update_folder(self.uuid, changes)

    def refetch_data(self) -> None:
        self._record = self._backend.get_folder(self.uuid)

    # curation --------------------------------------------------------------------------------

    def move_to_folder(self, target_folder: StorageFolder | UUID | str | None) -> None:
        """Move this folder into ``target_folder`` (None: to the top level); never into itself
        or a folder inside it."""
        [self._record] = self._backend.move_folders([self.uuid], _folder_id(target_folder))

    def delete(self, *, recursive: bool = False, unlink_datasets: bool = False) -> DeleteResult:
        """Delete this folder: only if empty, unless ``recursive`` (then everything under it).
        Items that are in datasets are refused unless ``unlink_datasets``."""
        return self._backend.delete_folder(self.uuid, recursive, unlink_datasets)

    def get_summary(self) -> FolderSummary:
        """Subfolders, items by type, files, total size and import jobs of this folder."""
        return self._backend.folder_summary(self.uuid)

    def move_items_to_folder(
        self, target_folder: StorageFolder | UUID | str, items_to_move: Sequence[StorageItem | UUID | str]
    ) -> None:
        """Move items of this folder (with the files of their groups) into ``target_folder``."""
        target = _folder_id(target_folder)
        assert target is not None, "target_folder is required"
        self._backend.move_items(_item_ids(items_to_move), target, self.uuid)

    def delete_storage_items(
        self, item_uuids: Sequence[StorageItem | UUID | str], *, unlink_datasets: bool = False
    ) -> DeleteResult:
        """Delete items of this folder (with the files of their groups), all or none."""
        return self._backend.delete_items(_item_ids(item_uuids), unlink_datasets, self.uuid)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorageFolder) and other.uuid == self.uuid

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        return f"StorageFolder(uuid={self.uuid}, name={self.name!r})"


class StorageItem:
    def __init__(self, backend: Backend, record: ItemRecord) -> None:
        self._backend = backend
        self._record = record

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
    def media(self) -> MediaMetadata:
        """All media metadata (size, mime, dimensions, fps, duration, pages, DICOM UIDs, extras)."""
        return self._record.media

    def __getattr__(self, name: str) -> Any:
        # file_size, mime_type, width, height, fps, duration, frame_count, audio_*, dicom_*...
        if name in MEDIA_FIELDS:
            return getattr(self.__dict__["_record"].media, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def parent_folder(self) -> StorageFolder:
        return StorageFolder(self._backend, self._backend.get_folder(self._record.folder_id))

    def get_child_items(self) -> list[StorageItem]:
        """The files of a group, sequence or series, in order."""
        return [StorageItem(self._backend, r) for r in self._backend.child_items(self.uuid)]

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        client_metadata: dict[str, Any] | None = None,
        bundle: Bundle | None = None,
    ) -> None:
        """Change the given fields (``None`` leaves one as it is); with ``bundle``, on the bundle's exit."""
        change = ItemChange(self.uuid, name, description, client_metadata)
        if bundle is None:
            _flush_updates(self._backend, [(self, change)])
        else:
            # One key per backend: the bundle writes all of that backend's updates in one call.
            bundle.add(
                ("item_update", id(self._backend)), partial(_flush_updates, self._backend), (self, change)
            )

    def refetch_data(self) -> None:
        self._record = self._backend.get_item(self.uuid)

    def move_to_folder(self, target_folder: StorageFolder | UUID | str) -> None:
        """Move this item (with its files, for a group or series) into ``target_folder``."""
        target = _folder_id(target_folder)
        assert target is not None, "target_folder is required"
        self._backend.move_items([self.uuid], target, None)
        self.refetch_data()

    def delete(self, *, unlink_datasets: bool = False) -> DeleteResult:
        """Delete this item (with its files); refused if it is in a dataset, unless ``unlink_datasets``."""
        return self._backend.delete_items([self.uuid], unlink_datasets, None)

    def get_summary(self) -> ItemSummary:
        """The group or series this item is a file of, and the datasets it is in."""
        return self._backend.item_summary(self.uuid)

    def get_signed_url(self) -> str | None:
        """A URL anyone holding it may GET this item's file with, for an hour (S3 presigned, Azure
        SAS, GCS V4).  ``None`` for an item without a bucket (no integration), a group or series
        (sign its child items), and, on the embedded catalog, an item of a local integration:
        its URL is one of a server's file route, so only a client of a server gets one."""
        return self._backend.signed_urls([self.uuid]).get(self.uuid)

    def similar(
        self,
        k: int = 10,
        *,
        key: str,
        where: Any = None,
        metric: str = "cosine",
        frame: int | None = None,
        folder: StorageFolder | UUID | str | None = None,
        recursive: bool = False,
        dataset: Any = None,
    ) -> list[SimilarItem]:
        """The ``k`` items (or video frames) most like this one (its own vector, or ``frame``'s)
        in embedding key ``key``, nearest first, itself left out; among the items of ``folder``
        or ``dataset`` that pass ``where`` (``F(...)``, a JSON tree or a ``--where`` text)."""
        from bucketdex.sdk.similarity import scope_of, similar

        to = self.uuid if frame is None else (self.uuid, frame)
        scope = scope_of(folder, recursive, dataset)
        return similar(self._backend, to, key=key, k=k, metric=metric, where=where, scope=scope)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorageItem) and other.uuid == self.uuid

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        return f"StorageItem(uuid={self.uuid}, type={self.item_type.value}, name={self.name!r})"


def _folder_id(folder: StorageFolder | UUID | str | None) -> UUID | None:
    if folder is None or isinstance(folder, StorageFolder):
        return None if folder is None else folder.uuid
    return as_uuid(folder, what="folder id")


def _item_ids(items: Sequence[StorageItem | UUID | str]) -> list[UUID]:
    return [i.uuid if isinstance(i, StorageItem) else as_uuid(i, what="item id") for i in items]


def _flush_updates(backend: Backend, payloads: list[tuple[StorageItem, ItemChange]]) -> None:
    merged: dict[UUID, ItemChange] = {}
    for _, change in payloads:  # later updates of the same item win, field by field
        earlier = merged.get(change.item_id)
        merged[change.item_id] = change if earlier is None else _merge(earlier, change)
    fresh = {r.id: r for r in backend.update_items(list(merged.values()))}
    for item, _ in payloads:
        item._record = fresh[item.uuid]


def _merge(earlier: ItemChange, later: ItemChange) -> ItemChange:
    return ItemChange(
        earlier.item_id,
        later.name if later.name is not None else earlier.name,
        later.description if later.description is not None else earlier.description,
        later.client_metadata if later.client_metadata is not None else earlier.client_metadata,
    )
