"""The storage contract: one set of tests every ``ObjectStore`` backend must pass.

In the style of fsspec's ``tests/abstract``: a backend's test class inherits ``StorageContract``
and provides the fixtures

* ``store``: a store on a fresh, empty, writable bucket/container/root;
* ``denied``: ``(store, operation)`` where the credentials are valid but lack a permission that
  ``operation(store)`` needs, plus the text the fix must mention;
* ``bad_credentials``: ``(store, secret)`` whose credentials the backend refuses;
* ``sdk_read``: ``(owner, attribute)``, the SDK call ``store.read`` makes, which tests replace by
  one that fails (a bug must surface as itself, not as a storage error).

A backend that cannot provide one (an emulator gap) skips it in the fixture, with the reason.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from bucketdex.errors import BucketdexError, InvalidArgument
from bucketdex.storage import (
    AccessDenied,
    InvalidCredentials,
    InvalidObjectUrl,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    UrlOutsideIntegration,
    object_url_for,
)
from bucketdex.storage.selftest import SELFTEST_PREFIX, Outcome, check
from emulators import fetch

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
SAMPLE: dict[str, bytes] = {
    "a/1.jpg": JPEG,
    "a/2.jpg": JPEG[::-1],
    "a/b/3.jpg": b"three",
    "a-c.jpg": b"a-c",
    "b/4.png": b"\x89PNG\r\n\x1a\n" + b"p" * 100,
    "sp ace+plus %20.txt": b"plus and space",
    "ünï/cødé €.bin": "ünicode".encode(),
}
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "txt": "text/plain",
    "bin": "application/octet-stream",
}

Denied = tuple[ObjectStore, Callable[[ObjectStore], Any], str]
SdkCall = tuple[object, str]


class StorageContract:
    """Inherit, and provide the ``store``, ``denied``, ``bad_credentials`` and ``sdk_read`` fixtures."""

    @pytest.fixture
    def filled(self, store: ObjectStore) -> ObjectStore:
        for key, data in SAMPLE.items():
            store.put(key, data, CONTENT_TYPES[key.rsplit(".", 1)[1]])
        store.page_size = 2  # every listing below crosses pages
        return store

    # -- head / put ------------------------------------------------------------------------------
    def test_head_reports_size_etag_type_and_time(self, filled: ObjectStore) -> None:
        info = filled.head("a/1.jpg")
        assert (info.key, info.size) == ("a/1.jpg", len(JPEG))
        assert info.etag
        assert info.content_type == "image/jpeg"
        assert info.last_modified is not None and info.last_modified.tzinfo is not None

    def test_put_replaces_and_reports(self, store: ObjectStore) -> None:
        first = store.put("x/doc.json", b"{}", "application/json")
        assert first.size == 2
        store.put("x/doc.json", b'{"a": 1}', "application/json")
        assert store.read("x/doc.json") == b'{"a": 1}'
        assert store.head("x/doc.json").size == 8

    # -- listing ---------------------------------------------------------------------------------
    def test_list_everything_in_key_order_across_pages(self, filled: ObjectStore) -> None:
        listed = list(filled.list())
        assert [o.key for o in listed] == sorted(SAMPLE)
        assert {o.key: o.size for o in listed} == {k: len(v) for k, v in SAMPLE.items()}

    @pytest.mark.parametrize(
        ("prefix", "expected"),
        [
            ("a/", ["a/1.jpg", "a/2.jpg", "a/b/3.jpg"]),
            ("a", ["a-c.jpg", "a/1.jpg", "a/2.jpg", "a/b/3.jpg"]),
            ("a/b/", ["a/b/3.jpg"]),
            ("ünï/", ["ünï/cødé €.bin"]),
            ("sp ace+", ["sp ace+plus %20.txt"]),
            ("nothing-here/", []),
        ],
    )
    def test_list_with_prefix(self, filled: ObjectStore, prefix: str, expected: list[str]) -> None:
        assert [o.key for o in filled.list(prefix)] == expected

    def test_list_not_recursive_stops_at_slash(self, filled: ObjectStore) -> None:
        assert [o.key for o in filled.list("a/", recursive=False)] == ["a/1.jpg", "a/2.jpg"]
        assert [o.key for o in filled.list("", recursive=False)] == ["a-c.jpg", "sp ace+plus %20.txt"]

    # -- reads -----------------------------------------------------------------------------------
    def test_ranged_reads(self, filled: ObjectStore) -> None:
        assert filled.read_range("a/1.jpg", 0, 4) == JPEG[:4]
        assert filled.read_range("a/1.jpg", 10, 20) == JPEG[10:30]
        assert filled.read_range("a/1.jpg", len(JPEG) - 5, 100) == JPEG[-5:]
        assert filled.read_range("a/1.jpg", len(JPEG) + 10, 5) == b""

    def test_read_head_returns_the_first_bytes_and_the_object_facts(self, filled: ObjectStore) -> None:
        head, info = filled.read_head("a/1.jpg", 6)
        assert head == JPEG[:6] and (info.key, info.size) == ("a/1.jpg", len(JPEG))
        assert info.content_type == "image/jpeg"
        whole, info = filled.read_head("a/1.jpg", len(JPEG) + 100)  # longer than the object
        assert whole == JPEG and info.size == len(JPEG)
        filled.put("empty.txt", b"", "text/plain")
        assert filled.read_head("empty.txt", 10)[0] == b"" and filled.read_head("empty.txt", 10)[1].size == 0
        with pytest.raises(ObjectNotFound):
            filled.read_head("missing.jpg", 10)

    def test_read_whole_objects_with_awkward_keys(self, filled: ObjectStore) -> None:
        for key, data in SAMPLE.items():
            assert filled.read(key) == data, key

    def test_read_headers_concurrently_with_failures_inline(self, filled: ObjectStore) -> None:
        keys = ["a/1.jpg", "missing.jpg", "b/4.png", "a/2.jpg"]
        results = dict(filled.read_headers(keys, length=8, concurrency=2))
        assert set(results) == set(keys)
        assert results["a/1.jpg"] == JPEG[:8]
        assert results["b/4.png"] == SAMPLE["b/4.png"][:8]
        assert isinstance(results["missing.jpg"], ObjectNotFound)

    @pytest.mark.parametrize("operation", ["head", "read", "read_range"])
    def test_missing_key_is_object_not_found_naming_it(self, filled: ObjectStore, operation: str) -> None:
        calls: dict[str, Callable[[], object]] = {
            "head": lambda: filled.head("no/such.jpg"),
            "read": lambda: filled.read("no/such.jpg"),
            "read_range": lambda: filled.read_range("no/such.jpg", 0, 10),
        }
        with pytest.raises(ObjectNotFound) as raised:
            calls[operation]()
        assert "no/such.jpg" in str(raised.value)
        cause = raised.value.__cause__  # the SDK's own error, kept for logs and debuggers
        assert cause is not None and not isinstance(cause, BucketdexError), repr(cause)

    # -- errors that are not the storage's ----------------------------------------------------------
    def test_a_bug_inside_an_sdk_call_surfaces_as_itself(
        self, filled: ObjectStore, sdk_read: SdkCall, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def bug(*args: object, **kwargs: object) -> bytes:
            raise TypeError("a bug, not a storage failure")

        monkeypatch.setattr(*sdk_read, bug)
        with pytest.raises(TypeError, match="a bug, not a storage failure"):
            filled.read("a/1.jpg")

    def test_a_storage_error_raised_inside_an_sdk_call_passes_through_unchanged(
        self, filled: ObjectStore, sdk_read: SdkCall, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        error = StorageError("raised by bucketdex itself", fix="none needed")

        def fail(*args: object, **kwargs: object) -> bytes:
            raise error

        monkeypatch.setattr(*sdk_read, fail)
        with pytest.raises(StorageError) as raised:
            filled.read("a/1.jpg")
        assert raised.value is error and raised.value.__cause__ is None

    def test_a_key_of_the_wrong_type_is_not_a_storage_error(self, filled: ObjectStore) -> None:
        with pytest.raises((TypeError, AttributeError)):
            filled.read_range(123, 0, 1)  # type: ignore[arg-type]

    def test_delete(self, filled: ObjectStore) -> None:
        filled.delete("a/1.jpg")
        with pytest.raises(ObjectNotFound):
            filled.head("a/1.jpg")
        filled.delete("a/1.jpg")  # absent: no error
        assert "a/1.jpg" not in [o.key for o in filled.list("a/")]

    def test_selftest_write_leaves_nothing_behind(self, filled: ObjectStore) -> None:
        before = [o.key for o in filled.list()]
        report = check(filled, write=True)
        write = report.step("write")
        assert write.outcome is Outcome.PASSED and "deleted" in write.detail, write
        assert SELFTEST_PREFIX in write.detail  # names the key it wrote
        assert [o.key for o in filled.list()] == before
        assert list(filled.list(SELFTEST_PREFIX)) == []

    # -- signed URLs -------------------------------------------------------------------------------
    def test_signed_url_fetched_over_plain_http(self, filled: ObjectStore) -> None:
        for key in ("a/1.jpg", "sp ace+plus %20.txt", "ünï/cødé €.bin"):
            url = filled.signed_url(key, 300)
            assert url != filled.object_url(key)
            assert fetch(url) == SAMPLE[key], key

    @pytest.mark.parametrize("seconds", [0, -1, 8 * 24 * 3600])
    def test_signed_url_lifetime_is_checked(self, filled: ObjectStore, seconds: int) -> None:
        with pytest.raises(InvalidArgument, match="lifetime"):
            filled.signed_url("a/1.jpg", seconds)

    # -- URLs and confinement --------------------------------------------------------------------
    def test_object_url_round_trips_through_confinement(self, filled: ObjectStore) -> None:
        for key in SAMPLE:
            assert filled.key_for_url(filled.object_url(key)) == key

    def test_object_url_reads_back_the_object(self, filled: ObjectStore) -> None:
        key = filled.key_for_url(filled.object_url("b/4.png"))
        assert filled.read_range(key, 0, 8) == SAMPLE["b/4.png"][:8]

    def test_dot_segments_are_normalised_then_confined_and_signed(self, filled: ObjectStore) -> None:
        url = filled.object_url("a/1.jpg")
        dotted = url.replace("/a/1.jpg", "/b/%2e%2e/a/./1.jpg")
        assert dotted != url
        key = filled.key_for_url(dotted)
        assert key == "a/1.jpg"
        assert fetch(filled.signed_url(key, 60)) == SAMPLE["a/1.jpg"]  # the object a client would fetch
        climbing = url.replace("/a/1.jpg", "/../elsewhere/a/1.jpg")
        with pytest.raises(InvalidObjectUrl, match="climbs above") as raised:
            filled.key_for_url(climbing)
        assert climbing in str(raised.value)

    def test_url_of_another_bucket_is_refused(self, filled: ObjectStore) -> None:
        other = dataclasses.replace(filled.target, bucket=filled.target.bucket + "-other")
        url = object_url_for(other, "a/1.jpg")
        with pytest.raises(UrlOutsideIntegration) as raised:
            filled.key_for_url(url)
        assert filled.target.bucket in str(raised.value)

    # -- permissions and credentials ------------------------------------------------------------------
    def test_missing_permission_is_access_denied_with_the_fix(self, denied: Denied) -> None:
        store, operation, permission = denied
        with pytest.raises(AccessDenied) as raised:
            operation(store)
        assert not isinstance(raised.value, InvalidCredentials)
        assert permission in raised.value.fix
        assert store.bucket in str(raised.value) or store.describe() in str(raised.value)

    def test_refused_credentials_say_so_without_the_secret(
        self, bad_credentials: tuple[ObjectStore, str]
    ) -> None:
        store, secret = bad_credentials
        with pytest.raises(InvalidCredentials) as raised:
            list(store.list())
        assert secret not in str(raised.value)
        assert secret not in repr(store)
        assert raised.value.fix
        # a traceback (a log, an uncaught error) shows the SDK's error too: no secret there either
        assert raised.value.__cause__ is not None
        assert secret not in "".join(traceback.format_exception(raised.value))
