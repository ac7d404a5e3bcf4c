"""PNG previews of DICOM files and NIfTI volumes, for the web UI's item viewer (docs/ui.md).

A browser shows neither format, so the server renders one 8-bit picture of each:

* DICOM: the first frame (only that frame is decoded), through the modality LUT (rescale slope
  and intercept), then the VOI LUT or the first window (center/width) the file carries; without
  either, the 1st to 99th percentile.  MONOCHROME1 is inverted; PALETTE COLOR goes through its
  palette; colour images stay colour.
* NIfTI (1 and 2, ``.nii`` or ``.nii.gz``): the middle axial slice of the first volume, picked
  with the affine (the voxel axis nearest superior-inferior), shown as radiologists view an
  axial slice (anterior at the top, the patient's right on the image's left), at the voxels'
  physical aspect ratio; windowed to the 1st to 99th percentile.

Each is scaled down to at most ``MAX_SIDE`` pixels a side.  Anything that cannot be drawn is a
:class:`PreviewUnavailable` naming the file and why.
"""

from __future__ import annotations

import gzip
import io
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from bucketdex.core.types import ItemType
from bucketdex.errors import InvalidArgument
from bucketdex.extract.errors import media_library

if TYPE_CHECKING:
    import numpy as np

MAX_SIDE = 512
#: the largest file a preview is made of (it is read whole, into memory)
MAX_PREVIEW_BYTES = 512 * 1024 * 1024
#: the most pixels of a frame or slice decoded for a preview
MAX_PIXELS = 64 * 1024 * 1024
PREVIEW_TYPES = frozenset({ItemType.DICOM_FILE, ItemType.DICOM_SERIES, ItemType.NIFTI})
PERCENTILES = (1.0, 99.0)


class PreviewUnavailable(InvalidArgument):
    """No preview can be drawn of a file: the message names the file and why."""

    code = "preview_unavailable"
    detail_fields: ClassVar[tuple[str, ...]] = ("file", "reason")

    def __init__(self, file: str, reason: str) -> None:
        self.file, self.reason = file, reason
        super().__init__(f"no preview of {file}: {reason}")


def render_preview(item_type: ItemType, data: bytes, *, name: str, max_side: int = MAX_SIDE) -> bytes:
    """The PNG preview of a file of ``item_type`` (``name`` is how errors call it)."""
    if item_type in (ItemType.DICOM_FILE, ItemType.DICOM_SERIES):
        return dicom_preview(data, name=name, max_side=max_side)
    if item_type is ItemType.NIFTI:
        return nifti_preview(data, name=name, max_side=max_side)
    raise PreviewUnavailable(
        name,
        f"previews are drawn of DICOM files and series and NIfTI volumes, not of a {item_type.value} item",
    )


def check_preview_size(size: int | None, *, name: str) -> None:
    """Refuse, before reading it, a file too large to be read whole for a preview."""
    if size is not None and size > MAX_PREVIEW_BYTES:
        raise PreviewUnavailable(
            name,
            f"the file is {size / 2**20:.0f} MiB; previews are drawn of files up to "
            f"{MAX_PREVIEW_BYTES // 2**20} MiB",
        )


# DICOM ---------------------------------------------------------------------------------------


def dicom_preview(data: bytes, *, name: str, max_side: int = MAX_SIDE) -> bytes:
    """The first frame of a DICOM file as a PNG."""
    with media_library("pydicom"):
        import pydicom
        from pydicom.errors import InvalidDicomError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise PreviewUnavailable(name, f"not a readable DICOM file ({_reason(exc)})") from exc
    if data[128:132] != b"DICM" and "SOPClassUID" not in ds and "PixelData" not in ds:
        raise PreviewUnavailable(name, "not a DICOM file (no DICM signature at byte 128, no SOP class)")
    if not any(tag in ds for tag in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        modality = ds.get("Modality") or "unknown"
        raise PreviewUnavailable(
            name, f"the DICOM file has no pixel data (modality {modality}): it is not an image"
        )
    rows, columns = _int(ds.get("Rows")), _int(ds.get("Columns"))
    if rows * columns > MAX_PIXELS:
        raise PreviewUnavailable(name, f"a frame of {columns} x {rows} pixels is too large to preview")
    frame = _first_frame(ds, name)
    return _png(_dicom_8bit(frame, ds), max_side)


def _first_frame(ds: Any, name: str) -> np.ndarray:
    from pydicom.pixels.utils import pixel_array

    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pixel_array(ds, index=0)  # only the first frame is decoded
    except (RuntimeError, NotImplementedError) as exc:
        described = f"{syntax.name} ({syntax})" if syntax is not None else "its transfer syntax"
        if syntax is not None and syntax.is_compressed:
            raise PreviewUnavailable(
                name,
                f"its pixel data is compressed as {described} and no installed decoder could read it "
                "(install a decoder pydicom names for it, e.g. pylibjpeg with its plugins, or GDCM): "
                + _first_line(exc),
            ) from exc
        raise PreviewUnavailable(name, f"its pixel data cannot be decoded: {_first_line(exc)}") from exc
    except (ValueError, AttributeError, KeyError, TypeError, IndexError) as exc:
        raise PreviewUnavailable(name, f"its pixel data cannot be decoded: {_first_line(exc)}") from exc


def _dicom_8bit(frame: np.ndarray, ds: Any) -> np.ndarray:
    """A decoded frame as 8-bit grey or RGB, as a viewer would first show it."""
    import numpy as np
    from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi_lut

    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if photometric == "PALETTE COLOR":
        coloured = apply_color_lut(frame, ds)
        return _stretch(coloured, *_range_of(coloured, whole=True))
    if frame.ndim == 3:  # colour samples (pydicom converts YBR to RGB), over their stored bits
        return _stretch(frame, 0.0, float(2 ** (_int(ds.get("BitsStored")) or 8) - 1))
    values = np.asarray(apply_modality_lut(frame, ds), dtype=np.float64)
    center, width = _window(ds)
    if "VOILUTSequence" in ds and center is None:
        values = np.asarray(apply_voi_lut(values, ds, index=0), dtype=np.float64)
        grey = _stretch(values, *_range_of(values, whole=True))
    elif center is not None and width is not None:
        # the linear window of PS3.3 C.11.2.1.2.1 (a width of 1 is a threshold at center - 0.5)
        low, high = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
        grey = _stretch(values, low, high) if high > low else np.where(values > low, 255, 0).astype(np.uint8)
    else:
        grey = _stretch(values, *_range_of(values))
    return 255 - grey if photometric == "MONOCHROME1" else grey


def _window(ds: Any) -> tuple[float | None, float | None]:
    """The first window of the file (center, width), or Nones; widths below 1 are not windows."""
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if center is None or width is None or width < 1:
        return None, None
    return center, width


def _first(value: Any) -> float | None:
    """The first of a DICOM value that may hold several (pydicom's MultiValue), as a float."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | bytes | int | float) and hasattr(value, "__len__"):
        value = value[0] if len(value) else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


# NIfTI ---------------------------------------------------------------------------------------


def nifti_preview(data: bytes, *, name: str, max_side: int = MAX_SIDE) -> bytes:
    """The middle axial slice of a NIfTI volume's first volume as a PNG."""
    image = _nifti_image(data, name)
    import numpy as np  # nibabel's own dependency

    shape = image.shape
    if len(shape) < 2 or min(shape[:2]) < 1:
        raise PreviewUnavailable(name, f"the volume's dimensions {list(shape)} hold no 2-D slice")
    if not np.issubdtype(image.get_data_dtype(), np.number) or np.issubdtype(
        image.get_data_dtype(), np.complexfloating
    ):
        raise PreviewUnavailable(
            name, f"its voxels are {image.get_data_dtype()}; previews are drawn of real-valued volumes"
        )
    orientation = _orientation(image.affine)
    axial = _axial_axis(orientation, len(shape))
    in_plane = [axis for axis in range(min(len(shape), 3)) if axis != axial]
    if shape[in_plane[0]] * shape[in_plane[1]] > MAX_PIXELS:
        raise PreviewUnavailable(
            name, f"a slice of {shape[in_plane[0]]} x {shape[in_plane[1]]} voxels is too large"
        )
    index: list[Any] = [slice(None)] * len(shape)
    if axial is not None:
        index[axial] = shape[axial] // 2
    for extra in range(3, len(shape)):
        index[extra] = 0  # the first volume of a 4-D (or higher) series
    try:
        plane = np.asarray(image.dataobj[tuple(index)], dtype=np.float64)
    except (OSError, ValueError, EOFError, gzip.BadGzipFile) as exc:
        raise PreviewUnavailable(name, f"its voxels cannot be read ({_reason(exc)})") from exc
    plane, (row_axis, column_axis) = _as_displayed(plane, orientation, in_plane, axial)
    grey = _stretch(plane, *_range_of(plane))
    zooms = [float(z) for z in image.header.get_zooms()[:3]] + [1.0, 1.0, 1.0]
    return _png(grey, max_side, aspect=_aspect(zooms[row_axis], zooms[column_axis]))


def _nifti_image(data: bytes, name: str) -> Any:
    """The volume (its voxels left in ``data`` until a slice is read)."""
    with media_library("nibabel"):
        import nibabel

    stream: io.BufferedIOBase = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=io.BytesIO(data))
    try:
        first = stream.read(4)
    except (OSError, EOFError) as exc:
        raise PreviewUnavailable(name, f"not a readable NIfTI file ({_reason(exc)})") from exc
    sizes = {int.from_bytes(first, "little"), int.from_bytes(first, "big")}
    kind: Any = nibabel.Nifti1Image if 348 in sizes else nibabel.Nifti2Image if 540 in sizes else None
    if kind is None:
        raise PreviewUnavailable(
            name, "not a NIfTI-1 or NIfTI-2 file (its header size is neither 348 nor 540)"
        )
    stream.seek(0)
    holder = nibabel.FileHolder(fileobj=stream)
    try:
        return kind.from_file_map({"header": holder, "image": holder})
    except (
        nibabel.filebasedimages.ImageFileError,
        nibabel.spatialimages.HeaderDataError,
        ValueError,
        OSError,
        EOFError,
    ) as exc:
        raise PreviewUnavailable(name, f"not a readable NIfTI file ({_reason(exc)})") from exc


def _orientation(affine: Any) -> np.ndarray:
    """Per voxel axis: the world axis nearest it (0 R-L, 1 A-P, 2 S-I, NaN: none) and its sign."""
    import nibabel.orientations

    io_orientation: Any = nibabel.orientations.io_orientation  # untyped in nibabel
    found: np.ndarray = io_orientation(affine)
    return found


def _axial_axis(orientation: np.ndarray, ndim: int) -> int | None:
    """The voxel axis nearest superior-inferior (None for a 2-D image)."""
    if ndim < 3:
        return None
    found = [axis for axis in range(3) if orientation[axis, 0] == 2]
    return found[0] if found else 2  # a degenerate affine: the third axis


def _as_displayed(
    plane: np.ndarray, orientation: np.ndarray, in_plane: list[int], axial: int | None
) -> tuple[np.ndarray, tuple[int, int]]:
    """The slice with anterior at the top and the patient's right on the left, when the affine
    says where those are (else the voxel order, first axis across), and the voxel axes of its
    rows and columns."""
    import numpy as np

    if axial is None or np.isnan(orientation[in_plane]).any():
        return plane.T, (in_plane[1], in_plane[0])
    # put the right-left axis first and make both grow towards right and anterior
    if orientation[in_plane[0], 0] != 0:
        plane = plane.T
        in_plane = in_plane[::-1]
    for position, axis in enumerate(in_plane):
        if orientation[axis, 1] < 0:
            plane = np.flip(plane, axis=position)
    return plane[::-1, ::-1].T, (in_plane[1], in_plane[0])  # rows: anterior first; columns: right first


# shared --------------------------------------------------------------------------------------


def _range_of(values: np.ndarray, *, whole: bool = False) -> tuple[float, float]:
    """The values shown from black to white: the whole range of the finite values (``whole``),
    else their 1st to 99th percentile."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    if whole:
        return float(finite.min()), float(finite.max())
    low, high = np.percentile(finite, PERCENTILES)
    return float(low), float(high)


def _stretch(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` mapped linearly from ``low``..``high`` onto 0..255 (clipped), as uint8."""
    import numpy as np

    span = high - low
    scaled = (
        np.zeros(values.shape) if span <= 0 else (np.asarray(values, dtype=np.float64) - low) * (255.0 / span)
    )
    return np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255).astype(np.uint8)


def _aspect(row_spacing: float, column_spacing: float) -> float:
    """How much taller than wide one pixel is (1 when the spacings are unusable)."""
    if row_spacing > 0 and column_spacing > 0:
        return min(max(row_spacing / column_spacing, 0.1), 10.0)
    return 1.0


def _png(pixels: np.ndarray, max_side: int, *, aspect: float = 1.0) -> bytes:
    """8-bit grey (2-D) or RGB (3-D) pixels as a PNG at most ``max_side`` a side."""
    with media_library("Pillow"):
        from PIL import Image
    picture = Image.fromarray(pixels, "RGB" if pixels.ndim == 3 else "L")
    width, height = picture.size
    height = max(1, round(height * aspect))
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != picture.size:
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)
    return out.getvalue()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
