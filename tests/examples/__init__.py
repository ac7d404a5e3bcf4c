"""The project's own example manifests, written for its tests in the formats the seed documents
define (every top-level section, both field spellings, media blocks, client metadata, frame
embeddings, trailing commas, URLs repeated within a manifest, paths without a scheme, dedupe
and upsert flags).  Tests read only these: a clone placed anywhere runs its suite without any
folder outside the repository."""

from __future__ import annotations

from pathlib import Path

MANIFESTS = Path(__file__).parent / "manifests"


def json_examples() -> list[tuple[str, str]]:
    """(file name, text) of every JSON example, in name order."""
    return [(path.name, path.read_text(encoding="utf-8")) for path in sorted(MANIFESTS.glob("*.json"))]
