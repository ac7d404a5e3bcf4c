"""OpenAPI-driven fuzz run of the server (issue 13), larger than the test suite's.

    ./run python bench/fuzz_api.py --backend sqlite --examples 50
    ./run python bench/fuzz_api.py --backend both --examples 50 --findings fuzz_findings.md

Same harness as tests/server/test_api_fuzz.py: a uvicorn server on 127.0.0.1 over a fresh
catalog (a temporary SQLite file, or a scratch PostgreSQL database beside
``BUCKETDEX_BENCH_POSTGRES_URL``), seeded objects, an admin and a user key; schemathesis sends
``--examples`` cases per operation and generation mode and the ``not_a_server_error`` check
judges each answer.  Prints, per backend, the requests sent, the answers by status and every
distinct 5xx, shrunk to a minimal request, with the server's traceback; ``--findings`` writes
them as Markdown.  Import jobs the fuzzed requests started that crashed (an internal error, not
unit errors) are listed too, report-only.  Exit status 1 when any answer was a 5xx.

Nothing leaves the machine: connections to anything but the loopback are refused in this
process (the server runs in it), as the test suite does.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))  # the harness
from test_api_fuzz import ErrorLog, Finding, FuzzReport, Target, call, curl_of, fuzz, fuzz_server

from bucketdex.store.database import Database
from pg_scratch import scratch_database

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_connect = socket.socket.connect
MAX_REPLAYS = 400  # per finding, while shrinking


def _loopback_only(self: socket.socket, address: object) -> None:
    if isinstance(address, tuple) and str(address[0]) not in _LOOPBACK:
        raise ConnectionRefusedError(f"the fuzz run reaches only 127.0.0.1, not {address!r}")
    _connect(self, address)  # type: ignore[arg-type]


@contextmanager
def database_url(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'catalog.sqlite3'}"
        Database(url).migrate()
        yield url
        return
    with scratch_database() as url:
        db = Database(url)
        db.migrate()
        db.dispose()
        yield url


# shrinking: the run keeps the shortest request per defect; replaying it with parts of the body
# and query removed or simplified, while the same defect answers, leaves a minimal one ----------


def simpler(value: Any) -> Iterator[Any]:
    """Smaller variants of a JSON value, most drastic first."""
    if isinstance(value, dict):
        yield from (inner for inner in value.values() if isinstance(inner, dict | list))  # a level less
        yield from _simpler_dict(value)
    elif isinstance(value, list):
        yield from (inner for inner in value if isinstance(inner, dict | list))
        yield from (value[:i] + value[i + 1 :] for i in range(len(value)))
        for i, inner in enumerate(value):
            yield from ([*value[:i], smaller, *value[i + 1 :]] for smaller in simpler(inner))
    elif isinstance(value, str) and len(value) > 1:
        yield from dict.fromkeys(value)  # one character alone: finds a culprit like NUL at once
        if len(value) > 8:
            yield from (value[: len(value) // 2], value[len(value) // 2 :])
        yield from (value[:i] + value[i + 1 :] for i in range(len(value)))
    elif isinstance(value, str) and value and value != "a":
        yield from ("", "a")
    elif isinstance(value, int | float) and not isinstance(value, bool) and value not in (0, 1):
        yield 0


def _simpler_dict(value: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in value:
        yield {k: v for k, v in value.items() if k != key}
    for key, inner in value.items():
        for shorter in () if key.isascii() and key.isidentifier() else simpler(key):  # a field name stays
            if shorter not in value:
                yield {(shorter if k == key else k): v for k, v in value.items()}
        yield from ({**value, key: smaller} for smaller in simpler(inner))


class Replayer:
    """Replays a finding's case in a clean organisation, seeded as the fuzz run's was (the run
    left its own full of names taken and a fuzzed metadata schema), the seeded objects' ids
    swapped for the new ones.  A new organisation is made after any replay that may have
    changed something, so each check starts from the same state."""

    def __init__(self, finding: Finding, target: Target, errors: ErrorLog) -> None:
        self.finding, self.target, self.errors = finding, target, errors
        self.replays, self.dirty = 0, False
        self.tenant = target.fresh()

    def swapped(self, value: Any) -> Any:
        """``value`` naming the clean organisation's seeded objects instead of the run's."""
        ids = {old: self.tenant.seeds[kind] for kind, old in self.target.seeds.items()}
        if isinstance(value, dict):
            return {self.swapped(k): self.swapped(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.swapped(inner) for inner in value]
        return ids.get(value, value) if isinstance(value, str) else value

    def same_defect(self) -> bool:
        """Whether the case, sent once or twice (some defects need the first one's effect, a
        name taken), gives the finding's status and cause."""
        if self.dirty:
            self.tenant, self.dirty = self.target.fresh(), False
        case = self.finding.case
        kept = case.path_parameters, case.body, case.query
        case.path_parameters, case.body, case.query = (self.swapped(part) for part in kept)
        try:
            return self._send_twice(case)
        finally:
            case.path_parameters, case.body, case.query = kept

    def _send_twice(self, case: Any) -> bool:
        for attempt in (1, 2):
            self.replays += 1
            self.errors.records.clear()
            response = call(case, self.tenant.base_url, self.tenant.tokens[self.finding.role])
            # what a later check could trip over: something made or replaced (names are taken,
            # the schema changes); a 5xx rolled its transaction back, a PATCH keeps names free
            self.dirty |= case.method.upper() in ("POST", "PUT") and response.status_code < 300
            if (
                response.status_code == self.finding.status
                and self.errors.cause()[0] == self.finding.signature
            ):
                self.finding.note = (
                    "" if attempt == 1 else "send it twice: the first succeeds, the second fails"
                )
                return True
            if not self.dirty:
                return False  # nothing the first send did could make a second one differ
        return False


def shrink(finding: Finding, target: Target, errors: ErrorLog) -> int:
    """Shrink the finding's body, then its query, in place (kept only where it still gives the
    same defect in a clean organisation); the replays it took."""
    replayer = Replayer(finding, target, errors)
    if not replayer.same_defect():
        finding.note = "did not reproduce in a clean organisation: it needs state the run built"
        return replayer.replays
    for part in ("body", "query"):
        _shrink_part(finding.case, part, replayer.same_defect, lambda: replayer.replays < MAX_REPLAYS)
    replayer.same_defect()  # the note of the final form
    finding.curl = curl_of(finding.case, target.base_url)
    return replayer.replays


def _shrink_part(case: Any, part: str, same_defect: Callable[[], bool], budget: Callable[[], bool]) -> None:
    current = getattr(case, part)
    if not isinstance(current, dict | list | str):
        return
    improved = True
    while improved and budget():
        improved = False
        for candidate in simpler(current):
            if not budget():
                break
            setattr(case, part, candidate)
            if same_defect():
                current, improved = candidate, True
                break
        setattr(case, part, current)


# the run ------------------------------------------------------------------------------------


def run_backend(backend: str, examples: int, seed: int) -> FuzzReport:
    with (
        tempfile.TemporaryDirectory() as tmp,
        database_url(backend, Path(tmp)) as url,
        fuzz_server(url, Path(tmp)) as target,
    ):
        start = time.monotonic()
        report = fuzz(target, backend, examples, seed=seed)
        elapsed = time.monotonic() - start
        errors = ErrorLog()
        logging.getLogger().addHandler(errors)
        try:
            for finding in report.findings.values():
                shrink(finding, target, errors)
        finally:
            logging.getLogger().removeHandler(errors)
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(report.statuses.items()))
    print(f"\n{report.summary()}\n  answers by status: {statuses}  ({elapsed:.0f} s)")
    return report


def findings_markdown(reports: list[FuzzReport], command: str) -> str:
    lines = ["# API fuzz run: 5xx findings", "", f"Command: `{command}`", ""]
    for report in reports:
        crashes = sum(f.hits for f in report.job_crashes.values())
        lines.append(
            f"- **{report.backend}**: {report.requests} requests, {report.server_errors} of 5xx "
            f"({len(report.findings)} distinct); import jobs crashed: {crashes}"
        )
    for report in reports:
        lines += ["", f"## {report.backend}", ""]
        if not report.findings:
            lines.append("No 5xx.")
        for n, f in enumerate(report.findings.values(), 1):
            title = f"### {report.backend}-{n}. `{f.operation}` answers {f.status}"
            lines += [f"{title} ({f.hits} times, {f.role} key)", *_finding_lines(f)]
        for n, f in enumerate(report.job_crashes.values(), 1):
            title = f"### {report.backend}-job-{n}. a job started by `{f.operation}` crashed"
            lines += [f"{title} ({f.hits} times; report-only)", *_finding_lines(f)]
    return "\n".join(lines) + "\n"


def _finding_lines(f: Finding) -> list[str]:
    lines = ["", f"Cause: `{f.cause}`", "", "Request:", "", "```sh", f.curl, "```", ""]
    lines += [f"Note: {f.note}", ""] if f.note else []
    lines += [f"Response: `{f.response[:200]}`", ""]
    if f.traceback:
        tail = "\n".join(f.traceback.rstrip().splitlines()[-12:])
        lines += ["<details><summary>traceback (tail)</summary>", "", "```", tail, "```", "</details>", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--examples", type=int, default=50, help="cases per operation and mode (admin key)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed (default: a random one, printed)")
    parser.add_argument("--findings", type=Path, help="write the findings as Markdown here")
    args = parser.parse_args(argv)
    # cloud SDKs keep away from metadata endpoints; nothing but the loopback is reachable
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    os.environ.setdefault("NO_GCE_CHECK", "True")
    socket.socket.connect = _loopback_only  # type: ignore[method-assign,assignment]
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"fuzzing {', '.join(backends)}: {args.examples} examples per operation and mode, seed {seed}")
    reports = [run_backend(backend, args.examples, seed) for backend in backends]
    if args.findings:
        command = f"./run python bench/fuzz_api.py --backend {args.backend}"
        command += f" --examples {args.examples} --seed {seed}"
        args.findings.write_text(findings_markdown(reports, command))
        print(f"\nfindings written to {args.findings}")
    return 1 if any(report.server_errors for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
