"""The permission self-test, against emulators where the missing permission is real."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, CorsRule

from bucketdex.storage import open_store
from bucketdex.storage.s3 import S3Store
from bucketdex.storage.selftest import Outcome, check
from emulators import AZURITE_ACCOUNT, AZURITE_KEY, MOTO_KEYS, MotoAuth, container_sas, make_container, unique

ORIGIN = "https://app.bucketdex.example"


def outcomes(report: object) -> dict[str, Outcome]:
    return {s.name: s.outcome for s in report.steps}  # type: ignore[attr-defined]


def test_s3_read_only_user_fails_the_write_step_naming_s3_put_object(moto_auth: MotoAuth) -> None:
    store = open_store("s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=moto_auth.readonly)
    report = check(store, write=True)
    assert outcomes(report) == {"list": Outcome.PASSED, "read": Outcome.PASSED, "write": Outcome.FAILED}
    assert "s3:PutObject" in report.step("write").fix
    assert f"arn:aws:s3:::{moto_auth.bucket}/*" in report.step("write").fix
    assert not report.ok
    assert moto_auth.readonly["secret_access_key"] not in str(report.to_dict())


def test_s3_full_user_passes_every_step_and_cleans_up(moto_auth: MotoAuth) -> None:
    store = open_store("s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=moto_auth.full)
    report = check(store, write=True)
    assert report.ok, report.to_dict()
    assert outcomes(report) == {"list": Outcome.PASSED, "read": Outcome.PASSED, "write": Outcome.PASSED}
    assert [o.key for o in store.list(".bucketdex-selftest/")] == []


def test_s3_wrong_secret_fails_listing_with_a_credentials_fix(moto_auth: MotoAuth) -> None:
    creds = {"access_key_id": moto_auth.full["access_key_id"], "secret_access_key": "not-the-secret-123"}
    report = check(open_store("s3", moto_auth.bucket, endpoint=moto_auth.endpoint, credentials=creds))
    assert outcomes(report) == {"list": Outcome.FAILED, "read": Outcome.SKIPPED}
    assert "secret" in report.step("list").fix
    assert "not-the-secret-123" not in str(report.to_dict())


def test_s3_cors_rule_checked_for_the_origin(moto_endpoint: str) -> None:
    bucket = unique("bdx")
    store = open_store("s3", bucket, endpoint=moto_endpoint, credentials=MOTO_KEYS)
    assert isinstance(store, S3Store)
    store._client.create_bucket(Bucket=bucket)
    missing = check(store, cors_origin=ORIGIN).step("cors")
    assert missing.outcome is Outcome.FAILED
    assert ORIGIN in missing.fix and "AllowedMethods" in missing.fix
    store._client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET", "HEAD"]}]},
    )
    assert check(store, cors_origin=ORIGIN).step("cors").outcome is Outcome.PASSED
    other = check(store, cors_origin="https://elsewhere.example").step("cors")
    assert other.outcome is Outcome.FAILED and "none allowing" in other.detail


def test_missing_bucket_fails_listing_naming_it(moto_endpoint: str) -> None:
    report = check(open_store("s3", "no-such-bucket-x", endpoint=moto_endpoint, credentials=MOTO_KEYS))
    assert report.step("list").outcome is Outcome.FAILED
    assert "no-such-bucket-x" in report.step("list").detail
    assert "create the bucket" in report.step("list").fix


def test_azure_read_only_sas_fails_the_write_step(azurite_endpoint: str) -> None:
    container = make_container(azurite_endpoint)
    owner = open_store(
        "azure", container, endpoint=azurite_endpoint, credentials={"account_key": AZURITE_KEY}
    )
    owner.put("media/x.jpg", b"\xff\xd8\xff")
    creds = {"sas_token": container_sas(container, read=True, list=True)}
    report = check(open_store("azure", container, endpoint=azurite_endpoint, credentials=creds), write=True)
    assert outcomes(report) == {"list": Outcome.PASSED, "read": Outcome.PASSED, "write": Outcome.FAILED}
    assert "Storage Blob Data Contributor" in report.step("write").fix
    # with no list permission, listing fails with the list fix
    report = check(
        open_store(
            "azure",
            container,
            endpoint=azurite_endpoint,
            credentials={"sas_token": container_sas(container, read=True)},
        ),
        probe_key="media/x.jpg",
    )
    assert outcomes(report) == {"list": Outcome.FAILED, "read": Outcome.PASSED}
    assert "l permission" in report.step("list").fix


def test_a_write_without_delete_permission_reports_the_leftover(azurite_endpoint: str) -> None:
    """SAS with create+write but no d: the write step passes (bucketdex needs no deletes) and
    says which object it left, how to remove it, and which permission would let it clean up."""
    container = make_container(azurite_endpoint)
    owner = open_store(
        "azure", container, endpoint=azurite_endpoint, credentials={"account_key": AZURITE_KEY}
    )
    owner.put("media/x.jpg", b"\xff\xd8\xff")
    sas = container_sas(container, read=True, list=True, create=True, write=True)
    store = open_store("azure", container, endpoint=azurite_endpoint, credentials={"sas_token": sas})
    write = check(store, write=True).step("write")
    leftover = [o.key for o in owner.list(".bucketdex-selftest/")]
    assert len(leftover) == 1
    assert write.outcome is Outcome.PASSED
    assert f"could not delete {leftover[0]!r}" in write.detail
    assert "remove it by hand" in write.detail and "d permission" in write.detail  # shown by the CLI
    assert "d permission" in write.fix and leftover[0] in write.fix


def test_a_probe_that_cannot_be_read_back_is_still_removed(azurite_endpoint: str) -> None:
    container = make_container(azurite_endpoint)
    owner = open_store(
        "azure", container, endpoint=azurite_endpoint, credentials={"account_key": AZURITE_KEY}
    )
    sas = container_sas(container, list=True, create=True, write=True, delete=True)  # no r
    report = check(
        open_store("azure", container, endpoint=azurite_endpoint, credentials={"sas_token": sas}), write=True
    )
    write = report.step("write")
    assert write.outcome is Outcome.FAILED and "r permission" in write.fix
    assert "deleted it" in write.detail
    assert list(owner.list()) == []


def test_azure_cors_from_the_blob_service_properties(azurite_endpoint: str) -> None:
    store = open_store(
        "azure",
        make_container(azurite_endpoint),
        endpoint=azurite_endpoint,
        credentials={"account_key": AZURITE_KEY},
    )
    origin = "https://" + unique("origin") + ".example"
    assert check(store, cors_origin=origin).step("cors").outcome is Outcome.FAILED
    with BlobServiceClient(
        azurite_endpoint, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    ) as svc:
        svc.set_service_properties(cors=[CorsRule([origin], ["GET", "HEAD"], allowed_headers=["*"])])
    assert check(store, cors_origin=origin).step("cors").outcome is Outcome.PASSED


def test_local_root_passes_and_skips_cors(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    report = check(open_store("local", str(tmp_path)), write=True, cors_origin=ORIGIN)
    assert outcomes(report) == {
        "list": Outcome.PASSED,
        "read": Outcome.PASSED,
        "write": Outcome.PASSED,
        "cors": Outcome.SKIPPED,
    }
    assert report.ok


def test_missing_probe_key_fails_the_read_step(tmp_path: Path) -> None:
    report = check(open_store("local", str(tmp_path)), probe_key="nope.jpg")
    assert report.step("read").outcome is Outcome.FAILED
    assert "probe key" in report.step("read").fix


@pytest.mark.parametrize("provider", ["s3", "azure", "gcs"])
def test_cors_fix_is_in_the_providers_format(provider: str) -> None:
    from bucketdex.core.types import Provider
    from bucketdex.storage.selftest import cors_fix

    text = cors_fix(Provider(provider), ORIGIN)
    assert ORIGIN in text and "GET" in text
