"""Audio: duration, sample rate, bit depth, codec, channel count, mime, size.

PyAV (see ``_av``) reads the container; the bit depth, which FFmpeg reports only as the decoded
sample format, comes from the header itself: the WAV ``fmt`` chunk, FLAC ``STREAMINFO``, the
PCM codec's name.  Lossy codecs (MP3, AAC, Vorbis, Opus) have no bit depth: ``None``.  An MP4,
WebM or Ogg container registered as audio is read for its first audio stream.
"""

from __future__ import annotations

import re
import struct
from typing import Any, ClassVar

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.extract import _av
from bucketdex.extract.errors import ExtractionError, WrongMediaKind
from bucketdex.extract.registry import HEAD_SIZE, Extraction, Extractor, registry
from bucketdex.extract.source import RangeSource

KIND = "audio"
_PCM = re.compile(r"^pcm_[suf](\d+)")


def _mp3_sync(head: bytes) -> bool:
    """An MPEG audio layer II/III frame header (layer I is left out: ``FF FE`` is a UTF-16 BOM)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    layer, bitrate, rate = (head[1] >> 1) & 3, head[2] >> 4, (head[2] >> 2) & 3
    return layer in (1, 2) and bitrate not in (0, 15) and rate != 3


def sniff_audio(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if _av.iso_brand(head) in _av.AUDIO_BRANDS:
        return "audio/mp4"
    if head[:3] == b"ID3":
        return "audio/flac" if head[10 + _id3_size(head) :][:4] == b"fLaC" else "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS
    if _mp3_sync(head):
        return "audio/mpeg"
    return None


def _id3_size(head: bytes) -> int:
    size = head[6:10]
    return (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3]) if len(size) == 4 else 0


class AudioExtractor(Extractor):
    name = "audio"
    item_type = ItemType.AUDIO
    mime_types: ClassVar[tuple[str, ...]] = (
        "audio/wav",
        "audio/flac",
        "audio/mpeg",
        "audio/ogg",
        "audio/mp4",
        "audio/aac",
        "audio/aiff",
    )
    extensions: ClassVar[tuple[str, ...]] = (
        ".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif", ".aiff",
    )  # fmt: skip
    also_reads: ClassVar[tuple[str, ...]] = (
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/ogg",
    )
    priority = 70

    def sniff(self, head: bytes, name: str = "") -> str | None:
        return sniff_audio(head)

    def extract(self, source: RangeSource) -> Extraction:
        head = source.read(0, min(HEAD_SIZE, source.size or HEAD_SIZE))
        from bucketdex.extract.video import sniff_video

        mime = sniff_audio(head) or sniff_video(head)
        if mime is None:
            raise ExtractionError(KIND, "not an audio format this extractor knows")
        facts = _av.probe(source, KIND)
        audio = facts.audio
        if audio is None and facts.video is None:
            raise ExtractionError(KIND, f"no stream found in the {facts.format_name} container")
        if audio is None:
            raise WrongMediaKind("an audio file", mime)
        if not audio.sample_rate:
            raise ExtractionError(KIND, f"no sample rate in the {audio.codec} stream")
        extra: dict[str, Any] = {"container": facts.format_name}
        if facts.bit_rate:
            extra["bit_rate"] = facts.bit_rate
        if facts.video is not None:
            extra["video_codec"] = facts.video.codec
        media = MediaMetadata(
            file_size=source.size,
            mime_type=mime,
            duration=audio.duration or facts.duration,
            audio_sample_rate=audio.sample_rate,
            audio_bit_depth=_bit_depth(head, audio.codec),
            audio_codec=audio.codec,
            audio_num_channels=audio.channels,
            extra=extra,
        )
        return Extraction(ItemType.AUDIO, media)


def _bit_depth(head: bytes, codec: str) -> int | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _wav_bits(head)
    if codec == "flac":
        start = head.find(b"fLaC")
        if start >= 0 and len(head) >= start + 8 + 18:
            info = int.from_bytes(head[start + 8 + 10 : start + 8 + 18], "big")
            return ((info >> 36) & 0x1F) + 1
    match = _PCM.match(codec)
    return int(match.group(1)) if match else None


def _wav_bits(head: bytes) -> int | None:
    pos = 12
    while pos + 8 <= len(head):
        chunk, size = struct.unpack_from("<4sI", head, pos)
        if chunk == b"fmt " and pos + 8 + 16 <= len(head):
            fmt_tag, bits = (
                struct.unpack_from("<H", head, pos + 8)[0],
                struct.unpack_from("<H", head, pos + 22)[0],
            )
            if fmt_tag == 0xFFFE and size >= 20 and pos + 8 + 20 <= len(head):  # WAVE_FORMAT_EXTENSIBLE
                valid = struct.unpack_from("<H", head, pos + 26)[0]
                return int(valid or bits)
            return int(bits)
        pos += 8 + size + (size & 1)
    return None


registry.register(AudioExtractor())
