"""Local disk: a root directory whose files are the objects (keys are root-relative POSIX paths).

Nothing outside the root is reachable: keys with ``..``, absolute paths and symbolic links that
resolve outside the root are refused (:func:`bucketdex.storage.urls.confined_path`), and listings
skip such links.  Listings walk one directory at a time in S3's key order.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from bucketdex.core.types import Provider
from bucketdex.errors import BucketdexError
from bucketdex.storage.base import CorsRule, ObjectInfo, ObjectStore, check_range, raise_unsupported
from bucketdex.storage.errors import (
    AccessDenied,
    BucketNotFound,
    ObjectNotFound,
    StorageError,
    UrlOutsideIntegration,
)
from bucketdex.storage.urls import StorageTarget, confined_path


class LocalStore(ObjectStore):
    """Objects are files under ``root``."""

    provider = Provider.LOCAL

    def __init__(self, root: str | os.PathLike[str]) -> None:
        given = Path(root).expanduser()
        if not given.is_absolute():
            raise BucketNotFound(f"local root {str(given)!r} must be an absolute path")
        if not given.is_dir():
            raise BucketNotFound(
                f"local root {given} is not a directory: create it or fix the integration's path"
            )
        self.root = given.resolve()
        self.bucket = str(self.root)

    def describe(self) -> str:
        return f"file://{self.root}"

    # -- helpers ---------------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        return confined_path(self.root, key)

    def _info(self, key: str, stat: os.stat_result) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}",
            content_type=mimetypes.guess_type(key)[0],
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    @contextmanager
    def _errors(self, key: str, *, write: bool = False) -> Iterator[None]:
        """``OSError`` inside the block raised as a storage error naming ``key``, the ``OSError``
        kept as the ``__cause__``; anything else (a bucketdex error, a bug) passes through."""
        try:
            yield
        except OSError as exc:
            raise self._mapped(key, exc, write=write) from exc

    def _mapped(self, key: str, exc: OSError, *, write: bool) -> BucketdexError:
        if isinstance(exc, PermissionError):
            if write:
                return AccessDenied(
                    f"{self.describe()}: cannot write {key!r}",
                    fix=f"let the user running bucketdex (uid {os.getuid()}) write under {self.root}",
                )
            return AccessDenied(
                f"{self.describe()}: cannot access {key!r}",
                fix=f"let the user running bucketdex (uid {os.getuid()}) read files under {self.root}",
            )
        if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
            return ObjectNotFound(f"{self.describe()}: no file {key!r} under the root")
        return StorageError(f"{self.describe()}: {key!r}: {exc.strerror or type(exc).__name__}")

    # -- reads -----------------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        path = self._path(key)
        with self._errors(key):
            stat = path.stat()
        if not path.is_file():
            raise ObjectNotFound(f"{self.describe()}: {key!r} is not a file")
        return self._info(key, stat)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        check_range(start, length)
        with self._errors(key), self._path(key).open("rb") as f:
            f.seek(start)
            return f.read(length)

    def read(self, key: str) -> bytes:
        with self._errors(key):
            return self._path(key).read_bytes()

    def list(self, prefix: str = "", *, recursive: bool = True) -> Iterator[ObjectInfo]:
        # start at the deepest directory the prefix names; filter names by the rest
        directory, _, _ = prefix.rpartition("/")
        if directory:
            try:
                start = self._path(directory)
            except UrlOutsideIntegration:
                return  # a prefix through '..' or an escaping link names nothing listable
        else:
            start = self.root
        yield from self._walk(start, directory + "/" if directory else "", prefix, recursive)

    def _walk(self, directory: Path, base: str, prefix: str, recursive: bool) -> Iterator[ObjectInfo]:
        entries: list[tuple[str, os.DirEntry[str]]] = []
        # a folder that is not there (or is a file) holds nothing
        gone = suppress(FileNotFoundError, NotADirectoryError)
        with self._errors(base or "."), gone, os.scandir(directory) as it:
            entries = [(e.name + ("/" if _is_dir(e) else ""), e) for e in it]
        for sort_name, entry in sorted(entries, key=lambda pair: pair[0]):
            key = base + entry.name
            if sort_name.endswith("/"):
                if recursive and (key + "/").startswith(prefix[: len(key) + 1]) and self._inside(entry):
                    yield from self._walk(Path(entry.path), key + "/", prefix, recursive)
            elif key.startswith(prefix) and self._inside(entry):
                try:
                    yield self._info(key, entry.stat())
                except OSError:
                    continue  # vanished or dangling link: not an object

    def _inside(self, entry: os.DirEntry[str]) -> bool:
        if not entry.is_symlink():
            return True
        return Path(entry.path).resolve().is_relative_to(self.root)

    # -- writes ----------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        path = self._path(key)
        with self._errors(key, write=True):
            fd, tmp = self._temp_file(key, path)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return self._info(key, path.stat())

    def _temp_file(self, key: str, path: Path) -> tuple[int, str]:
        """A temporary file in ``path``'s folder, made (again) if a concurrent delete emptied it away."""
        tries = 0
        while True:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._path(key)  # the new parents must not have let a link in
            try:
                return tempfile.mkstemp(dir=path.parent, prefix=".bucketdex-")
            except FileNotFoundError:
                tries += 1
                if tries == 3:
                    raise

    def delete(self, key: str) -> None:
        """Remove the file, then the folders that removal left empty (up to the root): an object
        store has no empty folders, so a deleted object leaves nothing behind (the self-test)."""
        path = self._path(key)
        with self._errors(key):
            path.unlink(missing_ok=True)
        folder = path.parent
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty (or not ours to remove): the folders above are not empty either
            folder = folder.parent

    # -- URLs ------------------------------------------------------------------------------------
    def signed_url(self, key: str, expires_in_seconds: int = 3600) -> str:
        raise_unsupported(self, "signing URLs (files on local disk are served by bucketdex itself)")

    @property
    def target(self) -> StorageTarget:
        return StorageTarget(Provider.LOCAL, self.bucket)

    def cors_rules(self) -> tuple[CorsRule, ...]:
        raise_unsupported(self, "CORS (local files are not fetched by browsers directly)")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
