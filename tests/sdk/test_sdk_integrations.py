"""SDK integrations against real backends (moto S3 and local disk): create with explicit
credentials, self-test, signed URLs confined to the bucket, delete; no secret ever shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bucketdex import Client, CloudIntegration, NotFound, Provider
from bucketdex.catalog.catalog import Catalog
from bucketdex.storage import UnsupportedOperation, UrlOutsideIntegration
from bucketdex.storage.selftest import Outcome
from bucketdex.store.tables import integrations
from emulators import MOTO_KEYS, MotoAuth, fetch, make_bucket, unique


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seal credentials with a per-test key (never a key file under the real home)."""
    monkeypatch.setenv("BUCKETDEX_SECRET_KEY", Fernet.generate_key().decode())


def _row_text(client: Client, integration: CloudIntegration, catalog: Catalog) -> str:
    with catalog.db.read() as conn:
        row = conn.execute(select(integrations).where(integrations.c.id == integration.id)).one()
    return repr(tuple(row)) + bytes(row.secret_ciphertext or b"").decode("latin-1")


def test_s3_integration_with_explicit_credentials(
    client: Client, moto_endpoint: str, catalog: Catalog
) -> None:
    bucket = make_bucket(moto_endpoint)
    secret = MOTO_KEYS["secret_access_key"]
    made = client.create_integration(
        "media", "s3", bucket, region="us-east-1", endpoint=moto_endpoint, credentials=MOTO_KEYS
    )
    assert isinstance(made, CloudIntegration)
    assert (made.title, made.provider, made.bucket, made.endpoint, made.has_credentials) == (
        "media",
        Provider.S3,
        bucket,
        moto_endpoint,
        True,
    )
    assert made.integration_id == made.id
    assert secret not in repr(made) and secret not in repr(made.record)
    assert secret not in _row_text(client, made, catalog) and MOTO_KEYS["access_key_id"] not in _row_text(
        client, made, catalog
    )

    report = made.check(write=True)
    assert report.ok, report.to_dict()
    assert [(s.name, s.outcome) for s in report.steps] == [
        ("list", Outcome.PASSED),
        ("read", Outcome.SKIPPED),  # an empty bucket: nothing to read
        ("write", Outcome.PASSED),
    ]
    assert secret not in str(report.to_dict())

    with catalog.integrations.open_store(made.id) as store:
        store.put("media/a.jpg", b"\xff\xd8\xffjpeg")
        url = store.object_url("media/a.jpg")
    assert made.check().step("read").outcome is Outcome.PASSED
    assert fetch(made.signed_url(url, expires_in_seconds=60)) == b"\xff\xd8\xffjpeg"
    with pytest.raises(UrlOutsideIntegration, match="other-bucket"):
        made.signed_url(f"{moto_endpoint}/other-bucket/media/a.jpg")
    with pytest.raises(UrlOutsideIntegration):
        made.signed_url("s3://elsewhere/media/a.jpg")


def test_wrong_secret_fails_the_self_test_with_the_fix(client: Client, moto_auth: MotoAuth) -> None:
    wrong = "wrong-" + unique("secret")
    made = client.create_integration(
        "restricted",
        "s3",
        moto_auth.bucket,
        endpoint=moto_auth.endpoint,
        credentials={"access_key_id": moto_auth.full["access_key_id"], "secret_access_key": wrong},
    )
    report = made.check()
    assert not report.ok
    assert report.step("list").outcome is Outcome.FAILED
    assert "secret" in report.step("list").fix
    assert wrong not in str(report.to_dict())
    good = client.create_integration(
        "readonly", "s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=moto_auth.readonly
    )
    write = good.check(write=True).step("write")
    assert write.outcome is Outcome.FAILED and "s3:PutObject" in write.fix


def test_lookup_by_id_or_title_and_delete(client: Client, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.txt").write_text("hello")
    local = client.create_integration("disk", "local", str(root))
    client.create_integration("other", "s3", "b")
    assert client.get_cloud_integration("disk") == local
    assert client.get_cloud_integration(str(local.id)).title == "disk"
    assert client.get_cloud_integration(local.id).bucket == str(root)
    assert [i.title for i in client.get_cloud_integrations()] == ["disk", "other"]
    assert not local.has_credentials

    report = local.check(write=True)
    assert report.ok and report.step("read").outcome is Outcome.PASSED
    with pytest.raises(UnsupportedOperation, match="signing URLs"):
        local.signed_url((root / "a" / "x.txt").as_uri())
    with pytest.raises(UrlOutsideIntegration):
        local.signed_url((tmp_path / "elsewhere.txt").as_uri())

    local.delete()
    with pytest.raises(NotFound, match="disk"):
        client.get_cloud_integration("disk")
    with pytest.raises(NotFound, match=str(local.id)):
        client.get_cloud_integration(local.id)
    assert [i.title for i in client.get_cloud_integrations()] == ["other"]
