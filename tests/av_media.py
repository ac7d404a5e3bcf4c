"""Video and audio fixtures encoded with the FFmpeg libraries PyAV ships (no ffmpeg binary).

The sources are FFmpeg's own lavfi test generators (``testsrc2``, ``sine``), as the ffmpeg
command line would use them, so every fixture is a real encode by a real codec.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer, OutputContainer


@dataclass(frozen=True)
class VideoSpec:
    source: str  # a lavfi video source, e.g. "testsrc2=size=640x480:rate=25"
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    options: dict[str, str] = field(default_factory=dict)  # the codec's private options


@dataclass(frozen=True)
class AudioSpec:
    source: str  # a lavfi audio source, e.g. "sine=frequency=440:sample_rate=48000"
    codec: str
    channels: int = 1
    sample_format: str | None = None  # None: the codec's first supported format
    bit_rate: int | None = None
    options: dict[str, str] = field(default_factory=dict)


def encode(
    out: Path,
    seconds: float,
    video: VideoSpec | None = None,
    audio: AudioSpec | None = None,
    faststart: bool = False,
) -> Path:
    """``seconds`` of the sources encoded into ``out`` (container chosen by its extension)."""
    options = {"movflags": "+faststart"} if faststart else {}
    with ExitStack() as stack:
        container = stack.enter_context(av.open(str(out), "w", options=options))
        # every stream is added before the first packet: the header is written then
        jobs = []
        if video is not None:
            source = stack.enter_context(av.open(f"{video.source}:duration={seconds}", format="lavfi"))
            jobs.append(_video_stream(container, source, video))
        if audio is not None:
            source = stack.enter_context(av.open(f"{audio.source}:duration={seconds}", format="lavfi"))
            jobs.append(_audio_stream(container, source, audio))
        for job in jobs:
            job()
    return out


def remux(source: Path, out: Path, faststart: bool = True) -> Path:
    """Packets copied into a new container (``ffmpeg -c copy``), the index first with faststart."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(source)) as inp, av.open(str(out), "w", options=options) as container:
        streams = {s.index: container.add_stream_from_template(s) for s in inp.streams}
        for s in inp.streams:
            streams[s.index].time_base = s.time_base
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            container.mux(packet)
    return out


def _video_stream(container: OutputContainer, source: InputContainer, spec: VideoSpec) -> Callable[[], None]:
    src = source.streams.video[0]
    rate = Fraction(src.average_rate or 25)
    stream = container.add_stream(spec.codec, rate=rate, options=dict(spec.options))
    stream.width, stream.height = src.codec_context.width, src.codec_context.height
    stream.pix_fmt = spec.pix_fmt
    stream.codec_context.time_base = 1 / rate

    def run() -> None:
        for n, frame in enumerate(source.decode(src)):
            out = frame.reformat(format=spec.pix_fmt)
            out.pts, out.time_base = n, stream.codec_context.time_base
            container.mux(stream.encode(out))
        container.mux(stream.encode(None))

    return run


def _audio_stream(container: OutputContainer, source: InputContainer, spec: AudioSpec) -> Callable[[], None]:
    src = source.streams.audio[0]
    rate = src.codec_context.sample_rate
    stream = container.add_stream(spec.codec, rate=rate, options=dict(spec.options))
    stream.layout = "stereo" if spec.channels == 2 else "mono"
    stream.codec_context.time_base = Fraction(1, rate)
    if spec.sample_format:
        stream.format = spec.sample_format
    if spec.bit_rate:
        stream.bit_rate = spec.bit_rate

    def run() -> None:
        for frame in source.decode(src):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    return run
