"""Object URLs: parse every form the seeds accept, build canonical ones, and confine them.

``parse_object_url`` turns a URL into (provider, bucket, key) with no context.  ``key_for_url``
answers the question an import asks: *which key of this integration's bucket does this URL name?*
and refuses, with the reason, any URL of another bucket, container, account, endpoint or (local)
anything outside the root.  ``object_url_for`` is its inverse.

Key decoding, per form:

* ``https://`` on an AWS host: percent-decoded with ``+`` read as a space, as S3 itself and the
  console's "Object URL" do (a literal ``+`` is ``%2B``);
* other ``http(s)://`` and ``file://``: percent-decoded, ``+`` kept;
* ``s3://``, ``gs://`` and Multi-Region Access Point ARNs: the key is taken literally, as the AWS
  CLI and gsutil do.

URLs with a query or fragment (``?versionId=``, a pre-signed URL) are refused: a manifest names
objects, not requests.

Dot segments (``.`` and ``..``, also written ``%2e``) are normalised out of the key after decoding,
as RFC 3986's remove_dot_segments (and every browser) does, *before* the bucket is compared: a
URL names the object a client would fetch, so ``/media/../other/x`` is never read as a key of
``media``.  A ``..`` that would climb above the top of the bucket is refused.  A key that holds
dot segments has no URL (``object_url_for`` refuses it): no client keeps them as they are.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from bucketdex.core.types import Provider
from bucketdex.storage.errors import InvalidObjectUrl, UrlOutsideIntegration

Style = Literal["virtual", "path", "uri", "arn", "file"]

_REGION = r"(?:[a-z]{2}(?:-[a-z]+)+-\d+|external-1)"
_AWS_DOMAIN = r"\.amazonaws\.com(?:\.cn)?"
# path-style host: s3.amazonaws.com, s3.<region>.amazonaws.com, s3-<region>.amazonaws.com (legacy)
_AWS_PATH_HOST = re.compile(
    rf"^s3(?:-(?P<legacy>{_REGION})|\.(?:dualstack\.)?(?P<region>{_REGION}))?{_AWS_DOMAIN}$"
)
# virtual-hosted: <bucket>.s3[.<region> | -<region>].amazonaws.com
_AWS_VIRTUAL_HOST = re.compile(
    rf"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:-(?P<legacy>{_REGION})|\.(?:dualstack\.)?(?P<region>{_REGION}))?"
    rf"{_AWS_DOMAIN}$"
)
_MRAP_ARN = re.compile(
    r"^(?P<arn>arn:aws(?:-cn|-us-gov)?:s3::\d{12}:accesspoint/[a-z0-9]+\.mrap)/(?P<key>.+)\Z", re.S
)
_AZURE_HOST = re.compile(
    r"^(?P<account>[a-z0-9]{3,24})\.blob\.core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$"
)
_GCS_HOSTS = frozenset({"storage.googleapis.com", "storage.cloud.google.com"})
_GCS_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9._-]*[a-z0-9])\.storage\.googleapis\.com$")
_BUCKET = {
    Provider.S3: re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    Provider.S3_COMPATIBLE: re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$"),
    Provider.GCS: re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$"),
    Provider.AZURE: re.compile(r"^(?:\$root|[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])$"),
}
ACCEPTED_FORMS = (
    "https://<bucket>.s3.<region>.amazonaws.com/<key>, https://s3.<region>.amazonaws.com/<bucket>/<key>, "
    "s3://<bucket>/<key>, <Multi-Region Access Point ARN>/<key>, "
    "https://<account>.blob.core.windows.net/<container>/<blob>, gs://<bucket>/<object>, "
    "https://storage.googleapis.com/<bucket>/<object>, http(s)://<endpoint>/<bucket>/<key>, file:///<path>"
)


@dataclass(frozen=True, slots=True)
class ObjectLocation:
    """What a URL names, before any integration is consulted."""

    provider: Provider
    bucket: str
    key: str
    style: Style
    region: str | None = None
    #: Azure storage account
    account: str | None = None
    #: ``scheme://host[:port]`` of a URL on a host that is none of the clouds' own
    endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class StorageTarget:
    """What an integration reaches: one bucket/container (or local root) at one place."""

    provider: Provider
    #: bucket, container, Multi-Region Access Point ARN, or (local) the absolute root directory
    bucket: str
    region: str | None = None
    #: custom endpoint (S3-compatible, emulators) or Azure account URL
    endpoint: str | None = None
    #: Azure storage account (derived from ``endpoint`` when not given)
    account: str | None = None

    def describe(self) -> str:
        if self.provider is Provider.LOCAL:
            return f"local root {self.bucket}"
        where = f" at {self.endpoint}" if self.endpoint else ""
        account = f" in account {self.account}" if self.account else ""
        noun = "container" if self.provider is Provider.AZURE else "bucket"
        return f"{self.provider.value} {noun} {self.bucket!r}{account}{where}"


# -- parsing ---------------------------------------------------------------------------------------
def parse_object_url(url: str) -> ObjectLocation:
    """(provider, bucket, key) of any accepted object URL form; ``InvalidObjectUrl`` otherwise."""
    text = url
    if not text.strip():
        raise InvalidObjectUrl(f"empty object URL; expected one of: {ACCEPTED_FORMS}")
    match = _MRAP_ARN.match(text)
    if match:
        return ObjectLocation(Provider.S3, match["arn"], _key(url, match["key"]), "arn")
    if text.lower().startswith("arn:"):
        raise InvalidObjectUrl(
            f"{url!r} is not a Multi-Region Access Point ARN followed by an object name "
            "(expected arn:aws:s3::<account-id>:accesspoint/<alias>.mrap/<key>)"
        )
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in {"s3", "gs", "http", "https", "file"}:
        raise InvalidObjectUrl(f"{url!r} is not an object URL; expected one of: {ACCEPTED_FORMS}")
    if scheme in {"s3", "gs"}:
        provider = Provider.S3 if scheme == "s3" else Provider.GCS
        bucket, _, key = rest.partition("/")
        return ObjectLocation(provider, _bucket(url, provider, bucket), _key(url, key), "uri")
    if scheme == "file":
        return ObjectLocation(Provider.LOCAL, "", _file_path(url), "file")
    return _parse_http(url)


def _parse_http(url: str) -> ObjectLocation:
    parts = _split(url)
    host = parts.hostname or ""
    path = parts.path
    match = _AWS_PATH_HOST.match(host)
    if match:
        bucket, key = _first_segment(url, path, unquote_plus)
        region = _region(match["region"] or match["legacy"])
        return ObjectLocation(Provider.S3, _bucket(url, Provider.S3, bucket), key, "path", region)
    match = _AWS_VIRTUAL_HOST.match(host)
    if match:
        region = _region(match["region"] or match["legacy"])
        key = _key(url, _decode(url, path[1:], unquote_plus))
        return ObjectLocation(Provider.S3, _bucket(url, Provider.S3, match["bucket"]), key, "virtual", region)
    match = _AZURE_HOST.match(host)
    if match:
        container, key = _first_segment(url, path, unquote)
        container = _bucket(url, Provider.AZURE, container)
        return ObjectLocation(Provider.AZURE, container, key, "path", account=match["account"])
    if host in _GCS_HOSTS:
        bucket, key = _first_segment(url, path, unquote)
        return ObjectLocation(Provider.GCS, _bucket(url, Provider.GCS, bucket), key, "path")
    match = _GCS_VIRTUAL_HOST.match(host)
    if match:
        key = _key(url, _decode(url, path[1:], unquote))
        return ObjectLocation(Provider.GCS, match["bucket"], key, "virtual")
    bucket, key = _first_segment(url, path, unquote)
    endpoint = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    bucket = _bucket(url, Provider.S3_COMPATIBLE, bucket)
    return ObjectLocation(Provider.S3_COMPATIBLE, bucket, key, "path", endpoint=endpoint)


def _split(url: str) -> _Parts:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidObjectUrl(f"{url!r} is not a valid URL: {exc}") from None
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise InvalidObjectUrl(
            f"{url!r} has a query or fragment ('?' or '#'): give the plain object URL, not a signed or "
            "versioned one; a '?' or '#' inside a key must be written %3F / %23"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidObjectUrl(f"object URL {parts.hostname!r}: URLs must not carry user names or passwords")
    if not parts.hostname:
        raise InvalidObjectUrl(f"{url!r} has no host; expected one of: {ACCEPTED_FORMS}")
    return _Parts(parts.scheme, parts.netloc, parts.hostname, parts.path)


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str
    netloc: str
    hostname: str
    path: str


def _first_segment(url: str, path: str, decode: Callable[..., str]) -> tuple[str, str]:
    bucket, _, key = path.removeprefix("/").partition("/")
    return bucket, _key(url, _decode(url, key, decode))


def _decode(url: str, raw: str, decode: Callable[..., str]) -> str:
    try:
        return decode(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidObjectUrl(f"{url!r}: the key's %-escapes are not valid UTF-8") from None


def _key(url: str, key: str) -> str:
    key = _remove_dot_segments(url, key)
    if not key:
        raise InvalidObjectUrl(f"{url!r} names a bucket or folder, not an object (nothing after the bucket)")
    if "\x00" in key:
        raise InvalidObjectUrl(f"{url!r}: object keys cannot contain NUL")
    return key


def has_dot_segment(key: str) -> bool:
    """``key`` has a ``.`` or ``..`` segment, which no URL can name (clients fold them)."""
    return any(segment in {".", ".."} for segment in key.split("/"))


def _remove_dot_segments(url: str, key: str) -> str:
    """RFC 3986 5.2.4 on a (decoded) key relative to the bucket's top: ``.`` goes, ``..`` takes
    the segment before it; a final dot segment leaves a trailing ``/`` (a folder)."""
    if not has_dot_segment(key):
        return key
    segments = key.split("/")
    kept: list[str] = []
    for position, segment in enumerate(segments):
        if segment == "..":
            if not kept:
                raise InvalidObjectUrl(
                    f"{url!r}: '..' climbs above the top of the bucket (the URL would leave it); "
                    "name the object by its path inside the bucket"
                )
            kept.pop()
        elif segment != ".":
            kept.append(segment)
        if segment in {".", ".."} and position == len(segments) - 1:
            kept.append("")
    return "/".join(kept)


def _bucket(url: str, provider: Provider, bucket: str) -> str:
    if not _BUCKET[provider].match(bucket):
        noun = "container" if provider is Provider.AZURE else "bucket"
        raise InvalidObjectUrl(f"{url!r}: {bucket!r} is not a valid {provider.value} {noun} name")
    return bucket


def _region(region: str | None) -> str | None:
    return "us-east-1" if region == "external-1" else region


def _file_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc not in {"", "localhost"}:
        raise InvalidObjectUrl(f"{url!r}: file URLs must be file:///<absolute path> (no host)")
    if parts.query or parts.fragment:
        raise InvalidObjectUrl(f"{url!r}: a '?' or '#' in a file name must be written %3F / %23")
    path = _decode(url, parts.path, unquote)
    if not path.startswith("/"):
        raise InvalidObjectUrl(f"{url!r}: file URLs need an absolute path")
    return path


# -- confinement -----------------------------------------------------------------------------------
def key_for_url(url: str, target: StorageTarget) -> str:
    """The key of ``target``'s bucket that ``url`` names, or ``UrlOutsideIntegration`` saying why not."""
    if target.provider is Provider.LOCAL:
        return local_key_for_url(url, Path(target.bucket))
    if target.endpoint:
        key = _key_under_endpoint(url, target)
        if key is not None:
            return key
    location = parse_object_url(url)
    problem = _mismatch(location, target)
    if problem:
        raise UrlOutsideIntegration(
            f"{url!r} {problem}, but this integration reaches only the {target.describe()}: "
            "fix the URL, or register it through an integration for that bucket"
        )
    return location.key


def _key_under_endpoint(url: str, target: StorageTarget) -> str | None:
    """The key when ``url`` is path- or virtual-hosted-style under the target's own endpoint."""
    assert target.endpoint
    if not url.lower().startswith(("http://", "https://")):
        return None
    parts = _split(url)
    base = urlsplit(target.endpoint)
    same_origin = parts.scheme.lower() == base.scheme.lower() and parts.netloc.lower() == base.netloc.lower()
    if (
        target.provider in {Provider.S3, Provider.S3_COMPATIBLE}
        and parts.scheme.lower() == base.scheme.lower()
        and parts.netloc.lower() == f"{target.bucket}.{base.netloc}".lower()
    ):
        return _key(url, _decode(url, parts.path[1:], unquote))
    if not same_origin:
        return None
    prefix = base.path.rstrip("/") + "/"
    if not parts.path.startswith(prefix):
        raise UrlOutsideIntegration(
            f"{url!r} is not under {target.endpoint}, where the {target.describe()} is"
        )
    bucket, key = _first_segment(url, parts.path[len(prefix) - 1 :], unquote)
    if bucket != target.bucket:
        raise UrlOutsideIntegration(
            f"{url!r} is in bucket/container {bucket!r}, but this integration reaches only the "
            f"{target.describe()}: fix the URL, or register it through an integration for that bucket"
        )
    return key


def _mismatch(location: ObjectLocation, target: StorageTarget) -> str | None:
    noun = "container" if location.provider is Provider.AZURE else "bucket"
    if location.provider is Provider.S3_COMPATIBLE:
        return f"is at the endpoint {location.endpoint}"
    family_ok = location.provider is target.provider or (
        # s3:// names a bucket on whatever endpoint the S3-compatible integration uses
        target.provider is Provider.S3_COMPATIBLE
        and location.provider is Provider.S3
        and location.style == "uri"
    )
    if not family_ok:
        return f"is a {location.provider.value} URL"
    if location.bucket != target.bucket:
        return f"is in {noun} {location.bucket!r}"
    if location.account and target.account and location.account.lower() != target.account.lower():
        return f"is in storage account {location.account!r}"
    return None


def local_key_for_url(url: str, root: Path) -> str:
    """The key (root-relative POSIX path) of a ``file://`` URL, which must stay under ``root``."""
    location = parse_object_url(url)
    if location.provider is not Provider.LOCAL:
        raise UrlOutsideIntegration(
            f"{url!r} is a {location.provider.value} URL, but this integration reaches only the local root "
            f"{root}: give a file:/// URL under it"
        )
    path = location.key
    if ".." in path.split("/"):
        raise UrlOutsideIntegration(f"{url!r}: '..' is not allowed in local URLs (the root is {root})")
    relative = os.path.relpath(os.path.normpath(path), os.path.normpath(str(root)))
    if relative == "." or relative.startswith("../") or relative == "..":
        raise UrlOutsideIntegration(
            f"{url!r} is outside the local root {root}: only files under it are reachable"
        )
    check_local_key(root, relative, what=repr(url))
    return relative  # links are followed (and confined) where the file is read: confined_path


def check_local_key(root: Path, key: str, *, what: str | None = None) -> list[str]:
    """The segments of ``key``, refused when absolute, with ``..``, ``.`` or empty segments."""
    parts = key.split("/")
    if "\x00" in key or any(p in {"", ".", ".."} for p in parts):
        raise UrlOutsideIntegration(
            f"{what or f'key {key!r}'}: local keys are relative paths without '..', '.' or empty "
            f"segments (the root is {root}); absolute paths and parent references could leave the root"
        )
    return parts


def confined_path(root: Path, key: str, *, what: str | None = None) -> Path:
    """``root / key`` after refusing absolute keys, ``..`` and symlinks that leave ``root``.

    Called where a file is opened, so a link swapped in after its URL was registered cannot
    lead outside either."""
    what = what or f"key {key!r}"
    path = root.joinpath(*check_local_key(root, key, what=what))
    real_root = root.resolve()
    if not path.resolve().is_relative_to(real_root):
        raise UrlOutsideIntegration(
            f"{what} resolves (through a symbolic link) outside the local root {root}; "
            "only files under the root are reachable"
        )
    return path


# -- building --------------------------------------------------------------------------------------
def quote_key(key: str) -> str:
    """``key`` percent-encoded for a URL path (a key without dot segments: see ``object_url_for``)."""
    return "/".join(quote(seg, safe="~") for seg in key.split("/"))


def object_url_for(target: StorageTarget, key: str) -> str:
    """The canonical object URL of ``key`` in ``target`` (``key_for_url`` reads it back to ``key``).

    A key with ``.``/``..`` segments is refused: clients fold them even when escaped (``%2E``),
    so such a URL would name another object."""
    if has_dot_segment(key):
        raise InvalidObjectUrl(
            f"key {key!r} of the {target.describe()} has '.' or '..' segments, which no URL can name "
            "(clients resolve them to another object); rename the object"
        )
    provider = target.provider
    if provider is Provider.LOCAL:
        return "file://" + quote(str(confined_path(Path(target.bucket), key)))
    if _MRAP_ARN.match(f"{target.bucket}/x"):
        return f"{target.bucket}/{key}"
    if target.endpoint:
        return f"{target.endpoint.rstrip('/')}/{target.bucket}/{quote_key(key)}"
    if provider is Provider.AZURE:
        return f"https://{target.account}.blob.core.windows.net/{target.bucket}/{quote_key(key)}"
    if provider is Provider.GCS:
        return f"https://storage.googleapis.com/{target.bucket}/{quote_key(key)}"
    region = target.region or "us-east-1"
    return f"https://{target.bucket}.s3.{region}.amazonaws.com/{quote_key(key)}"


def azure_account_from_endpoint(endpoint: str) -> str | None:
    """The storage account of an Azure account URL (``https://<account>.blob...`` or an emulator's
    ``http://127.0.0.1:10000/<account>``)."""
    parts = urlsplit(endpoint)
    match = _AZURE_HOST.match(parts.hostname or "")
    if match:
        return match["account"]
    first = parts.path.strip("/").split("/")[0]
    return first or None
