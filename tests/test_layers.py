"""The layers of docs/architecture.md, checked on the source: cli, server → sdk, queue → catalog →
manifest, extract, encoders, storage, store → core.  A module may import its own layer and those
below, never one above (imports under ``if TYPE_CHECKING:`` count too: they are what the code knows)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "bucketdex"

# package -> the bucketdex packages it must never import
FORBIDDEN = {
    "core": {
        "catalog",
        "index",
        "manifest",
        "extract",
        "encoders",
        "storage",
        "store",
        "sdk",
        "queue",
        "server",
        "cli",
        "vectors",
        "auth",
    },
    "store": {
        "catalog",
        "index",
        "manifest",
        "extract",
        "encoders",
        "storage",
        "sdk",
        "queue",
        "server",
        "cli",
        "vectors",
    },
    "storage": {
        "catalog",
        "index",
        "manifest",
        "extract",
        "encoders",
        "store",
        "sdk",
        "queue",
        "server",
        "cli",
        "vectors",
    },
    "extract": {
        "catalog",
        "index",
        "manifest",
        "encoders",
        "storage",
        "store",
        "sdk",
        "queue",
        "server",
        "cli",
        "vectors",
    },
    # text encoders (texts → vectors) sit beside extract: no catalog, no storage, no database
    "encoders": {
        "catalog",
        "index",
        "manifest",
        "extract",
        "storage",
        "store",
        "sdk",
        "queue",
        "server",
        "cli",
        "vectors",
    },
    # vectors (nearest-neighbour indexes, 2-D layouts: numpy + hnswlib) sit beside encoders
    "vectors": {
        "catalog",
        "index",
        "manifest",
        "extract",
        "encoders",
        "storage",
        "store",
        "sdk",
        "queue",
        "server",
        "cli",
    },
    # (manifest generate lists a bucket: manifest may use storage, its sibling below the catalog)
    "manifest": {
        "catalog",
        "index",
        "extract",
        "encoders",
        "vectors",
        "store",
        "sdk",
        "queue",
        "server",
        "cli",
    },
    "catalog": {"index", "sdk", "queue", "server", "cli"},
    # the Index (filters, later similarity) is built on the catalog; the SDK and server use it
    "index": {"sdk", "queue", "server", "cli"},
    "sdk": {"cli", "server", "queue"},
    "queue": {"cli", "server", "sdk"},  # the task queue sits beside the SDK, on the catalog
}


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "bucketdex" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_a_layer_above_it(package: str) -> None:
    wrong = {
        f"{path.relative_to(SRC)} imports bucketdex.{above}"
        for path in (SRC / package).rglob("*.py")
        for above in _imported_packages(path) & FORBIDDEN[package]
    }
    assert not wrong, sorted(wrong)
