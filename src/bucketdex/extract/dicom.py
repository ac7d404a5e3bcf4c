"""DICOM files: pydicom with ``stop_before_pixels`` over ranged reads.

Reads the data elements up to the pixel data (usually the first few KB of a file whose bulk is
pixels).  Study, series and SOP instance UIDs, rows, columns and frame count go into the
catalog's columns; a whitelist of technical tags into ``extra["dicom"]``; the patient module
(group 0010: name, ID, birth date, sex, ...) only into :attr:`Extraction.patient`, which callers
keep out of client metadata.  Nothing else is exported, so other identifying tags (institution,
physicians, dates) stay in the file.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from bucketdex.core.records import JSONDict, MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract.errors import ExtractionError, media_library
from bucketdex.extract.registry import Extraction, Extractor, registry
from bucketdex.extract.source import RangeReader, RangeSource

KIND = "DICOM"
MIME = "application/dicom"
PATIENT_GROUP = 0x0010

#: technical tags exported in ``extra["dicom"]`` (no names, no dates, no free text about people)
TECHNICAL_TAGS = (
    "Modality",
    "SOPClassUID",
    "FrameOfReferenceUID",
    "SeriesNumber",
    "InstanceNumber",
    "AcquisitionNumber",
    "ImageType",
    "BodyPartExamined",
    "Manufacturer",
    "ManufacturerModelName",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "SliceLocation",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "RescaleSlope",
    "RescaleIntercept",
    "NumberOfFrames",
)


def _sniff(head: bytes, name: str) -> str | None:
    if head[128:132] == b"DICM":
        return MIME
    # files without the 128-byte preamble: known only by name, starting with a group 2 or 8 tag
    if name.lower().endswith((".dcm", ".dicom")) and head[:2] in (b"\x02\x00", b"\x08\x00"):
        return MIME
    return None


class DicomExtractor(Extractor):
    name = "dicom"
    item_type = ItemType.DICOM_FILE
    mime_types: ClassVar[tuple[str, ...]] = (MIME,)
    extensions: ClassVar[tuple[str, ...]] = (".dcm", ".dicom")
    priority = 10  # the signature sits at byte 128: sniff before formats that look at byte 0

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return _sniff(head, name)

    def extract(self, source: RangeSource) -> Extraction:
        with media_library("pydicom"):
            import pydicom
            from pydicom.errors import InvalidDicomError
        head = source.read(0, 132)
        force = head[128:132] != b"DICM"
        reader = RangeReader(source, block_size=16 * 1024)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(reader, stop_before_pixels=True, force=force)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
            raise ExtractionError(KIND, _reason(exc)) from exc
        at_end = source.size is not None and reader.tell() >= source.size
        if at_end and "PixelData" not in ds and _expects_pixels(ds):
            # stop_before_pixels stops *at* the pixel data; reaching the end instead means the
            # file was cut short
            raise ExtractionError(KIND, f"the file ends after {source.size} bytes, before the pixel data")
        if "SOPInstanceUID" not in ds:
            raise ExtractionError(KIND, "no SOPInstanceUID (0008,0018): truncated, or not a DICOM instance")
        frames = _int(ds.get("NumberOfFrames")) or (1 if "Rows" in ds else None)
        media = MediaMetadata(
            file_size=source.size,
            mime_type=MIME,
            width=_int(ds.get("Columns")),
            height=_int(ds.get("Rows")),
            frame_count=frames,
            dicom_study_uid=_str(ds.get("StudyInstanceUID")),
            dicom_series_uid=_str(ds.get("SeriesInstanceUID")),
            dicom_instance_uid=_str(ds.get("SOPInstanceUID")),
            extra={"dicom": _technical(ds)},
        )
        patient = {el.keyword or str(el.tag): _json(el.value) for el in ds if el.tag.group == PATIENT_GROUP}
        return Extraction(ItemType.DICOM_FILE, media, patient=patient)


def _expects_pixels(ds: Any) -> bool:
    sop_class = ds.get("SOPClassUID")
    return "Rows" in ds or "Image Storage" in str(getattr(sop_class, "name", ""))


def _technical(ds: Any) -> JSONDict:
    tags: JSONDict = {k: _json(ds.get(k)) for k in TECHNICAL_TAGS if k in ds and ds.get(k) not in (None, "")}
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        tags["TransferSyntaxUID"] = str(meta.TransferSyntaxUID)
    return tags


def _json(value: Any) -> Any:
    """A DICOM value as JSON: numbers stay numbers, multi-values lists, sequences lists of dicts."""
    from pydicom.dataset import Dataset
    from pydicom.valuerep import PersonName

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, int):  # also pydicom's IS
        return int(value)
    if isinstance(value, float):  # also pydicom's DS
        number = float(value)
        return number if number == number else None  # NaN is not JSON
    if isinstance(value, str):  # also pydicom's UID
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Dataset):
        return {el.keyword or str(el.tag): _json(el.value) for el in value}
    if isinstance(value, list | tuple) or (hasattr(value, "__iter__") and hasattr(value, "__len__")):
        return [_json(v) for v in value]
    return str(value)  # PersonName and other value classes


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, EOFError):
        return f"the file ends inside the header ({text})"
    return text


registry.register(DicomExtractor())
