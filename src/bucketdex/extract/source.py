"""Ranged reads: what the extractors read from.

A :class:`RangeSource` is the whole contract between the extractors and storage: a name for
messages, the size when known, and ``read(offset, length)``.  A storage adapter needs only
``read_range(key, start, length)`` and ``head(key).size`` to provide one.

* :class:`BytesSource`, :class:`FileSource`: in memory, a local path.
* :class:`CountingSource`: counts bytes and reads of the source it wraps (job statistics).
* :class:`PrefetchedSource`: serves the already-read first bytes from memory.
* :class:`RangeReader`: a seekable, block-cached file object over a source, for libraries that
  want one (pydicom, PyAV, pypdf).
* :class:`Window`: growing reads for the hand-written header parsers.
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, runtime_checkable

from bucketdex.extract.errors import ExtractionError


@runtime_checkable
class RangeSource(Protocol):
    """A file that can be read by byte ranges."""

    @property
    def name(self) -> str:
        """The file's URL or path, for messages and for guesses by extension."""
        ...

    @property
    def size(self) -> int | None:
        """Size in bytes, or ``None`` when unknown."""
        ...

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset``: fewer only at the end of the file."""
        ...


class BytesSource:
    """A file held in memory."""

    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self._data = bytes(data)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def size(self) -> int:
        return len(self._data)

    def read(self, offset: int, length: int) -> bytes:
        _check_range(offset, length)
        return self._data[offset : offset + length]


class FileSource:
    """A local file, read with ``pread`` (safe to share between threads).  Close it, or use
    it as a context manager; the descriptor is opened on the first read."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._size = self.path.stat().st_size
        self._fd: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        _check_range(offset, length)
        if self._fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        chunks: list[bytes] = []
        while length > 0:
            chunk = os.pread(self._fd, length, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            self.close()


class CountingSource:
    """Wraps a source and counts what was read from it: ``bytes_read`` and ``reads``."""

    def __init__(self, inner: RangeSource) -> None:
        self.inner = inner
        self.bytes_read = 0
        self.reads = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def size(self) -> int | None:
        return self.inner.size

    def read(self, offset: int, length: int) -> bytes:
        data = self.inner.read(offset, length)
        self.bytes_read += len(data)
        self.reads += 1
        return data


class PrefetchedSource:
    """A source whose first bytes (``head``) were already read: reads inside them cost nothing.

    ``head`` shorter than asked for means the whole file: then every read is served from it.
    """

    def __init__(self, inner: RangeSource, head: bytes, *, whole_file: bool = False) -> None:
        self.inner = inner
        self.head = head
        self.whole_file = whole_file or (inner.size is not None and len(head) >= inner.size)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def size(self) -> int | None:
        return len(self.head) if self.whole_file else self.inner.size

    def read(self, offset: int, length: int) -> bytes:
        _check_range(offset, length)
        end = offset + length
        if self.whole_file or end <= len(self.head):
            return self.head[offset:end]
        if offset < len(self.head):
            return self.head[offset:] + self.inner.read(len(self.head), end - len(self.head))
        return self.inner.read(offset, length)


def read_head(source: RangeSource, length: int) -> PrefetchedSource:
    """Read the first ``length`` bytes once and keep them."""
    head = source.read(0, length)
    return PrefetchedSource(source, head, whole_file=len(head) < length)


class RangeReader(io.RawIOBase):
    """A seekable, read-only file object over a :class:`RangeSource`.

    Reads are served from a small cache of aligned blocks (``block_size`` bytes, at most
    ``max_blocks`` kept); missing blocks next to each other are fetched in one ranged read, so
    the many small reads of a header parser cost one request per block.
    """

    def __init__(self, source: RangeSource, *, block_size: int = 16 * 1024, max_blocks: int = 32) -> None:
        super().__init__()
        self.source = source
        self.block_size = block_size
        self.max_blocks = max_blocks
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    @property
    def name(self) -> str:
        return self.source.name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            if self.source.size is None:
                raise OSError("cannot seek from the end of a source of unknown size")
            pos = self.source.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = len(view)
        size = self.source.size
        if size is not None:
            want = min(want, max(0, size - self._pos))
        if want == 0:
            return 0
        data = self._range(self._pos, want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _range(self, start: int, length: int) -> bytes:
        bs = self.block_size
        first, last = start // bs, (start + length - 1) // bs
        missing = [i for i in range(first, last + 1) if i not in self._blocks]
        runs: list[list[int]] = []
        for i in missing:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        fetched: dict[int, bytes] = {}
        for run in runs:
            data = self.source.read(run[0] * bs, len(run) * bs)
            for k, i in enumerate(run):
                fetched[i] = data[k * bs : (k + 1) * bs]
        parts = []
        for i in range(first, last + 1):
            block = fetched[i] if i in fetched else self._blocks[i]
            parts.append(block)
            if len(block) < bs:
                break
        for i, block in fetched.items():
            self._blocks[i] = block
        for i in range(first, last + 1):
            if i in self._blocks:
                self._blocks.move_to_end(i)
        while len(self._blocks) > max(self.max_blocks, last - first + 1):
            self._blocks.popitem(last=False)
        joined = b"".join(parts)
        offset = start - first * bs
        return joined[offset : offset + length]


class Window:
    """Growing reads for hand-written parsers: ``at(offset, n)`` returns exactly ``n`` bytes,
    from memory when they were read already.  The first read is ``first`` bytes; later misses
    read ``then`` bytes, doubling each time, so a header behind a large block costs a few small
    reads.  Past the end of the file ``at`` raises :class:`ExtractionError`."""

    def __init__(self, source: RangeSource, kind: str, *, first: int = 16 * 1024, then: int = 4096) -> None:
        self.source = source
        self.kind = kind
        self._start = 0
        self._data = b""
        self._first = first
        self._next = then

    def at(self, offset: int, n: int) -> bytes:
        chunk = self.upto(offset, n)
        if len(chunk) < n:
            raise ExtractionError(
                self.kind, f"the file ends at byte {offset + len(chunk)}, inside the header"
            )
        return chunk

    def upto(self, offset: int, n: int) -> bytes:
        """Like :meth:`at`, but fewer bytes at the end of the file instead of an error."""
        end = offset + n
        if not (self._start <= offset and end <= self._start + len(self._data)):
            if self._first:
                length, self._first = max(n, self._first), 0
            else:
                length = max(n, self._next)
                self._next *= 2
            if self._start <= offset <= self._start + len(self._data):
                # extend the current window instead of re-reading what it holds
                have = self._start + len(self._data)
                self._data = self._data[offset - self._start :] + self.source.read(
                    have, max(end - have, length)
                )
            else:
                self._data = self.source.read(offset, length)
            self._start = offset
        return self._data[offset - self._start : end - self._start]


def _check_range(offset: int, length: int) -> None:
    if offset < 0 or length < 0:
        raise ValueError(f"invalid range: offset {offset}, length {length}")
