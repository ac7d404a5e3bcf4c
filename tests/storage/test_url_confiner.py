"""The per-folder memory of ``UrlConfiner`` answers exactly as the full parse (``key_for_url``).

Hypothesis draws sequences of URLs over the accepted forms, other buckets, hosts, dot segments,
escapes and odd last segments, and runs them through one confiner (so later URLs hit folders an
earlier one taught it): every key, and every refusal's message, must be the full parse's.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bucketdex.core.types import Provider
from bucketdex.errors import BucketdexError
from bucketdex.storage.url_confiner import UrlConfiner
from bucketdex.storage.urls import StorageTarget, key_for_url

MRAP = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap"
ROOT = Path("/srv/media-root")
TARGETS = [
    StorageTarget(Provider.S3, "media-bucket", region="eu-west-2"),
    StorageTarget(Provider.S3, MRAP),
    StorageTarget(Provider.S3_COMPATIBLE, "media", endpoint="http://127.0.0.1:9000"),
    StorageTarget(Provider.AZURE, "media", account="myaccount"),
    StorageTarget(
        Provider.AZURE,
        "media",
        endpoint="http://127.0.0.1:10000/devstoreaccount1",
        account="devstoreaccount1",
    ),
    StorageTarget(Provider.GCS, "media-bucket"),
    StorageTarget(Provider.LOCAL, str(ROOT)),
]
PREFIXES = [
    "https://media-bucket.s3.eu-west-2.amazonaws.com/",
    "https://media-bucket.s3.amazonaws.com/",
    "https://s3.eu-west-2.amazonaws.com/media-bucket/",
    "https://s3.eu-west-2.amazonaws.com/",
    "https://other.s3.eu-west-2.amazonaws.com/",
    "s3://media-bucket/",
    "s3://media/",
    "s3://",
    f"{MRAP}/",
    "http://127.0.0.1:9000/media/",
    "http://127.0.0.1:9000/",
    "http://media.127.0.0.1:9000/",
    "http://127.0.0.1:9001/media/",
    "https://myaccount.blob.core.windows.net/media/",
    "https://otheraccount.blob.core.windows.net/media/",
    "http://127.0.0.1:10000/devstoreaccount1/media/",
    "http://127.0.0.1:10000/devstoreaccount1/",
    "gs://media-bucket/",
    "https://storage.googleapis.com/media-bucket/",
    f"file://{ROOT}/",
    f"file://{ROOT}/../",
    "file:///etc/",
    "file://host/",
    "https://",
    "https:/",
    "",
]
SEGMENTS = st.sampled_from(
    ["a", "b.jpg", "..", ".", "%2e%2e", "%2E", "x%20y", "x+y", "x?v=1", "x#f", "", "A~_-.png", "c d", "\x00"]
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    middle = draw(st.lists(SEGMENTS, max_size=3))
    last = draw(st.one_of(SEGMENTS, st.text(alphabet="ab.%2e+~_-/?# ", max_size=6)))
    return draw(st.sampled_from(PREFIXES)) + "".join(m + "/" for m in middle) + last


def _full(url: str, target: StorageTarget) -> tuple[str, str]:
    try:
        return "key", key_for_url(url, target)
    except BucketdexError as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=300, deadline=None)
@given(target=st.sampled_from(TARGETS), batch=st.lists(urls(), min_size=1, max_size=12))
def test_the_confiner_answers_as_the_full_parse(target: StorageTarget, batch: list[str]) -> None:
    confiner = UrlConfiner(target)
    for url in batch + batch:  # twice: the second pass answers from what the first taught it
        try:
            got = "key", confiner.key_for(url)
        except BucketdexError as exc:
            got = type(exc).__name__, str(exc)
        assert got == _full(url, target), url


def test_a_folder_is_parsed_once() -> None:
    target = StorageTarget(Provider.S3, "media-bucket", region="eu-west-2")
    confiner = UrlConfiner(target)
    folder = "https://media-bucket.s3.eu-west-2.amazonaws.com/shard-1/"
    keys = [confiner.key_for(f"{folder}img_{n}.jpg") for n in range(1000)]
    assert keys == [f"shard-1/img_{n}.jpg" for n in range(1000)]
    assert confiner._folder_keys == {folder: "shard-1/"}


@settings(max_examples=300, deadline=None)
@given(target=st.sampled_from(TARGETS), batch=st.lists(urls(), min_size=1, max_size=12))
def test_all_inside_only_when_every_url_has_a_key(target: StorageTarget, batch: list[str]) -> None:
    every_one_inside = all(_full(url, target)[0] == "key" for url in batch)
    if UrlConfiner(target).all_inside(batch):
        assert every_one_inside, batch


def test_all_inside_answers_for_a_whole_plain_manifest() -> None:
    target = StorageTarget(Provider.GCS, "media-bucket")
    urls = [f"gs://media-bucket/shard-{n % 7}/img_{n}.jpg" for n in range(10_000)]
    assert UrlConfiner(target).all_inside(urls)
    assert not UrlConfiner(target).all_inside([*urls, "gs://other-bucket/x.jpg"])
    assert not UrlConfiner(target).all_inside([*urls, "gs://media-bucket/a%20b.jpg"])  # to decode


def test_a_url_holding_a_line_break_cannot_vouch_for_another() -> None:
    """Two lines of one URL that pass must not make up for a URL that does not."""
    target = StorageTarget(Provider.LOCAL, str(ROOT))
    urls = [f"file://{ROOT}/a.jpg\nfile://{ROOT}/b.jpg", "s3://elsewhere/x%20y.jpg"]
    assert not UrlConfiner(target).all_inside(urls)
    assert not UrlConfiner(target).all_inside([f"file://{ROOT}/a.jpg", f"file://{ROOT}/.."])
    assert not UrlConfiner(target).all_inside([])
