"""Object URL parsing, building and confinement: every accepted form, table-driven and fuzzed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bucketdex.core.types import Provider
from bucketdex.storage import (
    InvalidObjectUrl,
    StorageTarget,
    UrlOutsideIntegration,
    key_for_url,
    object_url_for,
    parse_object_url,
)

S3, S3C, AZ, GCS, LOCAL = Provider.S3, Provider.S3_COMPATIBLE, Provider.AZURE, Provider.GCS, Provider.LOCAL
MRAP = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap"

PARSED = [
    # AWS virtual-hosted, with and without region, legacy s3-<region>, dualstack, China
    (
        "https://my-bucket.s3.us-west-2.amazonaws.com/images/dogs/puppy.png",
        S3,
        "my-bucket",
        "images/dogs/puppy.png",
        "us-west-2",
    ),
    (
        "https://encord-solutions-bucket.s3.eu-west-2.amazonaws.com/path/to/my/bucket/video23.mp4",
        S3,
        "encord-solutions-bucket",
        "path/to/my/bucket/video23.mp4",
        "eu-west-2",
    ),
    ("https://my-bucket.s3.amazonaws.com/a.jpg", S3, "my-bucket", "a.jpg", None),
    ("https://my-bucket.s3-eu-west-1.amazonaws.com/a.jpg", S3, "my-bucket", "a.jpg", "eu-west-1"),
    ("https://my-bucket.s3-external-1.amazonaws.com/a.jpg", S3, "my-bucket", "a.jpg", "us-east-1"),
    ("https://my-bucket.s3.dualstack.us-east-2.amazonaws.com/a.jpg", S3, "my-bucket", "a.jpg", "us-east-2"),
    ("https://my-bucket.s3.cn-north-1.amazonaws.com.cn/a.jpg", S3, "my-bucket", "a.jpg", "cn-north-1"),
    (
        "https://my.dotted.bucket.s3.us-gov-west-1.amazonaws.com/a.jpg",
        S3,
        "my.dotted.bucket",
        "a.jpg",
        "us-gov-west-1",
    ),
    ("https://s3bucket.s3.amazonaws.com/a.jpg", S3, "s3bucket", "a.jpg", None),
    # AWS path-style, with and without region, legacy
    (
        "https://s3.us-west-2.amazonaws.com/my-bucket/images/dog.png",
        S3,
        "my-bucket",
        "images/dog.png",
        "us-west-2",
    ),
    ("https://s3.amazonaws.com/my-bucket/dog.png", S3, "my-bucket", "dog.png", None),
    (
        "https://s3-ap-southeast-2.amazonaws.com/my-bucket/dog.png",
        S3,
        "my-bucket",
        "dog.png",
        "ap-southeast-2",
    ),
    ("http://S3.EU-WEST-1.AMAZONAWS.COM/my-bucket/dog.png", S3, "my-bucket", "dog.png", "eu-west-1"),
    # AWS key decoding: %-escapes, and '+' is a space (the console's Object URL)
    (
        "https://b-1.s3.us-east-1.amazonaws.com/my+file%2Bplus%20x.jpg",
        S3,
        "b-1",
        "my file+plus x.jpg",
        "us-east-1",
    ),
    (
        "https://b-1.s3.us-east-1.amazonaws.com/%C3%BCn%C3%AF/a%3Fb%23c.jpg",
        S3,
        "b-1",
        "ünï/a?b#c.jpg",
        "us-east-1",
    ),
    ("https://b-1.s3.us-east-1.amazonaws.com/raw space.jpg", S3, "b-1", "raw space.jpg", "us-east-1"),
    # s3:// (any case): key literal
    ("s3://my-bucket/path/to/a%20b+c.jpg", S3, "my-bucket", "path/to/a%20b+c.jpg", None),
    ("S3://my-bucket/x.jpg", S3, "my-bucket", "x.jpg", None),
    # Multi-Region Access Point ARN followed by the object name
    (f"{MRAP}/videos/v1.mp4", S3, MRAP, "videos/v1.mp4", None),
    # Azure
    (
        "https://myaccount.blob.core.windows.net/media/folder/clip%201.mp4",
        AZ,
        "media",
        "folder/clip 1.mp4",
        None,
    ),
    ("https://myaccount.blob.core.windows.net/media/a+b.jpg", AZ, "media", "a+b.jpg", None),
    # GCS
    ("gs://my-bucket/text/file%20name.pdf", GCS, "my-bucket", "text/file%20name.pdf", None),
    ("https://storage.googleapis.com/my-bucket/text/a%20b+c.pdf", GCS, "my-bucket", "text/a b+c.pdf", None),
    (
        "https://storage.cloud.google.com/encord-onboarding-clinton/text/singapore-penal-code-1871.pdf",
        GCS,
        "encord-onboarding-clinton",
        "text/singapore-penal-code-1871.pdf",
        None,
    ),
    ("https://my-bucket.storage.googleapis.com/obj.png", GCS, "my-bucket", "obj.png", None),
    # S3-compatible custom endpoint, path-style
    ("http://127.0.0.1:9000/media/a/b%20c.jpg", S3C, "media", "a/b c.jpg", None),
    ("https://minio.example.internal/Media_1/a+b.jpg", S3C, "Media_1", "a+b.jpg", None),
]


@pytest.mark.parametrize(("url", "provider", "bucket", "key", "region"), PARSED)
def test_parse(url: str, provider: Provider, bucket: str, key: str, region: str | None) -> None:
    location = parse_object_url(url)
    assert (location.provider, location.bucket, location.key, location.region) == (
        provider,
        bucket,
        key,
        region,
    )


def test_parse_azure_account_and_endpoint() -> None:
    assert parse_object_url("https://myaccount.blob.core.windows.net/c01/x.jpg").account == "myaccount"
    assert parse_object_url("http://127.0.0.1:9000/media/x").endpoint == "http://127.0.0.1:9000"


def test_parse_file_url() -> None:
    location = parse_object_url("file:///data/media/a%20b.jpg")
    assert (location.provider, location.key) == (LOCAL, "/data/media/a b.jpg")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("my_image.jpg", "not an object URL"),
        ("ftp://host/bucket/key", "not an object URL"),
        ("s3://my-bucket", "names a bucket"),
        ("s3://my-bucket/", "names a bucket"),
        ("s3://my_image.jpg", "not a valid s3 bucket"),  # seed 001's example has no bucket
        ("s3://UPPER/key", "not a valid s3 bucket"),
        ("https://my-bucket.s3.us-east-1.amazonaws.com/", "names a bucket"),
        ("https://my-bucket.s3.us-east-1.amazonaws.com/a.jpg?versionId=3", "query"),
        ("https://b-1.s3.us-east-1.amazonaws.com/a.jpg?X-Amz-Signature=abc", "signed"),
        ("https://storage.googleapis.com/b-1/a.jpg#frag", "fragment"),
        ("https://user:pw@storage.googleapis.com/b-1/a.jpg", "user names"),
        ("https://b-1.s3.us-east-1.amazonaws.com/%FF.jpg", "UTF-8"),
        ("https://myaccount.blob.core.windows.net/Bad--Name/x", "container"),
        ("arn:aws:s3::123456789012:accesspoint/x.mrap", "Multi-Region"),
        ("arn:aws:s3:us-east-1:123456789012:accesspoint/ap/x", "Multi-Region"),
        ("file://server/share/x.jpg", "no host"),
        ("file://relative", "no host"),
        ("http://:80/b/k", "no host"),
        ("http://host:99999/b/k", "not a valid URL"),
    ],
)
def test_parse_refuses(url: str, message: str) -> None:
    with pytest.raises(InvalidObjectUrl, match=message):
        parse_object_url(url)


# -- confinement -------------------------------------------------------------------------------
AWS = StorageTarget(S3, "media-bucket", region="eu-west-2")
MINIO = StorageTarget(S3C, "media", endpoint="http://127.0.0.1:9000")
AZURE = StorageTarget(AZ, "media", account="myaccount")
AZURITE = StorageTarget(
    AZ, "media", endpoint="http://127.0.0.1:10000/devstoreaccount1", account="devstoreaccount1"
)
GOOGLE = StorageTarget(GCS, "media-bucket")
MRAP_TARGET = StorageTarget(S3, MRAP)

CONFINED = [
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/a/b.jpg", "a/b.jpg"),
    (AWS, "https://s3.eu-west-2.amazonaws.com/media-bucket/a/b.jpg", "a/b.jpg"),
    (AWS, "https://media-bucket.s3.amazonaws.com/a/b.jpg", "a/b.jpg"),
    (AWS, "s3://media-bucket/a/b.jpg", "a/b.jpg"),
    (MRAP_TARGET, f"{MRAP}/a/b.jpg", "a/b.jpg"),
    (MINIO, "http://127.0.0.1:9000/media/a/b%20c.jpg", "a/b c.jpg"),
    (MINIO, "http://media.127.0.0.1:9000/a.jpg", "a.jpg"),
    (MINIO, "s3://media/a.jpg", "a.jpg"),
    (AZURE, "https://myaccount.blob.core.windows.net/media/x/y.mp4", "x/y.mp4"),
    (AZURE, "https://MYACCOUNT.blob.core.windows.net/media/x.mp4", "x.mp4"),
    (AZURITE, "http://127.0.0.1:10000/devstoreaccount1/media/x%2By.mp4", "x+y.mp4"),
    (GOOGLE, "gs://media-bucket/a.pdf", "a.pdf"),
    (GOOGLE, "https://storage.googleapis.com/media-bucket/a.pdf", "a.pdf"),
    (GOOGLE, "https://storage.cloud.google.com/media-bucket/a.pdf", "a.pdf"),
]


@pytest.mark.parametrize(("target", "url", "key"), CONFINED)
def test_key_for_url(target: StorageTarget, url: str, key: str) -> None:
    assert key_for_url(url, target) == key


REFUSED = [
    (AWS, "https://other-bucket.s3.eu-west-2.amazonaws.com/a.jpg", "bucket 'other-bucket'"),
    (AWS, "s3://other-bucket/a.jpg", "bucket 'other-bucket'"),
    (AWS, "gs://media-bucket/a.jpg", "gcs URL"),
    (AWS, "http://127.0.0.1:9000/media-bucket/a.jpg", "endpoint http://127.0.0.1:9000"),
    (AWS, f"{MRAP}/a.jpg", "bucket 'arn:"),
    (MINIO, "http://127.0.0.1:9001/media/a.jpg", "endpoint http://127.0.0.1:9001"),
    (MINIO, "http://127.0.0.1:9000/other/a.jpg", "'other'"),
    (MINIO, "https://127.0.0.1:9000/media/a.jpg", "endpoint https://127.0.0.1:9000"),
    (MINIO, "https://media.s3.us-east-1.amazonaws.com/a.jpg", "s3 URL"),
    (AZURE, "https://otheraccount.blob.core.windows.net/media/x.mp4", "account 'otheraccount'"),
    (AZURE, "https://myaccount.blob.core.windows.net/other/x.mp4", "container 'other'"),
    (AZURITE, "http://127.0.0.1:10000/otheraccount/media/x.mp4", "not under"),
    (AZURITE, "http://127.0.0.1:10000/devstoreaccount1/other/x.mp4", "'other'"),
    (GOOGLE, "gs://other-bucket/a.pdf", "bucket 'other-bucket'"),
    (GOOGLE, "s3://media-bucket/a.pdf", "s3 URL"),
]


@pytest.mark.parametrize(("target", "url", "message"), REFUSED)
def test_key_for_url_refuses_other_places(target: StorageTarget, url: str, message: str) -> None:
    with pytest.raises(UrlOutsideIntegration, match=r"reaches only|not under") as raised:
        key_for_url(url, target)
    assert message in str(raised.value)


# -- dot segments: normalised (RFC 3986 remove_dot_segments), then confined ----------------------
DOTTED = [
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/mine/../other/x.png", "other/x.png"),
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/a/%2e%2e/b.png", "b.png"),
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/a/%2E%2e/b/.%2E/c.png", "c.png"),
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/a/b/..", "a/"),
    (AWS, "https://s3.eu-west-2.amazonaws.com/media-bucket/a/../b.png", "b.png"),
    (AWS, "s3://media-bucket/a/./b.png", "a/b.png"),
    (AWS, "s3://media-bucket/a/b/../../c.png", "c.png"),
    (MRAP_TARGET, f"{MRAP}/a/../b.jpg", "b.jpg"),
    (MINIO, "http://127.0.0.1:9000/media/a/../b.jpg", "b.jpg"),
    (MINIO, "http://media.127.0.0.1:9000/a/./b.jpg", "a/b.jpg"),
    (AZURE, "https://myaccount.blob.core.windows.net/media/x/../y.mp4", "y.mp4"),
    (AZURITE, "http://127.0.0.1:10000/devstoreaccount1/media/a/%2e/b.mp4", "a/b.mp4"),
    (GOOGLE, "gs://media-bucket/a/../b.pdf", "b.pdf"),
    (GOOGLE, "https://storage.googleapis.com/media-bucket/a/%2E/b.pdf", "a/b.pdf"),
    # '%2e%2e' is literal in s3:// keys (not decoded, as the AWS CLI reads them), so not a segment
    (AWS, "s3://media-bucket/a/%2e%2e/b.png", "a/%2e%2e/b.png"),
]


@pytest.mark.parametrize(("target", "url", "key"), DOTTED)
def test_dot_segments_are_normalised(target: StorageTarget, url: str, key: str) -> None:
    assert key_for_url(url, target) == key


CLIMBING = [
    (AWS, "https://s3.eu-west-2.amazonaws.com/media-bucket/../other-bucket/x.png"),
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/../x.png"),
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/a/../../x.png"),
    (AWS, "https://media-bucket.s3.eu-west-2.amazonaws.com/a/%2e%2e/%2E%2E/x.png"),
    (AWS, "s3://media-bucket/../x.png"),
    (MRAP_TARGET, f"{MRAP}/../x.jpg"),
    (MINIO, "http://127.0.0.1:9000/media/%2e%2e/other/a.jpg"),
    (MINIO, "http://media.127.0.0.1:9000/../other/a.jpg"),
    (AZURE, "https://myaccount.blob.core.windows.net/media/../other/x.mp4"),
    (AZURITE, "http://127.0.0.1:10000/devstoreaccount1/media/../other/x.mp4"),
    (GOOGLE, "gs://media-bucket/a/../../other-bucket/x.pdf"),
    (GOOGLE, "https://storage.googleapis.com/media-bucket/../other/x.pdf"),
]


@pytest.mark.parametrize(("target", "url"), CLIMBING)
def test_dot_segments_climbing_above_the_bucket_are_refused(target: StorageTarget, url: str) -> None:
    with pytest.raises(InvalidObjectUrl, match=r"climbs above the top of the bucket") as raised:
        key_for_url(url, target)
    assert url in str(raised.value)


def test_dot_segments_back_to_the_bucket_itself_name_no_object() -> None:
    with pytest.raises(InvalidObjectUrl, match="names a bucket"):
        key_for_url("s3://media-bucket/a/..", AWS)


def test_keys_with_dot_segments_have_no_object_url() -> None:
    """No URL can name them: every client (and our parser) folds '.'/'..' segments, escaped or not."""
    for key in ("a/../b.png", "./a.png", "a/.", ".."):
        with pytest.raises(InvalidObjectUrl, match=r"'\.' or '\.\.'"):
            object_url_for(AWS, key)
    assert key_for_url(object_url_for(AWS, "a/.../b..png"), AWS) == "a/.../b..png"  # not dot segments


def test_local_dot_segments(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    target = StorageTarget(LOCAL, str(root))
    assert key_for_url(f"file://{root}/sub/./a.jpg", target) == "sub/a.jpg"
    for url in (f"file://{root}/sub/%2e%2e/x", f"file://{root}/sub/%2E%2E/%2e%2e/x"):
        with pytest.raises(UrlOutsideIntegration, match=r"'\.\.'"):
            key_for_url(url, target)


def test_local_confinement(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    target = StorageTarget(LOCAL, str(root))
    assert key_for_url(f"file://{root}/sub/a%20b.jpg", target) == "sub/a b.jpg"
    for url in (f"file://{root}/../x", f"file://{tmp_path}/x", f"file://{root}", "file:///etc/passwd"):
        with pytest.raises(UrlOutsideIntegration):
            key_for_url(url, target)


# -- properties ---------------------------------------------------------------------------------
segment = st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=12)
keys = st.lists(segment, min_size=1, max_size=4).map("/".join)
TARGETS = [AWS, MINIO, AZURE, AZURITE, GOOGLE, StorageTarget(S3, "b-1", endpoint="http://127.0.0.1:5000")]


def has_dot_segment(key: str) -> bool:
    return any(segment in {".", ".."} for segment in key.split("/"))


@given(key=keys, target=st.sampled_from(TARGETS))
def test_object_url_round_trips(key: str, target: StorageTarget) -> None:
    if has_dot_segment(key):
        with pytest.raises(InvalidObjectUrl):
            object_url_for(target, key)
        return
    url = object_url_for(target, key)
    assert key_for_url(url, target) == key


@given(key=keys)
def test_mrap_round_trips(key: str) -> None:
    if has_dot_segment(key):
        return
    assert key_for_url(object_url_for(MRAP_TARGET, key), MRAP_TARGET) == key


@given(key=keys, other=st.sampled_from(["zz-other", "media-bucket2"]), target=st.sampled_from(TARGETS))
def test_other_bucket_never_confined(key: str, other: str, target: StorageTarget) -> None:
    if has_dot_segment(key):
        return
    foreign = StorageTarget(target.provider, other, target.region, target.endpoint, target.account)
    with pytest.raises(UrlOutsideIntegration):
        key_for_url(object_url_for(foreign, key), target)


@given(st.text(max_size=80))
def test_parse_never_crashes(text: str) -> None:
    try:
        location = parse_object_url(text)
    except InvalidObjectUrl:
        return
    assert location.key
