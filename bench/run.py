"""Benchmark runner: ``python bench/run.py [NAME ...] [--quick]``.

Each ``bench/bench_<name>.py`` exposes ``run(quick: bool) -> list[dict]``; every row names the
case, the backend, n, seconds, rate and the baseline measured in the same run.  Results print
as a table and are written to ``.bench-out/<name>.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / ".bench-out"


def discover() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def load(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    benches = discover()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(benches)})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(benches)}")
    console = Console(width=None if sys.stdout.isatty() else 200)  # no truncated columns in logs
    OUT.mkdir(exist_ok=True)
    for name in args.names or list(benches):
        rows = load(benches[name]).run(quick=args.quick)  # type: ignore[attr-defined]
        (OUT / f"{name}.json").write_text(json.dumps(rows, indent=2))
        table = Table(title=f"{name}{' (quick)' if args.quick else ''}")
        for column in rows[0]:
            table.add_column(column)
        for row in rows:
            table.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row.values()))
        console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
