"""Shapes shared by the encord SDK's routes: camelCase bodies, pages, folders and items on the wire.

Every response field the SDK's models declare is present (nullable ones as ``null``): the SDK
validates responses with pydantic and refuses one with a missing field.  Field names and enum
values were read from ``encord/orm/storage.py`` (encord 0.1.211).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from bucketdex.auth.records import Caller
from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.folders import ListOrder
from bucketdex.catalog.signing import ItemUrlSigner
from bucketdex.core.records import FolderRecord, IntegrationRecord, ItemRecord
from bucketdex.core.storable import MAX_JSON_DEPTH
from bucketdex.core.types import ItemType, Provider
from bucketdex.errors import InvalidArgument
from bucketdex.server.paging import ordered_after, ordered_page
from bucketdex.server.paging import uuid_in_token as paged_uuid
from bucketdex.server.routes.file_routes import item_url_signer

T = TypeVar("T")
Wire = dict[str, Any]

V2_PREFIX = "/v2/public"
MAX_PAGE_SIZE = 1000

# bucketdex ItemType -> encord StorageItemType (CamelStrEnum values)
ITEM_TYPE_NAMES: dict[ItemType, str] = {
    ItemType.VIDEO: "video",
    ItemType.AUDIO: "audio",
    ItemType.IMAGE: "image",
    ItemType.IMAGE_GROUP: "imageGroup",
    ItemType.IMAGE_SEQUENCE: "imageSequence",
    ItemType.DICOM_SERIES: "dicomSeries",
    ItemType.DICOM_FILE: "dicomFile",
    ItemType.NIFTI: "nifti",
    ItemType.PDF: "pdf",
    ItemType.PLAIN_TEXT: "plainText",
}
ITEM_TYPES_BY_NAME = {name: item_type for item_type, name in ITEM_TYPE_NAMES.items()}

# bucketdex Provider -> encord StorageLocationName; items without an integration are "encord"
LOCATION_NAMES: dict[Provider, str] = {
    Provider.S3: "s3",
    Provider.S3_COMPATIBLE: "s3Compatible",
    Provider.AZURE: "azure",
    Provider.GCS: "gcp",
    Provider.LOCAL: "directAccess",
}


class CamelModel(BaseModel):
    """A request body as the SDK sends it: camelCase keys, unknown keys ignored (newer SDKs add
    fields), snake_case accepted too."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def metadata_text(metadata: Mapping[str, Any]) -> str:
    """Client metadata as the SDK reads it from items and folders: a JSON-encoded string."""
    return json.dumps(dict(metadata), separators=(",", ":"))


def parse_metadata_text(text: str | None, *, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidArgument(f"{what} must be a JSON object encoded as a string; it is not JSON") from None
    except RecursionError:  # json.loads recurses per level: far past the limit, it runs out of stack
        raise InvalidArgument(
            f"{what} is nested deeper than {MAX_JSON_DEPTH} levels of objects and lists (the limit of "
            "client metadata); flatten it (e.g. join the inner keys with '.')"
        ) from None
    if not isinstance(value, dict):
        raise InvalidArgument(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def folder_wire(folder: FolderRecord, caller: Caller, path: list[FolderRecord] | None = None) -> Wire:
    """An ``encord.orm.storage.StorageFolder``; ``path`` is the folder and its ancestors."""
    ancestors = (path or [])[1:]
    return {
        "uuid": folder.id,
        "parent": folder.parent_id,
        "name": folder.name,
        "description": folder.description,
        "clientMetadata": metadata_text(folder.client_metadata),
        "owner": caller.user_name,
        "createdAt": folder.created_at,
        "lastEditedAt": folder.updated_at,
        "userRole": "admin" if caller.is_admin else "user",
        "syncedDatasetHash": None,
        "pathToRoot": [
            {"uuid": f.id, "parentUuid": f.parent_id, "name": f.name, "syncedDatasetHash": None}
            for f in reversed(ancestors)
        ],
        "folderType": "generic",
        "integrationHash": None,
        "remoteUrl": None,
    }


class ItemWriter:
    """Items → ``encord.orm.storage.StorageItem``; knows the organisation's integrations (for
    ``storageLocation``), looked up once per request.  With a ``signer`` (the SDK's
    ``sign_url(s)=True``) each batch of items is signed together, so a bucket is opened once
    per batch (``catalog.signing``); without one ``signedUrl`` is null."""

    def __init__(self, catalog: Catalog, caller: Caller, signer: ItemUrlSigner | None = None) -> None:
        self._caller = caller
        self._catalog = catalog
        self._signer = signer
        self._integrations: dict[uuid.UUID, IntegrationRecord] | None = None

    def _location(self, integration_id: uuid.UUID | None) -> str:
        if integration_id is None:
            return "encord"
        if self._integrations is None:
            self._integrations = {i.id: i for i in self._catalog.integrations.list_all()}
        found = self._integrations.get(integration_id)
        return "encord" if found is None else LOCATION_NAMES[found.provider]

    def item(self, item: ItemRecord) -> Wire:
        return self.items([item])[0]

    def items(self, items: Iterable[ItemRecord]) -> list[Wire]:
        records = list(items)
        signed = self._signer.signed_urls(records) if self._signer is not None else {}
        backed = self._catalog.items.data_row_counts([i.id for i in records])  # rows linking each
        return [self._item(i, signed.get(i.id), backed.get(i.id, 0)) for i in records]

    def _item(self, item: ItemRecord, signed_url: str | None, backed: int) -> Wire:
        media = item.media
        return {
            "uuid": item.id,
            "parent": item.folder_id,
            "itemType": ITEM_TYPE_NAMES[item.item_type],
            "name": item.name,
            "description": item.description,
            "clientMetadata": metadata_text(item.client_metadata),
            "owner": self._caller.user_name,
            "createdAt": item.created_at,
            "lastEditedAt": item.updated_at,
            "isTombstone": False,
            "isPlaceholder": False,
            "backedDataUnitsCount": backed,
            "storageLocation": self._location(item.integration_id),
            "integrationHash": item.integration_id,
            "url": item.url,
            "signedUrl": signed_url,
            "fileSize": media.file_size,
            "mimeType": media.mime_type,
            "duration": media.duration,
            "fps": media.fps,
            "height": media.height,
            "width": media.width,
            "dicomInstanceUid": media.dicom_instance_uid,
            "dicomStudyUid": media.dicom_study_uid,
            "dicomSeriesUid": media.dicom_series_uid,
            "frameCount": media.frame_count,
            "audioSampleRate": media.audio_sample_rate,
            "audioBitDepth": media.audio_bit_depth,
            "audioCodec": media.audio_codec,
            "audioNumChannels": media.audio_num_channels,
        }


def item_writer(request: Request, catalog: Catalog, caller: Caller, *, sign_urls: bool) -> ItemWriter:
    """The ``ItemWriter`` of a route; ``sign_urls``: the SDK asked for signed URLs."""
    return ItemWriter(catalog, caller, item_url_signer(request, catalog, caller) if sign_urls else None)


def page_wire(results: list[Wire], next_token: str | None) -> Wire:
    """``encord.http.v2.payloads.Page``."""
    return {"results": results, "nextPageToken": next_token}


def check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"pageSize must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")


# the SDK's ``FoldersSortBy`` values (camelCase on the wire), and its enum names
_ORDERS = {
    "name": ListOrder.NAME,
    "NAME": ListOrder.NAME,
    "createdAt": ListOrder.CREATED_AT,
    "created_at": ListOrder.CREATED_AT,
    "CREATED_AT": ListOrder.CREATED_AT,
}


def listing_order(order: str | None) -> ListOrder:
    """The SDK's ``order`` (``FoldersSortBy``; none = name, the SDK's default)."""
    if order is None:
        return ListOrder.NAME
    found = _ORDERS.get(order)
    if found is None:
        raise InvalidArgument(f"order={order!r} is not one of name, createdAt (the SDK's FoldersSortBy)")
    return found


def page_after(page_token: str | None, order: ListOrder, desc: bool) -> tuple[str, uuid.UUID] | None:
    """The (sort key, id) position a ``pageToken`` of this listing ends at."""
    return ordered_after(page_token, order, desc, param="pageToken")


keyset_page = ordered_page


def uuid_in_token(value: str) -> uuid.UUID:
    return paged_uuid(value, param="pageToken")
