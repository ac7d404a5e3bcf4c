"""Manifest errors: every problem says where (JSON path or CSV line/column) and what to fix."""

from __future__ import annotations

from bucketdex.errors import InvalidArgument

MAX_REPORTED = 200


class ManifestError(InvalidArgument):
    """A manifest cannot be registered as written; ``problems`` has one located line each."""

    code = "invalid_manifest"
    detail_fields = ("source", "problems")

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:MAX_REPORTED]
        more = len(self.problems) - len(shown)
        lines = [f"{source}: {p}" for p in shown] + ([f"... and {more} more problem(s)"] if more else [])
        head = f"{len(self.problems)} problems in {source}:\n" if len(self.problems) > 1 else ""
        super().__init__(head + "\n".join(lines))
