"""The storage contract on local disk, plus the root confinement rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from contract import Denied, SdkCall, StorageContract

from bucketdex.storage import ObjectStore, UnsupportedOperation, UrlOutsideIntegration, open_store


class TestLocal(StorageContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ObjectStore:
        root = tmp_path / "root"
        root.mkdir()
        return open_store("local", str(root))

    @pytest.fixture
    def denied(self, store: ObjectStore) -> Denied:
        if os.geteuid() == 0:
            pytest.skip("running as root: file permissions cannot deny anything")
        store.put("locked/file.jpg", b"x")
        locked = Path(store.bucket) / "locked"
        locked.chmod(0o000)
        return store, lambda s: s.read("locked/file.jpg"), "read files under"

    @pytest.fixture
    def sdk_read(self) -> SdkCall:
        return Path, "read_bytes"

    @pytest.fixture
    def bad_credentials(self) -> tuple[ObjectStore, str]:
        pytest.skip("local disk has no credentials")

    def test_signed_url_fetched_over_plain_http(self, filled: ObjectStore) -> None:
        with pytest.raises(UnsupportedOperation, match="signing URLs"):
            filled.signed_url("a/1.jpg", 300)

    def test_dot_segments_are_normalised_then_confined_and_signed(self, filled: ObjectStore) -> None:
        """Local URLs refuse '..' outright (as keys do); '.' segments are normalised."""
        url = filled.object_url("a/1.jpg")
        assert filled.key_for_url(url.replace("/a/1.jpg", "/a/./1.jpg")) == "a/1.jpg"
        for dotted in ("/b/%2e%2e/a/1.jpg", "/../elsewhere/a/1.jpg"):
            with pytest.raises(UrlOutsideIntegration, match=r"'\.\.'"):
                filled.key_for_url(url.replace("/a/1.jpg", dotted))

    @pytest.mark.parametrize("seconds", [0, 300])
    def test_signed_url_lifetime_is_checked(self, filled: ObjectStore, seconds: int) -> None:
        with pytest.raises(UnsupportedOperation):
            filled.signed_url("a/1.jpg", seconds)


def test_selftest_leaves_no_folder_in_the_root(tmp_path: Path) -> None:
    from bucketdex.storage.selftest import check

    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "empty-before").mkdir()  # not the test's to remove
    assert check(open_store("local", str(tmp_path)), write=True).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "empty-before"]


def test_delete_removes_the_folders_it_empties_up_to_the_root(tmp_path: Path) -> None:
    store = open_store("local", str(tmp_path))
    store.put("x/y/z/1.jpg", b"1")
    store.put("x/2.jpg", b"2")
    store.delete("x/y/z/1.jpg")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["x", "x/2.jpg"]
    store.delete("x/2.jpg")
    assert list(tmp_path.iterdir()) == [] and tmp_path.is_dir()  # the root itself stays
    store.put("x/3.jpg", b"3")  # a folder it removed comes back on the next put
    assert store.read("x/3.jpg") == b"3"


@pytest.fixture
def rooted(tmp_path: Path) -> tuple[ObjectStore, Path]:
    root = tmp_path / "root"
    (root / "inside").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("outside")
    (root / "inside" / "ok.txt").write_text("ok")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (root / "escape-dir").symlink_to(tmp_path)
    (root / "alias.txt").symlink_to(root / "inside" / "ok.txt")
    return open_store("local", str(root)), tmp_path


@pytest.mark.parametrize(
    "key",
    [
        "../secret.txt",
        "/etc/passwd",
        "inside/../../secret.txt",
        "escape.txt",
        "escape-dir/secret.txt",
        "a//b",
        "./x",
    ],
)
def test_keys_leaving_the_root_are_refused(rooted: tuple[ObjectStore, Path], key: str) -> None:
    store, _ = rooted
    with pytest.raises(UrlOutsideIntegration):
        store.read(key)
    with pytest.raises(UrlOutsideIntegration):
        store.put(key, b"x")


def test_file_urls_leaving_the_root_are_refused(rooted: tuple[ObjectStore, Path]) -> None:
    store, _ = rooted
    with pytest.raises(UrlOutsideIntegration):
        store.key_for_url("file://" + store.bucket + "/../secret.txt")


@pytest.mark.parametrize("suffix", ["/escape.txt", "/escape-dir/secret.txt"])
def test_links_out_of_the_root_are_refused_where_the_file_is_read(
    rooted: tuple[ObjectStore, Path], suffix: str
) -> None:
    """A URL is confined by its path; its links are followed (and confined) when the file is
    opened, so a link put in place after the URL was registered cannot lead out either."""
    store, _ = rooted
    key = store.key_for_url("file://" + store.bucket + suffix)
    assert key == suffix[1:]
    with pytest.raises(UrlOutsideIntegration, match="symbolic link"):
        store.read(key)
    with pytest.raises(UrlOutsideIntegration, match="symbolic link"):
        store.read_head(key, 16)


def test_a_link_swapped_in_after_confinement_still_cannot_escape(rooted: tuple[ObjectStore, Path]) -> None:
    store, tmp = rooted
    key = store.key_for_url("file://" + store.bucket + "/inside/later.txt")
    (Path(store.bucket) / "inside" / "later.txt").write_text("fine")
    assert store.read(key) == b"fine"
    (Path(store.bucket) / "inside" / "later.txt").unlink()
    (Path(store.bucket) / "inside" / "later.txt").symlink_to(tmp / "secret.txt")
    with pytest.raises(UrlOutsideIntegration, match="symbolic link"):
        store.read(key)


def test_file_url_outside_root_and_other_schemes_refused(rooted: tuple[ObjectStore, Path]) -> None:
    store, tmp = rooted
    with pytest.raises(UrlOutsideIntegration, match="outside the local root"):
        store.key_for_url((tmp / "secret.txt").as_uri())
    with pytest.raises(UrlOutsideIntegration, match="s3 URL"):
        store.key_for_url("s3://bucket/inside/ok.txt")


def test_links_inside_the_root_are_followed_and_listing_skips_escapes(
    rooted: tuple[ObjectStore, Path],
) -> None:
    store, _ = rooted
    assert store.read("alias.txt") == b"ok"
    assert [o.key for o in store.list()] == ["alias.txt", "inside/ok.txt"]


def test_root_must_exist(tmp_path: Path) -> None:
    from bucketdex.storage import BucketNotFound

    with pytest.raises(BucketNotFound, match="not a directory"):
        open_store("local", str(tmp_path / "missing"))
