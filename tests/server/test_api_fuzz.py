"""OpenAPI-driven fuzz run of the server (issue 13, "prove it stays fixed").

schemathesis reads the server's own ``/openapi.json`` and sends generated requests, valid and
invalid, for every operation it describes, to a real uvicorn server on 127.0.0.1 (SQLite and
PostgreSQL), with an admin API key and a user-role key.  Half the cases are as generated
(random UUIDs in paths); the other half name existing objects in their paths, bodies and
queries: the seeded ones (a folder, two items from a manifest import, its job, a dataset, a
local integration and a URL inside it) or ones earlier fuzzed requests made.  The only check is
schemathesis' ``not_a_server_error``: 400, 401, 403, 404, 409, 422 are the API refusing bad
input as it should; a 5xx is a defect.  Every 5xx is collected (not just the first) with the
server's traceback, so one run lists them all.  Import jobs the run started that crashed (an
internal error instead of unit errors) are listed too, report-only: no answer was a 5xx.

``bench/fuzz_api.py`` runs the same harness with more examples and writes the findings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, Phase
from PIL import Image
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from server_support import make_tenant, running_server
from sqlalchemy import text

from bucketdex.auth.service import AuthService
from bucketdex.catalog.secrets import SecretBox
from bucketdex.server import ServerSettings, create_app
from bucketdex.store.database import Database
from bucketdex.store.tables import DEFAULT_ORG_ID, metadata

# per operation and generation mode: small enough for CI (both backends well under 3 minutes)
TEST_EXAMPLES = 10
TEST_SEED = 13
LOCAL_ROOTS_ENV = "BUCKETDEX_LOCAL_ROOTS"
PATH_SEEDS = ("folder_id", "item_id", "job_id", "dataset_id", "integration_id")
AnyCase = Case[Any]
CREATORS = {  # POST path: the kind of object it makes, the key of its id in the answer
    "/api/v1/folders": ("folder_id", "id"),
    "/api/v1/datasets": ("dataset_id", "id"),
    "/api/v1/integrations": ("integration_id", "id"),
    "/v2/public/storage/folders": ("folder_id", "uuid"),
    "/v2/public/datasets": ("dataset_id", "datasetUuid"),
}
JOB_STARTERS = ("/import-jobs", "/import-from-bucket", "/data-upload-jobs")  # POST paths ending so


@dataclass(frozen=True)
class Target:
    """A running server with seeded objects: base URL, API key per role, the seeded objects' ids
    by path parameter name (and ``url_prefix``, a URL inside the local integration)."""

    base_url: str
    tokens: dict[str, str]
    seeds: dict[str, str]
    # the same, in a new organisation: a clean slate to replay a finding in (bench/fuzz_api.py)
    fresh: Callable[[], Target] = field(repr=False, compare=False)


@dataclass
class Finding:
    """One distinct 5xx: the operation, status and cause; the shortest request that gave it."""

    operation: str
    status: int
    role: str
    signature: str  # the exception's type and innermost bucketdex frame: one per defect
    cause: str
    curl: str
    response: str
    traceback: str
    case: AnyCase = field(repr=False)  # replayable: bench/fuzz_api.py shrinks it
    hits: int = 1
    note: str = ""


@dataclass
class FuzzReport:
    """What one run sent and got: answers by status, the distinct 5xx, and (report-only) import
    jobs the fuzzed requests started that died of an internal error instead of failing units."""

    backend: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: dict[tuple[str, int, str], Finding] = field(default_factory=dict)
    job_crashes: dict[tuple[str, int, str], Finding] = field(default_factory=dict)
    jobs: dict[str, tuple[AnyCase, str, str]] = field(default_factory=dict, repr=False)
    # ids of objects to name in paths, bodies, queries: the seeds first, then what the run made
    made: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def record(self, finding: Finding, kind: str = "findings") -> None:
        """One more occurrence of a defect; the shortest reproduction is kept."""
        found: dict[tuple[str, int, str], Finding] = getattr(self, kind)
        key = (finding.operation, finding.status, finding.signature)
        known = found.get(key)
        if known is None:
            found[key] = finding
            return
        known.hits += 1
        if len(finding.curl) < len(known.curl):
            finding.hits = known.hits
            found[key] = finding

    def summary(self) -> str:
        lines = [f"{self.backend}: {self.requests} requests, {self.server_errors} responses of 5xx"]
        for f in self.findings.values():
            lines += [f"  {f.operation} -> {f.status} ({f.hits}x, {f.role}): {f.cause}", f"    {f.curl}"]
            lines += [f"    ({f.note})"] if f.note else []
        for f in self.job_crashes.values():
            lines += [
                f"  (report only) job from {f.operation} crashed ({f.hits}x): {f.cause}",
                f"    {f.curl}",
            ]
        return "\n".join(lines)


# the server: app, tenants, seeded objects -----------------------------------------------------


@contextmanager
def fuzz_server(database_url: str, workdir: Path) -> Iterator[Target]:
    """A uvicorn server on 127.0.0.1 over ``database_url`` (migrated), local integrations
    allowed under ``workdir/media``, an admin and a user key, and seeded objects."""
    media = workdir / "media"
    media.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 3), "red").save(media / "red.png")
    (media / "notes.txt").write_text("not an image\n")
    previous = os.environ.get(LOCAL_ROOTS_ENV)
    os.environ[LOCAL_ROOTS_ENV] = str(media)  # read by ServerSettings: the operator's allow-list
    db = Database(database_url)
    try:
        # long polls (job status) cut short: a fuzzed timeout must not stall the run
        settings = ServerSettings(max_long_poll_seconds=0.3, max_body_bytes=2 * 1024 * 1024)
        app = create_app(db, secrets=SecretBox(Fernet.generate_key()), settings=settings)
        auth = AuthService(db)
        with running_server(app) as base_url:

            def fresh() -> Target:
                tokens = _keys(auth, f"fuzz-{uuid.uuid4().hex[:8]}")
                return Target(base_url, tokens, seed_objects(base_url, tokens["admin"], media), fresh)

            yield fresh()
    finally:
        if previous is None:
            os.environ.pop(LOCAL_ROOTS_ENV, None)
        else:
            os.environ[LOCAL_ROOTS_ENV] = previous
        db.dispose()


def _keys(auth: AuthService, org_name: str) -> dict[str, str]:
    """A new organisation with an admin and a user: an API key for each role."""
    admin = make_tenant(auth, org_name)
    user = auth.add_user(admin.org_id, f"{org_name}-user", "user")
    return {"admin": admin.token, "user": auth.create_api_key(user.id, "fuzz").token}


def seed_objects(base_url: str, token: str, media: Path) -> dict[str, str]:
    """Real objects for path parameters, made through the API as a client would."""
    with requests.Session() as http:
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {token}"

        def call(method: str, path: str, expect: int, **kwargs: Any) -> Any:
            response = http.request(method, base_url + path, timeout=30, **kwargs)
            assert response.status_code == expect, f"seeding {method} {path}: {response.text}"
            return response.json()

        folder = call("POST", "/api/v1/folders", 201, json={"name": "fuzz-seed"})["id"]
        image = {"width": 8, "height": 8, "file_size": 64, "mime_type": "image/jpeg"}
        manifest = {"images": [{"objectUrl": f"https://bucket.example/seed-{i}.jpg", "title": f"seed-{i}",
                                "imageMetadata": image, "clientMetadata": {}} for i in range(2)]}  # fmt: skip
        job = call("POST", f"/api/v1/folders/{folder}/import-jobs", 202, json=manifest)["id"]
        deadline = time.monotonic() + 60
        while call("GET", f"/api/v1/import-jobs/{job}", 200)["status"] != "DONE":
            assert time.monotonic() < deadline, "the seed import did not finish"
        item = call("GET", f"/api/v1/folders/{folder}/items", 200)["results"][0]["id"]
        dataset = call("POST", "/api/v1/datasets", 201, json={"title": "fuzz-seed"})["id"]
        call("POST", f"/api/v1/datasets/{dataset}/items", 200, json={"item_ids": [item]})
        local = {"title": "fuzz-local", "provider": "local", "bucket": str(media)}
        integration = call("POST", "/api/v1/integrations", 201, json=local)["id"]
    seeds = (folder, item, job, dataset, integration)
    # and a URL inside the local integration: listing and importing from it reach the files
    return {**dict(zip(PATH_SEEDS, seeds, strict=True)), "url_prefix": media.as_uri() + "/"}


# the fuzz run ---------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Error records the server logs (it runs in this process): those of the request being
    handled, and those of import jobs crashing in the background."""

    JOB_RUNNER = "bucketdex.catalog.job_runner"

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.job_records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        (self.job_records if record.name == self.JOB_RUNNER else self.records).append(record)

    def cause(self) -> tuple[str, str, str]:
        """The request's error: signature, one-line cause and traceback (``describe``)."""
        # the server's own log line comes before the answer is sent; uvicorn's may come after it
        ours = [r for r in self.records if r.name.startswith("bucketdex.server")]
        if not ours and not self.records:
            return "no error logged", "no error logged", ""
        return describe((ours or self.records)[-1])


def describe(record: logging.LogRecord) -> tuple[str, str, str]:
    """The signature (exception type and innermost bucketdex frame: one per defect), a one-line
    cause and the traceback of a logged error; its message where it had no exception."""
    if not record.exc_info or record.exc_info[1] is None:
        message = record.getMessage()[:300]
        return message.split(":")[0], message, ""
    exc = record.exc_info[1]
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/bucketdex/" in f.filename] or frames
    where = f" at {_short(ours[-1].filename)}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    first_line = (str(exc).splitlines() or [""])[0][:200]
    trace = "".join(traceback.format_exception(exc))
    return f"{type(exc).__name__}{where}", f"{type(exc).__name__}: {first_line}{where}", trace


def _short(filename: str) -> str:
    return filename[filename.find("bucketdex/") :] if "bucketdex/" in filename else filename


def load_schema(target: Target) -> Any:
    """The OpenAPI document the server serves; reproductions printed in full (schemathesis
    would mask ``page_token`` values as secrets), no schemathesis.toml from the working dir."""
    config = schemathesis.Config.from_dict({"output": {"sanitization": {"enabled": False}}})
    return schemathesis.openapi.from_url(f"{target.base_url}/openapi.json", config=config)


def fuzz(target: Target, backend: str, examples: int, seed: int | None = None) -> FuzzReport:
    """Every operation of the served OpenAPI document, ``examples`` cases per generation mode
    (positive, negative, both again on seeded ids) for the admin key, a third as many for the
    user key; every 5xx collected in the report, then the import jobs started are waited for."""
    schema = load_schema(target)
    report = FuzzReport(backend, made={kind: [made] for kind, made in target.seeds.items()})
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        operations = [result.ok() for result in schema.get_all_operations()]
        # deletions last: deleting the seeded integration first would leave the rest nothing to use
        for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
            for role, token in target.tokens.items():
                send = _sender(target, role, token, report, errors)
                share = examples if role == "admin" else max(1, examples // 3)
                stream = None if seed is None else zlib.crc32(f"{seed} {role}".encode())
                _fuzz_operation(operation, report.made, send, share, stream)
        _settle_jobs(target, report)
        for record in errors.job_records:
            _record_job_crash(report, record, target.base_url)
    finally:
        logging.getLogger().removeHandler(errors)
    return report


def _sender(
    target: Target, role: str, token: str, report: FuzzReport, errors: ErrorLog
) -> Callable[[AnyCase], None]:
    headers = {"Authorization": f"Bearer {token}"}

    def send(case: AnyCase) -> None:
        errors.records.clear()
        response = call(case, target.base_url, token)
        report.requests += 1
        report.statuses[response.status_code] += 1
        if job_id := _started_job(case, response):
            report.jobs[job_id] = (case, role, response.text)
            report.made["job_id"].append(job_id)
        elif made := _made_object(case, response):
            report.made[made[0]].append(made[1])
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except (Failure, FailureGroup):
            signature, cause, trace = errors.cause()
            report.record(Finding(case.operation.label, response.status_code, role, signature, cause,
                                  curl_of(case, target.base_url), response.text[:300], trace, case))  # fmt: skip

    return send


def _made_object(case: AnyCase, response: Any) -> tuple[str, str] | None:
    """The kind and id of the object a request created, if it did."""
    kind, key = CREATORS.get(case.path, ("", ""))
    if not kind or case.method.upper() != "POST" or not 200 <= response.status_code < 300:
        return None
    found = response.json().get(key)
    return (kind, found) if isinstance(found, str) else None


def _started_job(case: AnyCase, response: Any) -> str | None:
    """The id of the import job a request started (native: ``{"id"}``, encord: the bare UUID)."""
    if not (200 <= response.status_code < 300 and case.path.endswith(JOB_STARTERS)):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    found = body.get("id") if isinstance(body, dict) else body
    return found if isinstance(found, str) else None


def _settle_jobs(target: Target, report: FuzzReport, within: float = 60.0) -> None:
    """Wait until every job the run started has finished (crashes are logged by then)."""
    deadline = time.monotonic() + within
    headers = {"Authorization": f"Bearer {target.tokens['admin']}"}
    with requests.Session() as http:
        http.trust_env = False
        for job_id in report.jobs:
            while time.monotonic() < deadline:
                answer = http.get(
                    f"{target.base_url}/api/v1/import-jobs/{job_id}", headers=headers, timeout=30
                )
                if answer.status_code != 200 or answer.json()["status"] not in ("PENDING", "RUNNING"):
                    break


def _record_job_crash(report: FuzzReport, record: logging.LogRecord, base_url: str) -> None:
    job_id = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
    if job_id not in report.jobs:
        return  # a job this run did not start (the seed import)
    case, role, answer = report.jobs[job_id]
    signature, cause, trace = describe(record)
    crash = Finding(
        case.operation.label, 202, role, signature, cause, curl_of(case, base_url), answer[:300], trace, case
    )
    report.record(crash, "job_crashes")


def call(case: AnyCase, base_url: str, token: str) -> Any:
    # a connection per request: requests' keep-alive meets delayed ACKs here (40 ms a call)
    with requests.Session() as session:
        session.trust_env = False  # loopback only: never a proxy from the environment
        headers = {"Authorization": f"Bearer {token}"}
        return case.call(base_url=base_url, session=session, headers=headers, timeout=60)


def curl_of(case: AnyCase, base_url: str) -> str:
    """The request as a curl command, the key left as ``$KEY``."""
    return case.as_curl_command(headers={"Authorization": "Bearer $KEY"}, base_url=base_url)


def _fuzz_operation(
    operation: Any,
    made: dict[str, list[str]],
    send: Callable[[AnyCase], None],
    examples: int,
    seed: int | None,
) -> None:
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    names = {p.name for p in operation.path_parameters}
    if names & made.keys() or len(operation.query) or len(operation.body):  # again, naming objects
        strategies += [
            st.tuples(operation.as_strategy(mode), st.integers(0, 2**16)).map(
                lambda pair: _point_at(pair[0], made, pair[1])
            )
            for mode in modes
        ]
    for index, strategy in enumerate(strategies):
        # each operation and mode its own stream: one seed for all would send correlated cases
        stream = None if seed is None else zlib.crc32(f"{seed} {operation.label} {index}".encode())
        _run_examples(strategy, send, examples, stream)


# body and query fields that name an object, and the seed to name instead
REFERENCES = {"integration_id": "integration_id", "integrationHash": "integration_id",
              "parent_id": "folder_id", "parent": "folder_id", "id": "item_id", "url_prefix": "url_prefix"}  # fmt: skip
LIST_REFERENCES = {"item_ids": "item_id", "itemUuids": "item_id", "filterIntegrationUuids": "integration_id"}


def _point_at(case: AnyCase, made: dict[str, list[str]], n: int) -> AnyCase:
    """The case naming existing objects in its path, body and query: half the time the seeded
    ones (with content), otherwise any the run made (created by fuzzed requests)."""
    ids = {kind: every[0] if n % 2 == 0 else every[n // 2 % len(every)] for kind, every in made.items()}
    if case.path_parameters:
        case.path_parameters = {name: ids.get(name, value) for name, value in case.path_parameters.items()}
    if isinstance(case.body, dict | list):
        case.body = _seeded(case.body, ids)
    if case.query:
        case.query = _seeded(dict(case.query), ids)
    return case


def _seeded(value: Any, seeds: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_seeded(inner, seeds) for inner in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, inner in value.items():
        if key in REFERENCES and isinstance(inner, str):
            inner = seeds[REFERENCES[key]]
        elif key in LIST_REFERENCES and isinstance(inner, list) and inner:
            inner = [seeds[LIST_REFERENCES[key]], *inner[1:]]
        elif key == "itemPatches" and isinstance(inner, dict) and inner:  # keyed by item id
            first, *rest = inner.items()
            inner = {seeds["item_id"]: first[1], **dict(rest)}
        else:
            inner = _seeded(inner, seeds)
        out[key] = inner
    return out


def _run_examples(strategy: Any, send: Callable[[AnyCase], None], examples: int, seed: int | None) -> None:
    @hypothesis.settings(
        max_examples=examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @hypothesis.given(case=strategy)
    def run(case: AnyCase) -> None:
        send(case)

    if seed is not None:
        run = hypothesis.seed(seed)(run)
    # Unsatisfiable: nothing to make invalid (no parameters, no body); positive cases cover it
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


# the test ---------------------------------------------------------------------------------


def _empty(database: Database) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables if t.name != "organisations")
    with database.write() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
        conn.execute(text("DELETE FROM organisations WHERE id != :id"), {"id": DEFAULT_ORG_ID})


@pytest.fixture(params=["sqlite", "postgres"])
def fuzz_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Target]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
        migrated = Database(url)
        migrated.migrate()
        migrated.dispose()
        with fuzz_server(url, tmp_path) as target:
            yield "sqlite", target
        return
    url = request.getfixturevalue("postgres_url")
    database = Database(url)
    _empty(database)
    try:
        with fuzz_server(url, tmp_path) as target:
            yield "postgres", target
    finally:
        _empty(database)
        database.dispose()


def test_no_request_gets_a_server_error(fuzz_target: tuple[str, Target]) -> None:
    backend, target = fuzz_target
    report = fuzz(target, backend, TEST_EXAMPLES, seed=TEST_SEED)
    assert report.requests > 1000, report.summary()  # the run really exercised the API...
    assert report.statuses[200] > 200 and report.statuses[404] > 100, report.summary()  # ...both ways
    if report.server_errors:
        pytest.fail(report.summary(), pytrace=False)


def test_unknown_ids_are_refused_not_500(fuzz_target: tuple[str, Target]) -> None:
    """The floor of the fuzz run, stated plainly: random UUIDs in every path are refused (404,
    or 400/422 where the empty body is refused first; 403 for a forged signed-file token)."""
    _, target = fuzz_target
    schema = load_schema(target)
    headers = {"Authorization": f"Bearer {target.tokens['admin']}"}
    with requests.Session() as http:
        http.trust_env = False
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path_parameters:
                continue
            path = operation.path
            for p in operation.path_parameters:
                path = path.replace("{" + p.name + "}", str(uuid.uuid4()))
            response = http.request(
                operation.method.upper(), target.base_url + path, headers=headers, json={}
            )
            # (a signed file URL's token is its credential: a random one is refused as forged, 403)
            refused = (403,) if operation.path.startswith("/api/v1/files/") else (400, 404, 422)
            assert response.status_code in refused, f"{operation.label}: {response.text}"
