"""Video: fps, duration, width, height, codec, frame count, mime, size (PyAV, see ``_av``).

The frame count is the container's own (MP4 sample tables) when it has one, else estimated from
duration × fps (``extra["frame_count_estimated"]``).
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract import _av
from bucketdex.extract.errors import ExtractionError, WrongMediaKind
from bucketdex.extract.registry import HEAD_SIZE, Extraction, Extractor, registry
from bucketdex.extract.source import RangeSource

KIND = "video"


def sniff_video(head: bytes) -> str | None:
    brand = _av.iso_brand(head)
    if brand is not None:
        if brand in _av.IMAGE_BRANDS or brand in _av.AUDIO_BRANDS:
            return None
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:4] == b"OggS" and b"\x80theora" in head:
        return "video/ogg"
    if head[:3] == b"FLV":
        return "video/x-flv"
    if head[:4] == b"\x00\x00\x01\xba":
        return "video/mpeg"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "video/mp2t"
    return None


class VideoExtractor(Extractor):
    name = "video"
    item_type = ItemType.VIDEO
    mime_types: ClassVar[tuple[str, ...]] = (
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/x-msvideo",
        "video/ogg",
        "video/x-flv",
        "video/mpeg",
        "video/mp2t",
    )
    extensions: ClassVar[tuple[str, ...]] = (
        ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".ogv", ".flv", ".mpg", ".mpeg", ".ts",
    )  # fmt: skip
    also_reads: ClassVar[tuple[str, ...]] = ("audio/mp4",)  # an .m4a is an MP4: if it has video
    priority = 60

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return sniff_video(head)

    def extract(self, source: RangeSource) -> Extraction:
        head = source.read(0, min(HEAD_SIZE, source.size or HEAD_SIZE))
        mime = sniff_video(head) or ("audio/mp4" if _av.iso_brand(head) in _av.AUDIO_BRANDS else None)
        if mime is None:
            raise ExtractionError(KIND, "not a video container this extractor knows")
        if _av.iso_brand(head) is not None:
            _check_boxes(source)
        facts = _av.probe(source, KIND)
        video = facts.video
        if video is None and facts.audio is None:
            raise ExtractionError(KIND, f"no stream found in the {facts.format_name} container")
        if video is None:
            actual = mime.replace("video/", "audio/") if facts.audio is not None else mime
            raise WrongMediaKind("a video", actual)
        if not (video.width and video.height):
            raise ExtractionError(KIND, f"no frame size in the {video.codec} stream")
        duration = video.duration or facts.duration
        frames, estimated = video.frames, False
        if not frames and duration and video.fps:
            frames, estimated = round(duration * video.fps), True
        extra: dict[str, Any] = {"codec": video.codec, "container": facts.format_name}
        if estimated:
            extra["frame_count_estimated"] = True
        if facts.audio is not None:
            extra["audio_codec"] = facts.audio.codec
        if facts.bit_rate:
            extra["bit_rate"] = facts.bit_rate
        media = MediaMetadata(
            file_size=source.size,
            mime_type=mime,
            width=video.width,
            height=video.height,
            fps=video.fps,
            duration=duration,
            frame_count=frames or None,
            extra=extra,
        )
        return Extraction(ItemType.VIDEO, media)


_MAX_BOXES = 64


def _check_boxes(source: RangeSource) -> None:
    """Walk the top-level boxes of an MP4/MOV (a 16-byte read each): a box that runs past the
    end of the file means the file was cut short, even when the index (moov) is intact."""
    size = source.size
    if size is None:
        return
    pos = 0
    for _ in range(_MAX_BOXES):
        if pos >= size:
            return
        header = source.read(pos, 16)
        if len(header) < 8:
            raise ExtractionError(KIND, f"the file ends at byte {size}, inside a box header")
        length, box = struct.unpack(">I4s", header[:8])
        if length == 1 and len(header) == 16:
            (length,) = struct.unpack(">Q", header[8:16])
        elif length == 0:  # the box runs to the end of the file
            return
        if length < 8:
            raise ExtractionError(KIND, f"invalid box size {length} at byte {pos}")
        if pos + length > size:
            name = box.decode("latin-1")
            raise ExtractionError(
                KIND,
                f"the file ends at byte {size}, inside the {name!r} box that runs to byte {pos + length}",
            )
        pos += length


registry.register(VideoExtractor())
