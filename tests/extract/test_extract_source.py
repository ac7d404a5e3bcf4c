"""Ranged sources: counting, the head cache, the file-object adapter, growing windows."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from bucketdex.extract import (
    BytesSource,
    CountingSource,
    ExtractionError,
    FileSource,
    PrefetchedSource,
    RangeReader,
    RangeSource,
    Window,
)
from bucketdex.extract.source import read_head

DATA = random.Random(7).randbytes(200_000)


def test_sources_satisfy_the_protocol_and_read_ranges(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(DATA)
    with FileSource(path) as f:
        for source in (BytesSource(DATA, "mem"), f, CountingSource(f)):
            assert isinstance(source, RangeSource)
            assert source.size == len(DATA)
            assert source.read(100, 50) == DATA[100:150]
            assert source.read(len(DATA) - 10, 100) == DATA[-10:]  # short only at the end
            assert source.read(len(DATA) + 5, 10) == b""
    assert FileSource(path).name == str(path)
    with pytest.raises(ValueError, match="invalid range"):
        BytesSource(DATA).read(-1, 4)


def test_counting_source_counts_bytes_and_reads() -> None:
    counted = CountingSource(BytesSource(DATA))
    counted.read(0, 1000)
    counted.read(len(DATA) - 10, 1000)
    assert (counted.bytes_read, counted.reads) == (1010, 2)


def test_prefetched_head_serves_reads_from_memory() -> None:
    counted = CountingSource(BytesSource(DATA))
    head = read_head(counted, 4096)
    assert (counted.bytes_read, counted.reads) == (4096, 1)
    assert head.read(10, 100) == DATA[10:110]
    assert counted.reads == 1
    assert head.read(4000, 200) == DATA[4000:4200]  # straddles the head: only the rest is read
    assert (counted.bytes_read, counted.reads) == (4096 + 104, 2)
    small = CountingSource(BytesSource(DATA[:100]))
    whole = read_head(small, 4096)
    assert whole.whole_file and whole.read(50, 1000) == DATA[50:100] and small.reads == 1


def test_prefetched_source_with_unknown_size_is_not_whole_file() -> None:
    head = PrefetchedSource(BytesSource(DATA), DATA[:10])
    assert not head.whole_file
    assert head.read(5, 10) == DATA[5:15]


def test_range_reader_is_a_seekable_file_object() -> None:
    counted = CountingSource(BytesSource(DATA))
    reader = RangeReader(counted, block_size=4096, max_blocks=4)
    assert reader.readable() and reader.seekable()
    assert reader.read(10) == DATA[:10]
    assert reader.tell() == 10
    reader.seek(-100, io.SEEK_END)
    assert reader.read() == DATA[-100:]
    assert reader.read(5) == b""
    reader.seek(5000)
    assert reader.read(10_000) == DATA[5000:15000]
    reader.seek(-10, io.SEEK_CUR)
    assert reader.read(20) == DATA[14990:15010]
    with pytest.raises(OSError, match="negative"):
        reader.seek(-1)


def test_range_reader_caches_blocks_and_merges_adjacent_misses() -> None:
    counted = CountingSource(BytesSource(DATA))
    reader = RangeReader(counted, block_size=4096, max_blocks=8)
    for offset in range(0, 4000, 7):  # many small reads inside one block: one ranged read
        reader.seek(offset)
        assert reader.read(3) == DATA[offset : offset + 3]
    assert counted.reads == 1
    reader.seek(8192)
    assert reader.read(3 * 4096) == DATA[8192 : 8192 + 3 * 4096]  # three missing blocks, one read
    assert counted.reads == 2
    assert counted.bytes_read == 4 * 4096


def test_range_reader_random_access_matches_the_bytes() -> None:
    rng = random.Random(3)
    reader = io.BufferedReader(RangeReader(BytesSource(DATA), block_size=1000, max_blocks=3))
    for _ in range(300):
        offset, length = rng.randrange(len(DATA)), rng.randrange(1, 5000)
        reader.seek(offset)
        assert reader.read(length) == DATA[offset : offset + length]


def test_window_grows_its_reads_and_reports_truncation() -> None:
    counted = CountingSource(BytesSource(DATA))
    window = Window(counted, "test", first=1024, then=512)
    assert window.at(0, 10) == DATA[:10]
    assert window.at(1000, 24) == DATA[1000:1024]
    assert counted.reads == 1
    assert window.at(50_000, 4) == DATA[50_000:50_004]
    assert window.at(50_400, 4) == DATA[50_400:50_404]
    assert counted.reads == 2  # the jump read 512 bytes, which held both
    assert window.at(50_600, 4) == DATA[50_600:50_604]  # past them: extends by 1024
    assert counted.bytes_read == 1024 + 512 + 1024
    with pytest.raises(ExtractionError, match=r"^cannot read test header: the file ends at byte 200000"):
        window.at(len(DATA) - 2, 8)
