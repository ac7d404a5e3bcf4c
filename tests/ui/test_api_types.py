"""The UI's TypeScript types of the REST API (ui/src/api/schema.d.ts, committed so a build needs
no Python) are those of the server as it is now: a route or model changed without regenerating
them fails here, with the command that fixes it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from ui_support import missing

SCRIPT = Path(__file__).parents[2] / "ui" / "scripts" / "gen_api_types.py"
FIX = "run ./run python ui/scripts/gen_api_types.py and commit ui/src/api/schema.d.ts"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api_types", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_types_were_made_from_the_current_openapi_document() -> None:
    gen = generator()
    spec = gen.native_openapi()
    assert spec["paths"] and all(path.startswith("/api/v1/") for path in spec["paths"])
    assert gen.committed_hash() == gen.document_hash(spec), f"{gen.TYPES} is stale: {FIX}"


def test_the_committed_types_are_what_openapi_typescript_makes_of_it() -> None:
    gen = generator()
    if not gen.GENERATOR.exists():
        missing(f"{gen.GENERATOR} not found: npm ci in ui/ (./run does it)")
    assert gen.render_types(gen.native_openapi()) == gen.TYPES.read_text(encoding="utf-8"), FIX
