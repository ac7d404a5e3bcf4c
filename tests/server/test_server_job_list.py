"""`GET /api/v1/import-jobs`: the caller's organisation's jobs only, newest first, filtered by
status and bounded by limit; in-process (ASGI) and over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from server_support import Tenant, catalog_of, state
from test_server_api import manifest, ok

from bucketdex.core.types import JobStatus

SUMMARY_FIELDS = {
    "id", "folder_id", "status", "source_name", "units_done", "units_error", "units_pending",
    "created_at", "updated_at",
}  # fmt: skip


def finished_job(app: FastAPI, tenant: Tenant, folder_id: uuid.UUID, body: bytes, name: str) -> uuid.UUID:
    """A job run to its end by the server's own import engine; its id."""
    imports = state(app).catalogs.imports(tenant.org_id)
    job = imports.start(folder_id, body, source_name=name)
    assert imports.wait(job.id, 30).status.is_final
    return job.id


def jobs_in_every_state(app: FastAPI, tenant: Tenant) -> dict[JobStatus, uuid.UUID]:
    """One job per state, created oldest to newest in the order DONE, ERROR, CANCELLED, PENDING
    (the PENDING one is only recorded: no runner is told of it, so it stays PENDING)."""
    catalog = catalog_of(app, tenant)
    folder = catalog.folders.create(f"jobs-{tenant.org_id}")
    done = finished_job(app, tenant, folder.id, manifest(("a", {}), ("b", {})), "two.json")
    error = finished_job(app, tenant, folder.id, b"this is not a manifest", "broken.json")
    cancelled = catalog.jobs.create(folder.id, source_name="cancelled.json").id
    catalog.jobs.cancel(cancelled)
    pending = catalog.jobs.create(folder.id, source_name="waiting.json").id
    return {
        JobStatus.DONE: done,
        JobStatus.ERROR: error,
        JobStatus.CANCELLED: cancelled,
        JobStatus.PENDING: pending,
    }


def listed(api: httpx.Client, tenant: Tenant, **params: object) -> list[dict[str, object]]:
    results: list[dict[str, object]] = ok(
        api.get("/api/v1/import-jobs", params=params, headers=tenant.bearer)
    )["results"]
    return results


def ids(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["id"]) for row in rows]


def test_lists_the_callers_jobs_newest_first_with_filter_and_limit(
    api: httpx.Client, app: FastAPI, org_a: Tenant, org_b: Tenant
) -> None:
    a = jobs_in_every_state(app, org_a)
    b_folder = catalog_of(app, org_b).folders.create("b-jobs")
    b_job = finished_job(app, org_b, b_folder.id, manifest(("b-only", {})), "b.json")

    rows = listed(api, org_a)
    newest_first = [a[JobStatus.PENDING], a[JobStatus.CANCELLED], a[JobStatus.ERROR], a[JobStatus.DONE]]
    assert ids(rows) == [str(job) for job in newest_first]
    assert all(set(row) == SUMMARY_FIELDS for row in rows)
    done = rows[-1]
    assert (done["status"], done["source_name"], done["units_done"], done["units_error"]) == (
        "DONE", "two.json", 2, 0,
    )  # fmt: skip
    assert [row["status"] for row in rows] == ["PENDING", "CANCELLED", "ERROR", "DONE"]
    created = [str(row["created_at"]) for row in rows]
    assert created == sorted(created, reverse=True)

    # organisation B sees its own job only, and nothing of A's
    b_rows = listed(api, org_b)
    assert ids(b_rows) == [str(b_job)]
    assert b_rows[0]["folder_id"] == str(b_folder.id)
    assert not any(str(job) in str(b_rows) for job in a.values())

    for job_status, job_id in a.items():
        assert ids(listed(api, org_a, status=job_status.value)) == [str(job_id)]
    assert ids(listed(api, org_b, status="PENDING")) == []
    assert ids(listed(api, org_a, limit=2)) == [str(job) for job in newest_first[:2]]
    assert ids(listed(api, org_a, limit=1, status="ERROR")) == [str(a[JobStatus.ERROR])]


def test_default_limit_is_fifty_and_limit_is_bounded(api: httpx.Client, app: FastAPI, org_a: Tenant) -> None:
    catalog = catalog_of(app, org_a)
    folder = catalog.folders.create("many")
    made = [catalog.jobs.create(folder.id, source_name=f"m-{n}.json").id for n in range(52)]
    assert ids(listed(api, org_a)) == [str(job) for job in reversed(made)][:50]
    assert len(listed(api, org_a, limit=1000)) == 52
    for bad in (0, -1, 1001):
        refused = api.get("/api/v1/import-jobs", params={"limit": bad}, headers=org_a.bearer)
        assert refused.status_code == 422, refused.text
        assert "query.limit" in refused.json()["message"]
    too_many = api.get("/api/v1/import-jobs", params={"limit": 1001}, headers=org_a.bearer)
    assert "1000" in too_many.json()["message"]


def test_a_bad_status_is_a_400_naming_the_allowed_ones(api: httpx.Client, org_a: Tenant) -> None:
    for bad in ("RUNNING", "done", ""):
        refused = api.get("/api/v1/import-jobs", params={"status": bad}, headers=org_a.bearer)
        assert refused.status_code == 400, refused.text
        message = refused.json()["message"]
        assert f"status={bad!r}" in message and "PENDING, DONE, ERROR, CANCELLED" in message
    anonymous = api.get("/api/v1/import-jobs")
    assert anonymous.status_code == 401
