"""NIfTI-1 and NIfTI-2 volumes (``.nii``, ``.nii.gz``): the header only.

A ``.nii`` header is the first 348 (NIfTI-1) or 540 (NIfTI-2) bytes.  A ``.nii.gz`` is streamed
through zlib a few KB at a time until those bytes are decompressed; the voxels are never read.
nibabel's header classes decode the bytes: dimensions, voxel sizes, datatype, units.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any, ClassVar

from bucketdex.core.records import JSONDict, MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract.errors import ExtractionError, media_library
from bucketdex.extract.registry import Extraction, Extractor, registry
from bucketdex.extract.source import RangeSource

KIND = "NIfTI"
MIME = "application/x-nifti"
MIME_GZ = "application/x-nifti+gzip"
HEADER_MAX = 540  # NIfTI-2; NIfTI-1 is 348
GZIP_STEP = 4096
_MAGIC1 = (b"n+1\x00", b"ni1\x00")
_MAGIC2 = b"n+2\x00\r\n\x1a\n"


def _version(header: bytes) -> int | None:
    """1 or 2 when ``header`` (the decompressed first bytes) is a NIfTI header."""
    if len(header) >= 348 and header[:4] in (b"\x5c\x01\x00\x00", b"\x00\x00\x01\x5c"):
        return 1 if header[344:348] in _MAGIC1 else None
    if len(header) >= 12 and header[:4] in (b"\x1c\x02\x00\x00", b"\x00\x00\x02\x1c"):
        return 2 if header[4:12] == _MAGIC2 else None
    return None


def _gunzip_head(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, HEADER_MAX)
    except zlib.error:
        return b""


def _sniff(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return MIME_GZ if _version(_gunzip_head(head)) else None
    return MIME if _version(head) else None


class NiftiExtractor(Extractor):
    name = "nifti"
    item_type = ItemType.NIFTI
    mime_types: ClassVar[tuple[str, ...]] = (MIME, MIME_GZ)
    extensions: ClassVar[tuple[str, ...]] = (".nii", ".nii.gz")
    priority = 20

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return _sniff(head)

    def extract(self, source: RangeSource) -> Extraction:
        first = source.read(0, 2)
        compressed = first == b"\x1f\x8b"
        header = _read_gzip_header(source) if compressed else source.read(0, HEADER_MAX)
        version = _version(header)
        if version is None:
            if len(header) < 348:
                raise ExtractionError(KIND, f"the file ends after {len(header)} bytes, inside the header")
            raise ExtractionError(KIND, "no NIfTI-1 or NIfTI-2 signature (sizeof_hdr and magic)")
        nifti = _decode(header, version)
        nifti["compressed"] = compressed
        media = MediaMetadata(
            file_size=source.size, mime_type=MIME_GZ if compressed else MIME, extra={"nifti": nifti}
        )
        return Extraction(ItemType.NIFTI, media)


def _read_gzip_header(source: RangeSource) -> bytes:
    """Decompress from the start until the longest header is out (or the stream ends)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = b""
    offset = 0
    while len(out) < HEADER_MAX and not inflater.eof:
        chunk = source.read(offset, GZIP_STEP)
        if not chunk:
            break
        offset += len(chunk)
        try:
            out += inflater.decompress(inflater.unconsumed_tail + chunk, HEADER_MAX - len(out))
        except zlib.error as exc:
            raise ExtractionError(KIND, f"corrupt gzip stream ({exc})") from exc
    return out


def _decode(header: bytes, version: int) -> JSONDict:
    with media_library("nibabel"):
        import nibabel
        import numpy as np
    size = 348 if version == 1 else 540
    cls: Any = nibabel.Nifti1Header if version == 1 else nibabel.Nifti2Header
    try:
        hdr = cls.from_fileobj(io.BytesIO(header[:size]), check=False)
        shape = [int(d) for d in hdr.get_data_shape()]
        zooms = [float(z) for z in hdr.get_zooms()]
        dtype = np.dtype(hdr.get_data_dtype()).name
        space, time = hdr.get_xyzt_units()
    except (ValueError, KeyError, TypeError, struct.error, nibabel.spatialimages.HeaderDataError) as exc:
        raise ExtractionError(KIND, str(exc) or type(exc).__name__) from exc
    return {
        "version": version,
        "dims": shape,
        "voxel_sizes": zooms,
        "datatype": dtype,
        "space_units": space,
        "time_units": time,
        "byte_order": "little" if hdr.endianness == "<" else "big",
    }


registry.register(NiftiExtractor())
