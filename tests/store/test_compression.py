"""Blobs the catalog keeps compressed round-trip exactly; an unknown encoding is a clear error."""

from __future__ import annotations

import pytest

from bucketdex.errors import StoreUnavailable
from bucketdex.store.compression import IDENTITY, ZSTD, compress, decompress


@pytest.mark.parametrize("data", [b"", b"{}", "é, ü, 画像".encode() * 1000, bytes(range(256)) * 64])
def test_compress_round_trips(data: bytes) -> None:
    encoding, stored = compress(data)
    assert encoding == ZSTD
    assert decompress(encoding, stored) == data


def test_identity_is_returned_as_stored() -> None:
    assert decompress(IDENTITY, b"raw bytes") == b"raw bytes"


def test_unknown_encoding_names_itself() -> None:
    with pytest.raises(StoreUnavailable, match="unknown blob encoding 'brotli'"):
        decompress("brotli", b"...")
