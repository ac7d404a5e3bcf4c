"""Shared by the video and audio extractors: PyAV (FFmpeg's demuxers) over a RangeReader.

Only the container is opened (``avformat_open_input`` + stream probing, with ``probesize``
bounded); no frame is decoded for the answer.  MP4 with the ``moov`` atom at the front costs the
first blocks; with ``moov`` at the end FFmpeg's demuxer skips ``mdat`` with a seek, so the reads
are the head and the tail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bucketdex.extract.errors import ExtractionError, media_library
from bucketdex.extract.source import RangeReader, RangeSource

#: FFmpeg reads at most this much to find the streams' parameters (its default is 5 MB)
PROBE_SIZE = 128 * 1024
BLOCK_SIZE = 32 * 1024
#: FFmpeg names decoders, not codecs: "mp3float" decodes "mp3"
_DECODER_SUFFIX = re.compile(r"(?<=^mp[123])float$|_fixed$")

#: ISO base media brands that are still images (HEIF/AVIF), not video
IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"})
AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})


@dataclass(frozen=True)
class StreamFacts:
    codec: str
    duration: float | None
    frames: int
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    sample_format: str | None = None


@dataclass(frozen=True)
class ContainerFacts:
    format_name: str
    duration: float | None
    bit_rate: int | None
    video: StreamFacts | None
    audio: StreamFacts | None


def probe(source: RangeSource, kind: str) -> ContainerFacts:
    """Open the container and describe its first video and first audio stream."""
    with media_library("av (PyAV)"):
        import av
    if source.size is None:
        raise ExtractionError(kind, "the file size is unknown (needed to seek to the index)")
    reader = RangeReader(source, block_size=BLOCK_SIZE, max_blocks=16)
    options = {"probesize": str(PROBE_SIZE)}
    try:
        with av.open(reader, mode="r", options=options, buffer_size=BLOCK_SIZE) as container:
            video = next((_video(s) for s in container.streams.video), None)
            audio = next((_audio(s) for s in container.streams.audio), None)
            duration = container.duration / av.time_base if container.duration else None
            return ContainerFacts(container.format.name, duration, container.bit_rate or None, video, audio)
    except av.FFmpegError as exc:
        raise ExtractionError(kind, _reason(exc)) from exc
    except (OSError, ValueError, ZeroDivisionError) as exc:
        raise ExtractionError(kind, str(exc) or type(exc).__name__) from exc


def _seconds(stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _video(stream: Any) -> StreamFacts:
    cc = stream.codec_context
    rate: Fraction | None = stream.average_rate or stream.guessed_rate or stream.base_rate
    return StreamFacts(
        codec=cc.name,
        duration=_seconds(stream),
        frames=int(stream.frames or 0),
        fps=float(rate) if rate else None,
        width=cc.width or None,
        height=cc.height or None,
    )


def _audio(stream: Any) -> StreamFacts:
    cc = stream.codec_context
    return StreamFacts(
        codec=_DECODER_SUFFIX.sub("", cc.name),
        duration=_seconds(stream),
        frames=int(stream.frames or 0),
        sample_rate=cc.sample_rate or None,
        channels=cc.layout.nb_channels if cc.layout is not None else cc.channels,
        sample_format=cc.format.name if cc.format is not None else None,
    )


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    log = getattr(exc, "log", None)  # FFmpeg's last log line says more ("moov atom not found")
    if log and len(log) >= 3 and log[2]:
        text = f"{text}: {str(log[2]).strip()}"
    return text


def iso_brand(head: bytes) -> bytes | None:
    """The major brand of an ISO base media file (MP4, MOV, M4A, HEIF), if ``head`` is one."""
    return head[8:12] if head[4:8] == b"ftyp" and len(head) >= 12 else None
