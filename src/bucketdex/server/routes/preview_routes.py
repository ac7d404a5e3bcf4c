"""``GET /api/v1/items/{item_id}/preview.png``: a picture of a DICOM file or series or a NIfTI
volume, which a browser cannot show itself (the web UI's item viewer; docs/ui.md).

The item is loaded for the caller's organisation (another organisation's item is a 404, as a
missing one), its file read through its integration's bucket as signed URLs are made
(``open_store``, the URL confined to the bucket by ``key_for_url``), and drawn by
``extract.previews``.  A DICOM series is drawn from its middle file (by position).  Items of
other types, and files that hold no picture, are a 400 naming the file and why.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bucketdex.catalog.catalog import Catalog
from bucketdex.core.records import ItemRecord
from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument, NotFound
from bucketdex.extract.previews import PREVIEW_TYPES, PreviewUnavailable, check_preview_size, render_preview
from bucketdex.server.security import CatalogDep, authenticate
from bucketdex.storage.errors import BucketNotFound

router = APIRouter(dependencies=[Depends(authenticate)])

#: a preview is the file's, which its item names for good: browsers may keep it a while
CACHE_CONTROL = "private, max-age=3600"
PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "the preview, a PNG at most 512 px a side"}
}


@router.get("/items/{item_id}/preview.png", tags=["items"], response_class=Response, responses=PNG)
def item_preview(catalog: CatalogDep, item_id: uuid.UUID) -> Response:
    """A PNG of a DICOM file (its first frame, windowed as the file says), a DICOM series (its
    middle file) or a NIfTI volume (its middle axial slice); 400 ``preview_unavailable`` for
    other items and for files without a picture, naming the file and why."""
    item = catalog.items.get(item_id)  # NotFound (404) for an item not of this organisation
    if item.item_type not in PREVIEW_TYPES:
        raise PreviewUnavailable(
            f"item {item.name!r} ({item.id})",
            f"previews are drawn of DICOM files and series and NIfTI volumes; this is a "
            f"{item.item_type.value} item (its file's signed URL shows it: POST /items/signed-urls)",
        )
    drawn = _middle_file(catalog, item) if item.item_type is ItemType.DICOM_SERIES else item
    png = render_preview(drawn.item_type, _file_bytes(catalog, drawn), name=_named(drawn))
    return Response(png, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})


def _middle_file(catalog: Catalog, series: ItemRecord) -> ItemRecord:
    files = catalog.items.children(series.id)
    if not files:
        raise PreviewUnavailable(f"DICOM series {series.name!r} ({series.id})", "the series has no files")
    return files[len(files) // 2]


def _file_bytes(catalog: Catalog, item: ItemRecord) -> bytes:
    """The item's whole file, read through its integration's bucket."""
    name = _named(item)
    if item.url is None or item.integration_id is None:
        raise PreviewUnavailable(
            name, "it was registered without an integration, so the server cannot read its file"
        )
    try:
        store = catalog.integrations.open_store(item.integration_id)
    except BucketNotFound:
        raise  # a local root that is gone: the storage error names it and the fix
    except NotFound:
        raise PreviewUnavailable(name, "its integration is no longer in the catalog") from None
    with store:
        try:
            key = store.key_for_url(item.url)
        except InvalidArgument as exc:
            raise PreviewUnavailable(name, f"its URL is not in its integration's bucket ({exc})") from None
        check_preview_size(store.head(key).size, name=name)
        return store.read(key)


def _named(item: ItemRecord) -> str:
    return f"{item.url or item.name} (item {item.id})"
