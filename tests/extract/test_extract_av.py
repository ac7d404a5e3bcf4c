"""Video and audio headers from files the FFmpeg in PyAV encoded: values and bytes read."""

from __future__ import annotations

from pathlib import Path

import pytest

from av_media import AudioSpec, encode
from bucketdex.core.types import ItemType
from bucketdex.extract import (
    BytesSource,
    CountingSource,
    ExtractionError,
    FileSource,
    WrongMediaKind,
    extract_for,
)
from conftest import AvCase

KB = 1024


@pytest.mark.parametrize("key", ["moov_end", "moov_front", "webm", "mov", "mp4_with_audio"])
def test_video_facts(videos: dict[str, AvCase], key: str) -> None:
    case = videos[key]
    with FileSource(case.path) as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.VIDEO, counted)
    media = result.media
    assert result.item_type is ItemType.VIDEO
    assert (media.width, media.height) == (case.width, case.height)
    assert media.fps == pytest.approx(case.fps)
    assert media.duration == pytest.approx(case.duration, abs=0.1)
    assert media.frame_count == pytest.approx(case.frames, abs=1)
    assert media.mime_type == case.mime
    assert media.file_size == case.path.stat().st_size
    assert result.extra["codec"] == case.codec
    assert counted.bytes_read <= max(0.05 * case.path.stat().st_size, 256 * KB)


@pytest.mark.parametrize("key", ["moov_end", "moov_front"])
def test_big_mp4_reads_under_5_percent_head_and_tail(videos: dict[str, AvCase], key: str) -> None:
    case = videos[key]
    size = case.path.stat().st_size
    with FileSource(case.path) as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.VIDEO, counted)
    assert result.media.frame_count == 350  # from the MP4 sample table, not estimated
    assert "frame_count_estimated" not in result.extra
    assert counted.bytes_read <= 0.05 * size
    assert counted.bytes_read <= 160 * KB


def test_video_audio_track_is_named(videos: dict[str, AvCase]) -> None:
    with FileSource(videos["mp4_with_audio"].path) as f:
        assert extract_for(ItemType.VIDEO, f).extra["audio_codec"] == "aac"


def test_truncated_mp4_is_a_header_error(videos: dict[str, AvCase]) -> None:
    end = videos["moov_end"].path.read_bytes()
    with pytest.raises(ExtractionError, match=r"^cannot read video header: ") as err:
        extract_for(ItemType.VIDEO, BytesSource(end[: len(end) // 2], "cut.mp4"))
    assert "'mdat'" in str(err.value)
    front = videos["moov_front"].path.read_bytes()  # the index is intact, the pixels are not
    with pytest.raises(
        ExtractionError,
        match=r"^cannot read video header: the file ends at byte 300000, inside the 'mdat' box",
    ):
        extract_for(ItemType.VIDEO, BytesSource(front[:300_000], "cut.mp4"))


def test_corrupt_video_is_a_header_error() -> None:
    junk = (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
        + b"\x00\x00\x00\x10moov\xff\xff\xff\xff\xff\xff\xff\xff"
    )
    with pytest.raises(ExtractionError, match=r"^cannot read video header: "):
        extract_for(ItemType.VIDEO, BytesSource(junk, "junk.mp4"))


def test_an_mp4_where_an_image_was_expected(videos: dict[str, AvCase]) -> None:
    with pytest.raises(WrongMediaKind) as err:
        extract_for(ItemType.IMAGE, FileSource(videos["mov"].path))
    assert str(err.value) == "Expected an image, got a file of type video/quicktime"
    with pytest.raises(WrongMediaKind) as err, FileSource(videos["moov_front"].path) as f:
        extract_for(ItemType.IMAGE, f)
    assert str(err.value) == "Expected an image, got a file of type video/mp4"


@pytest.mark.parametrize("key", ["wav16", "wav24", "flac16", "flac24", "mp3", "ogg", "m4a"])
def test_audio_facts(audios: dict[str, AvCase], key: str) -> None:
    case = audios[key]
    with FileSource(case.path) as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.AUDIO, counted)
    media = result.media
    assert result.item_type is ItemType.AUDIO
    assert media.mime_type == case.mime
    assert media.audio_codec == case.codec
    assert media.audio_sample_rate == case.sample_rate
    assert media.audio_num_channels == case.channels
    assert media.audio_bit_depth == case.bit_depth
    assert media.duration == pytest.approx(case.duration, abs=0.06)
    assert media.file_size == case.path.stat().st_size
    assert counted.bytes_read <= 192 * KB


def test_long_wav_reads_a_small_part(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    encode(path, 60, audio=AudioSpec("sine=frequency=440:sample_rate=44100", "pcm_s16le", channels=2))
    with FileSource(path) as f:
        counted = CountingSource(f)
        result = extract_for(ItemType.AUDIO, counted)
    assert result.media.duration == pytest.approx(60.0, abs=0.01)
    assert counted.bytes_read <= 0.05 * path.stat().st_size


def test_audio_from_a_video_container(videos: dict[str, AvCase]) -> None:
    with FileSource(videos["webm"].path) as f:
        result = extract_for(ItemType.AUDIO, f)
    assert (result.media.audio_codec, result.media.audio_sample_rate) == ("opus", 48000)
    assert result.extra["video_codec"] == "vp8"
    with pytest.raises(WrongMediaKind, match=r"^Expected an audio file, got a file of type video/quicktime$"):
        extract_for(ItemType.AUDIO, FileSource(videos["mov"].path))


def test_audio_where_a_video_was_expected(audios: dict[str, AvCase]) -> None:
    with pytest.raises(WrongMediaKind, match=r"^Expected a video, got a file of type audio/mpeg$"):
        extract_for(ItemType.VIDEO, FileSource(audios["mp3"].path))
    with pytest.raises(WrongMediaKind, match=r"^Expected a video, got a file of type audio/mp4$"):
        extract_for(ItemType.VIDEO, FileSource(audios["m4a"].path))


@pytest.mark.parametrize("key", ["wav16", "mp3", "flac16"])
def test_truncated_audio_is_a_header_error(audios: dict[str, AvCase], key: str) -> None:
    data = audios[key].path.read_bytes()
    with pytest.raises(ExtractionError, match=r"^cannot read audio header: "):
        extract_for(ItemType.AUDIO, BytesSource(data[:30], audios[key].path.name))
