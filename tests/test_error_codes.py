"""Every domain error class owns one code, and (code, message, detail) rebuilds it: what the
SDK's HTTP client does with the server's error bodies."""

from __future__ import annotations

import importlib
import json
import pkgutil

import httpx
import pytest

import bucketdex
from bucketdex.errors import (
    BucketdexError,
    Conflict,
    InvalidArgument,
    ItemValidationError,
    error_class,
    registered_errors,
)
from bucketdex.manifest.errors import ManifestError
from bucketdex.sdk.http_backend import error_of
from bucketdex.storage.errors import AccessDenied, StorageError

# alembic's env.py runs migrations when imported
NOT_IMPORTED = ("bucketdex.store.migrations",)


def every_error_class() -> list[type[BucketdexError]]:
    for module in pkgutil.walk_packages(bucketdex.__path__, "bucketdex."):
        if not module.name.startswith(NOT_IMPORTED):
            importlib.import_module(module.name)
    found: list[type[BucketdexError]] = [BucketdexError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub.__module__.startswith("bucketdex."))
    return found


def test_every_error_class_has_a_code_of_its_own() -> None:
    classes = every_error_class()
    assert len(classes) > 20  # the walk found the subclasses of every package
    inherited = [c.__qualname__ for c in classes if "code" not in vars(c)]
    assert inherited == [], f"these error classes reuse their parent's code: {inherited}"
    codes = [c.code for c in classes]
    assert len(set(codes)) == len(codes)
    assert registered_errors() == {c.code: c for c in classes}


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda c: c.code)
def test_code_message_and_detail_rebuild_the_same_error(cls: type[BucketdexError]) -> None:
    detail = {name: [f"{name} 1", f"{name} 2"] for name in cls.detail_fields}
    sent = json.loads(json.dumps({"code": cls.code, "message": "what; the fix", **detail}))
    found = error_class(sent["code"])
    assert found is cls
    rebuilt = found.rebuild(sent["message"], sent)
    assert type(rebuilt) is cls and str(rebuilt) == rebuilt.message == "what; the fix"
    assert rebuilt.detail() == detail and rebuilt.code == cls.code


def test_detail_is_what_the_constructors_were_given() -> None:
    manifest = ManifestError("m.csv", ["line 2: a", "line 3: b"])
    assert manifest.detail() == {"source": "m.csv", "problems": ["line 2: a", "line 3: b"]}
    assert ItemValidationError(["x"]).detail() == {"problems": ["x"]}
    assert StorageError("s3://b: down", fix="retry").detail() == {"fix": "retry"}
    assert AccessDenied("s3://b: denied", fix="allow s3:ListBucket").detail() == {
        "fix": "allow s3:ListBucket"
    }
    assert InvalidArgument("bad").detail() == {}
    again = ManifestError.rebuild(manifest.message, manifest.detail())
    assert (again.message, again.problems, again.source) == (manifest.message, manifest.problems, "m.csv")


def test_a_class_cannot_take_a_code_already_owned() -> None:
    with pytest.raises(TypeError, match=r"'conflict' of .* is already bucketdex\.errors\.Conflict's"):
        type("Clash", (BucketdexError,), {"code": "conflict"})
    with pytest.raises(TypeError, match="detail_fields names \\['message'\\]"):
        type("Shadow", (BucketdexError,), {"code": "shadow_test", "detail_fields": ("message",)})


def test_a_code_the_client_does_not_know_is_the_base_class_of_the_status() -> None:
    newer = httpx.Response(409, json={"code": "newer_kind", "error": "newer_kind", "message": "taken"})
    error = error_of(newer)
    assert type(error) is Conflict and error.message == "taken" and error.code == "newer_kind"
    proxy = error_of(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert type(proxy) is StorageError and proxy.message.startswith("HTTP 502: <html>") and proxy.fix is None
    old_server = error_of(
        httpx.Response(400, json={"error": "invalid_manifest", "message": "m", "problems": ["p"]})
    )
    assert type(old_server) is ManifestError and old_server.problems == ["p"] and old_server.source is None
