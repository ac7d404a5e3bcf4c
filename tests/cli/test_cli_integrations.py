"""`bucketdex integration ...`, `manifest generate` and `register --from` against real backends
(moto S3 on 127.0.0.1, local disk), on both catalog backends.  No secret may appear in any output,
JSON, error or database column."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from bucketdex.cli.app import app
from bucketdex.storage import open_store
from bucketdex.store.database import Database
from bucketdex.store.tables import integrations
from emulators import AZURITE_KEY, MOTO_KEYS, MotoAuth, make_bucket, make_container, unique

runner = CliRunner()


def unwrapped(output: str) -> str:
    """Click's usage-error box as one line: it wraps a message that holds a long temporary path
    wherever the path's length puts the break."""
    return " ".join(output.replace("│", " ").split())


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKETDEX_SECRET_KEY", Fernet.generate_key().decode())


class Cli:
    """Runs commands and keeps every byte they printed, to search it for secrets afterwards."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.printed: list[str] = []

    def __call__(
        self, *args: str, code: int = 0, input: str | None = None, env: dict[str, str] | None = None
    ) -> Any:
        result = runner.invoke(app, ["--database-url", self.db.url, *args], input=input, env=env)
        self.printed.append(result.output)
        assert result.exit_code == code, result.output
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self(*args, "--json", code=code).stdout)

    def assert_never_shown(self, *secrets: str) -> None:
        everything = "\n".join(self.printed)
        with self.db.read() as conn:
            rows = conn.execute(select(integrations)).all()
        stored = repr(rows) + "".join(bytes(r.secret_ciphertext or b"").decode("latin-1") for r in rows)
        for secret in secrets:
            assert secret not in everything, "a secret was printed"
            assert secret not in stored, "a secret is stored in clear text"


@pytest.fixture
def cli(db: Database) -> Cli:
    return Cli(db)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_local_integration_add_list_show_check_delete(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    (root / "a.txt").write_text("hello")
    made = cli.json("integration", "add", "disk", "--provider", "local", "--bucket", str(root))
    assert (made["provider"], made["bucket"], made["has_credentials"]) == ("local", str(root), False)
    assert [i["title"] for i in cli.json("integration", "list")] == ["disk"]
    assert cli.json("integration", "show", made["id"])["title"] == "disk"
    assert "default chain" in cli("integration", "show", "disk").stdout

    checked = cli("integration", "check", "disk", "--write").stdout
    assert "✓ list" in checked and "✓ write" in checked and "self-test passed" in checked
    report = cli.json("integration", "check", "disk")
    assert report["ok"] is True and [s["outcome"] for s in report["steps"]] == ["passed", "passed"]

    refused = cli(
        "integration", "add", "x", "--provider", "local", "--bucket", str(root), "--profile", "p", code=2
    )
    assert "--profile does not apply to a local integration" in refused.output
    cli("integration", "delete", "disk", input="n\n", code=1)
    assert cli.json("integration", "delete", "disk", "--yes") == {"deleted": made["id"], "title": "disk"}
    assert cli.json("integration", "list") == []
    gone = cli("integration", "show", "disk", code=1)
    assert (
        gone.stderr.strip()
        == "error: no integration titled or identified 'disk' (there are: none); see `bucketdex integration list`"
    )


def test_s3_credentials_are_sealed_and_never_shown(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    bucket = make_bucket(moto_endpoint)
    secret = "file-secret-" + uuid.uuid4().hex  # moto without IAM accepts any secret
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"access_key_id": MOTO_KEYS["access_key_id"], "secret_access_key": secret}))
    common = ["--provider", "s3", "--bucket", bucket, "--endpoint", moto_endpoint]
    cli("integration", "add", "from-file", *common, "--credentials-file", str(creds))
    made = cli.json("integration", "show", "from-file")
    assert made["has_credentials"] is True and made["endpoint"] == moto_endpoint
    assert "secret_access_key" not in json.dumps(made)

    env_secret = "env-secret-" + uuid.uuid4().hex
    cli(
        "integration",
        "add",
        "from-env",
        *common,
        "--access-key-id",
        "AKIDENV",
        env={"BUCKETDEX_SECRET_ACCESS_KEY": env_secret},
    )
    typed = "typed-secret-" + uuid.uuid4().hex
    prompted = cli("integration", "add", "typed", *common, "--access-key-id", "AKIDTYPED", input=typed + "\n")
    assert "input hidden" in prompted.output

    listed = cli("integration", "list").stdout + json.dumps(cli.json("integration", "list"))
    assert listed.count("sealed") == 3 and listed.count('"has_credentials": true') == 3
    for title in ("from-file", "from-env", "typed"):
        assert cli.json("integration", "check", title, "--write")["ok"] is True
        assert "self-test passed" in cli("integration", "check", title).stdout
    cli.assert_never_shown(secret, env_secret, typed)


def test_bad_credentials_input_is_refused_without_echoing_it(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"secret_access_key": "hunter2-leak-check",}x')
    out = cli(
        "integration",
        "add",
        "x",
        "--provider",
        "s3",
        "--bucket",
        "b",
        "--credentials-file",
        str(broken),
        code=2,
    )
    assert "is not valid JSON" in unwrapped(out.output)
    deep = tmp_path / "deep.json"
    deep.write_text('{"secret_access_key": ' + "[" * 100_000 + "]" * 100_000 + "}")
    out = cli(
        "integration",
        "add",
        "x",
        "--provider",
        "s3",
        "--bucket",
        "b",
        "--credentials-file",
        str(deep),
        code=2,
    )
    assert "one flat JSON object" in unwrapped(out.output) and "Traceback" not in out.output
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"secret_key": "hunter2-leak-check"}')
    out = cli(
        "integration",
        "add",
        "x",
        "--provider",
        "s3",
        "--bucket",
        "b",
        "--credentials-file",
        str(unknown),
        code=1,
    )
    assert "unknown S3 credential field(s) secret_key" in out.stderr
    out = cli(
        "integration",
        "add",
        "x",
        "--provider",
        "s3",
        "--bucket",
        "b",
        "--profile",
        "p",
        "--access-key-id",
        "k",
        code=2,
    )
    assert "give one source of credentials" in out.output
    cli.assert_never_shown("hunter2-leak-check")
    assert cli.json("integration", "list") == []


def test_check_with_a_wrong_secret_fails_naming_the_fix(cli: Cli, moto_auth: MotoAuth) -> None:
    wrong = "wrong-secret-" + uuid.uuid4().hex
    cli(
        "integration", "add", "restricted", "--provider", "s3", "--bucket", moto_auth.bucket,
        "--endpoint", moto_auth.endpoint, "--access-key-id", moto_auth.full["access_key_id"],
        env={"BUCKETDEX_SECRET_ACCESS_KEY": wrong},
    )  # fmt: skip
    failed = cli("integration", "check", "restricted", code=1).stdout
    assert "✗ list   failed" in failed and "self-test FAILED (list)" in failed
    fix_line = next(line for line in failed.splitlines() if line.strip().startswith("fix:"))
    assert "secret" in fix_line
    report = cli.json("integration", "check", "restricted", code=1)
    assert report["ok"] is False and report["steps"][0]["fix"]
    cli.assert_never_shown(wrong)


# -- bucket listing → manifest → registration ------------------------------------------------------------
@pytest.fixture
def filled_bucket(moto_endpoint: str) -> Iterator[tuple[str, str]]:
    """A moto bucket with 1000 PNGs under shots/<shard>/ (plus files the image listing skips)."""
    bucket = make_bucket(moto_endpoint)
    store = open_store("s3", bucket, region="us-east-1", endpoint=moto_endpoint, credentials=MOTO_KEYS)
    png = _png()
    keys = [f"shots/{n % 10}/img-{n:04d}.png" for n in range(1000)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put(key, png, "image/png"), keys))
    store.put("shots/readme.txt", b"not an image")
    store.put("other/elsewhere.png", png)
    store.close()
    yield bucket, moto_endpoint


def test_generate_and_register_from_a_1000_object_prefix(
    cli: Cli, filled_bucket: tuple[str, str], tmp_path: Path
) -> None:
    bucket, endpoint = filled_bucket
    cli(
        "integration", "add", "shots", "--provider", "s3", "--bucket", bucket, "--endpoint", endpoint,
        "--credentials-file", "-", input=json.dumps(MOTO_KEYS),
    )  # fmt: skip
    prefix = f"{endpoint}/{bucket}/shots/"
    out = tmp_path / "shots.json"
    said = cli(
        "manifest",
        "generate",
        prefix,
        "--integration",
        "shots",
        "--type",
        "images",
        "--shard-from-parent",
        "-o",
        str(out),
    )
    assert "1000 images" in said.stdout
    images = json.loads(out.read_bytes())["images"]
    assert len(images) == 1000
    assert images[0] == {
        "objectUrl": f"{prefix}0/img-0000.png",
        "title": "img-0000.png",
        "clientMetadata": {"shard": 0},
    }

    folder = cli.json("folder", "create", "shots")["uuid"]
    done = cli.json(
        "register",
        folder,
        "--from",
        prefix,
        "--integration",
        "shots",
        "--type",
        "images",
        "--shard-from-parent",
    )
    assert done["status"] == "DONE" and done["units_done_count"] == 1000
    listed = cli.json("items", "list", folder)
    assert len(listed) == 1000
    assert {i["client_metadata"]["shard"] for i in listed} == set(range(10))

    outside = cli(
        "register",
        folder,
        "--from",
        f"{endpoint}/{bucket}-other/x/",
        "--integration",
        "shots",
        "--type",
        "images",
        code=1,
    )
    assert "this integration reaches only" in outside.stderr
    both = cli(
        "register", folder, str(out), "--from", prefix, "--integration", "shots", "--type", "images", code=2
    )
    assert "either a MANIFEST file or --from" in both.output
    cli.assert_never_shown(MOTO_KEYS["secret_access_key"])


def test_register_from_a_local_root(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "scans"
    for series in ("p1/s1", "p1/s2"):
        (root / series).mkdir(parents=True)
        for n in range(3):
            (root / series / f"{n}.dcm").write_bytes(b"DICM")
    cli("integration", "add", "scans", "--provider", "local", "--bucket", str(root))
    folder = cli.json("folder", "create", "scans")["uuid"]
    dry = cli.json(
        "register",
        folder,
        "--from",
        root.as_uri() + "/",
        "--integration",
        "scans",
        "--type",
        "dicom",
        "--dry-run",
    )
    assert dry["would_add"] == 2 and dry["unit_errors"] == []
    generated = cli(
        "manifest", "generate", (root / "p1").as_uri(), "--integration", "scans", "--type", "dicom"
    ).stdout
    series = json.loads(generated)["dicom_series"]
    assert [(s["title"], len(s)) for s in series] == [("s1", 4), ("s2", 4)]


def _gcs_bucket(endpoint: str) -> str:
    name = unique("bdx")
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=bucketdex-test",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10):
        return name


def test_azure_and_gcs_integrations_from_the_cli(
    cli: Cli, azurite_endpoint: str, gcs_endpoint: str, gcs_service_account: dict[str, str], tmp_path: Path
) -> None:
    container = make_container(azurite_endpoint)
    cli(
        "integration", "add", "blobs", "--provider", "azure", "--bucket", container,
        "--endpoint", azurite_endpoint, "--account-key", env={"BUCKETDEX_AZURE_ACCOUNT_KEY": AZURITE_KEY},
    )  # fmt: skip
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(gcs_service_account))  # as Google hands it out
    bucket = _gcs_bucket(gcs_endpoint)
    cli(
        "integration", "add", "gcp", "--provider", "gcs", "--bucket", bucket,
        "--endpoint", gcs_endpoint, "--credentials-file", str(key_file),
    )  # fmt: skip
    for title in ("blobs", "gcp"):
        assert cli.json("integration", "check", title, "--write")["ok"] is True
    urls = {}
    for title, store_bucket, endpoint, creds in (
        ("blobs", container, azurite_endpoint, {"account_key": AZURITE_KEY}),
        ("gcp", bucket, gcs_endpoint, {"service_account_json": json.dumps(gcs_service_account)}),
    ):
        provider = "azure" if title == "blobs" else "gcs"
        with open_store(provider, store_bucket, endpoint=endpoint, credentials=creds) as store:
            store.put("pages/7/doc.pdf", b"%PDF-1.4")
            urls[title] = store.object_url("pages/")
    for title, url in urls.items():
        pdfs = json.loads(
            cli(
                "manifest", "generate", url, "--integration", title, "--type", "pdfs", "--shard-from-parent"
            ).stdout
        )
        assert [(p["title"], p["clientMetadata"]) for p in pdfs["pdfs"]] == [("doc.pdf", {"shard": 7})]
    cli.assert_never_shown(AZURITE_KEY, gcs_service_account["private_key"].splitlines()[1])
