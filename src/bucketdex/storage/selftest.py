"""Permission self-test of an integration ("test the integration", seed 000 step 1.4).

``check`` runs the steps bucketdex relies on against the real bucket: list, read, optionally
write (a small object under ``.bucketdex-selftest/``, read back and removed) and optionally
CORS for a browser origin.  Each step is reported passed, failed or skipped, and a failed step
carries the concrete fix: the permission, role or CORS rule that is missing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bucketdex.core.types import Provider
from bucketdex.errors import BucketdexError
from bucketdex.storage.base import ObjectStore
from bucketdex.storage.errors import UnsupportedOperation

SELFTEST_PREFIX = ".bucketdex-selftest/"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step: what was tried, how it went, and (when failed) what to change."""

    name: str
    outcome: Outcome
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    store: str
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        """No step failed (skipped steps do not count against it)."""
        return all(step.outcome is not Outcome.FAILED for step in self.steps)

    def step(self, name: str) -> StepResult:
        return next(step for step in self.steps if step.name == name)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelfTestReport:
        """The report ``to_dict`` wrote (e.g. a server's answer)."""
        steps = tuple(
            StepResult(s["name"], Outcome(s["outcome"]), s["detail"], s.get("fix", "")) for s in data["steps"]
        )
        return cls(str(data["store"]), steps)

    def to_dict(self) -> dict[str, object]:
        return {
            "store": self.store,
            "ok": self.ok,
            "steps": [
                {"name": s.name, "outcome": s.outcome.value, "detail": s.detail, "fix": s.fix}
                for s in self.steps
            ],
        }


def check(
    store: ObjectStore, *, write: bool = False, cors_origin: str | None = None, probe_key: str | None = None
) -> SelfTestReport:
    """Run the self-test; ``probe_key`` is read instead of the first listed object when given."""
    listed, first_key = _list_step(store)
    steps = [listed, _read_step(store, probe_key or first_key)]
    if write:
        steps.append(_write_step(store))
    if cors_origin is not None:
        steps.append(_cors_step(store, cors_origin))
    return SelfTestReport(store.describe(), tuple(steps))


def _failed(name: str, exc: BucketdexError) -> StepResult:
    fix = getattr(exc, "fix", "") or _generic_fix(exc)
    return StepResult(name, Outcome.FAILED, str(exc), fix)


def _generic_fix(exc: BucketdexError) -> str:
    if exc.code == "bucket_not_found":
        return "create the bucket/container, or fix its name in the integration"
    if exc.code == "object_not_found":
        return "name an object that exists (probe key), or leave it out to read the first listed object"
    return "check the integration's settings"


def _list_step(store: ObjectStore) -> tuple[StepResult, str | None]:
    try:
        first = next(iter(store.list()), None)
    except BucketdexError as exc:
        return _failed("list", exc), None
    if first is None:
        return StepResult("list", Outcome.PASSED, f"listed {store.describe()}: it is empty"), None
    return StepResult(
        "list", Outcome.PASSED, f"listed {store.describe()}; first object {first.key!r}"
    ), first.key


def _read_step(store: ObjectStore, key: str | None) -> StepResult:
    if key is None:
        return StepResult("read", Outcome.SKIPPED, "nothing to read: the listing was empty or failed")
    try:
        info = store.head(key)
        store.read_range(key, 0, 1)
    except BucketdexError as exc:
        return _failed("read", exc)
    return StepResult("read", Outcome.PASSED, f"read {key!r} ({info.size} bytes, ranged GET)")


def _write_step(store: ObjectStore) -> StepResult:
    key = f"{SELFTEST_PREFIX}{uuid.uuid4().hex}.txt"
    payload = b"bucketdex self-test: safe to delete\n"
    try:
        store.put(key, payload, "text/plain")
    except BucketdexError as exc:
        return _failed("write", exc)
    # from here on the probe exists: every outcome removes it (or says it could not)
    try:
        same = store.read(key) == payload
    except BucketdexError as exc:
        return _cleaned_up(store, key, _failed("write", exc))
    if not same:
        failed = StepResult(
            "write", Outcome.FAILED, f"wrote {key!r} but read back other bytes", "check the bucket"
        )
        return _cleaned_up(store, key, failed)
    return _cleaned_up(store, key, StepResult("write", Outcome.PASSED, f"wrote and read back {key!r}"))


def _cleaned_up(store: ObjectStore, key: str, result: StepResult) -> StepResult:
    """``result`` after deleting the probe.  A failed delete does not fail the step (bucketdex
    itself never deletes), but the leftover is named in the detail, which every report shows,
    with how to remove it."""
    try:
        store.delete(key)
    except BucketdexError as exc:
        fix = getattr(exc, "fix", "") or "allow deletes"
        remedy = f"remove it by hand; to let the self-test clean up, {fix}"
        detail = f"{result.detail}; could not delete {key!r} ({type(exc).__name__}): {remedy}"
        fix_text = "; ".join(part for part in (result.fix, f"remove {key!r} by hand", fix) if part)
        return StepResult(result.name, result.outcome, detail, fix_text)
    return StepResult(result.name, result.outcome, f"{result.detail}; deleted it", result.fix)


def _cors_step(store: ObjectStore, origin: str) -> StepResult:
    try:
        rules = store.cors_rules()
    except UnsupportedOperation as exc:
        return StepResult("cors", Outcome.SKIPPED, str(exc))
    except BucketdexError as exc:
        return _failed("cors", exc)
    if any(rule.allows(origin, "GET") for rule in rules):
        return StepResult("cors", Outcome.PASSED, f"a CORS rule allows GET from {origin}")
    seen = f"{len(rules)} CORS rule(s), none allowing GET from {origin}" if rules else "no CORS rules"
    return StepResult("cors", Outcome.FAILED, f"{store.describe()}: {seen}", cors_fix(store.provider, origin))


def cors_fix(provider: Provider, origin: str) -> str:
    """The CORS rule to add, in the provider's own configuration format."""
    if provider is Provider.AZURE:
        return (
            "add a CORS rule to the storage account's Blob service (Resource sharing (CORS) > Blob service): "
            f"allowed origins {origin}, allowed methods GET, allowed headers *, exposed headers *, "
            "max age 3600"
        )
    if provider is Provider.GCS:
        rule = [{"origin": [origin], "method": ["GET"], "responseHeader": ["*"], "maxAgeSeconds": 3600}]
        return (
            "set the bucket's CORS configuration (gcloud storage buckets update --cors-file): "
            f"{json.dumps(rule)}"
        )
    rule_s3 = [
        {
            "AllowedOrigins": [origin],
            "AllowedMethods": ["GET"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 3600,
        }
    ]
    return f"add to the bucket's CORS configuration (Permissions > CORS): {json.dumps(rule_s3)}"
