"""`bucketdex --server URL job list`: the server's jobs of the key's organisation, through the
CLI against a real uvicorn server on 127.0.0.1 (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from server_support import Tenant, catalog_of, running_server
from test_server_api import manifest
from test_server_job_list import finished_job, jobs_in_every_state
from typer.testing import CliRunner

from bucketdex.cli.app import app as cli_app
from bucketdex.core.types import JobStatus
from bucketdex.errors import InvalidArgument
from bucketdex.sdk.client import Client

runner = CliRunner()
ROW_KEYS = {"job", "status", "done", "errors", "pending", "manifest", "folder", "created_at"}


def test_job_list_json_on_a_server(app: FastAPI, org_a: Tenant, org_b: Tenant) -> None:
    a = jobs_in_every_state(app, org_a)
    b_folder = catalog_of(app, org_b).folders.create("b-jobs")
    b_job = finished_job(app, org_b, b_folder.id, manifest(("b-only", {})), "b.json")
    with running_server(app) as url:

        def job_list(tenant: Tenant, *args: str, code: int = 0) -> Any:
            result = runner.invoke(
                cli_app, ["--server", url, "job", "list", *args], env={"BUCKETDEX_API_KEY": tenant.token}
            )
            assert result.exit_code == code, result.output
            return json.loads(result.stdout) if code == 0 and "--json" in args else result

        rows = job_list(org_a, "--json")
        order = [JobStatus.PENDING, JobStatus.CANCELLED, JobStatus.ERROR, JobStatus.DONE]
        assert [row["job"] for row in rows] == [str(a[s]) for s in order]
        assert [row["status"] for row in rows] == [s.value for s in order]
        assert all(set(row) == ROW_KEYS for row in rows)
        assert (rows[-1]["manifest"], rows[-1]["done"], rows[-1]["errors"]) == ("two.json", 2, 0)

        # the key's organisation decides what is listed
        assert [row["job"] for row in job_list(org_b, "--json")] == [str(b_job)]

        done = job_list(org_a, "--json", "--status", "done")  # the CLI's choice is case-insensitive
        assert [row["job"] for row in done] == [str(a[JobStatus.DONE])]
        assert [row["job"] for row in job_list(org_a, "--json", "--limit", "1")] == [
            str(a[JobStatus.PENDING])
        ]
        # over the server's bound of 1000: clamped by the client, as embedded mode clamps
        assert len(job_list(org_a, "--json", "--limit", "5000")) == 4

        table = job_list(org_a).stdout
        assert "import jobs" in table and "CANCELLED" in table and "two.json" in table


def test_remote_sdk_lists_jobs_and_reports_a_bad_status(app: FastAPI, org_a: Tenant) -> None:
    a = jobs_in_every_state(app, org_a)
    with running_server(app) as url, Client.connect(url, api_key=org_a.token) as remote:
        [done] = remote.list_import_jobs("DONE")
        assert (done.id, done.status, done.units_done) == (a[JobStatus.DONE], JobStatus.DONE, 2)
        assert done.created_at <= done.updated_at and done.created_at.tzinfo is not None
        assert [job.id for job in remote.list_import_jobs(limit=0)] == [a[JobStatus.PENDING]]  # at least 1
        with pytest.raises(InvalidArgument, match="unknown job status 'RUNNING'; expected one of PENDING"):
            remote.list_import_jobs("RUNNING")  # refused before any request, as embedded mode does
        with pytest.raises(InvalidArgument, match=r"status='done' is not a job status; use one of PENDING"):
            remote.backend.call("GET", "/import-jobs", params={"status": "done"})  # the server's own 400
