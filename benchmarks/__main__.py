"""``python -m benchmarks``: run every benchmark, print a table, write ``benchmarks/results/latest.json``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = (
    "benchmarks.bench_auth_economy",
    "benchmarks.bench_dle_bulk",
    "benchmarks.bench_triggerer_density",
    "benchmarks.bench_dag_parse",
    "benchmarks.bench_iqm_rows",
)
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named on the command line (default: all)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="substrings of benchmark module names to run")
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tealium-bench-"))
    selected = [m for m in BENCHMARKS if not args.only or any(s in m for s in args.only)]
    results = []
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(importlib.import_module(name).run())
    rows = [
        (
            r.bench,
            r.metric,
            f"{r.value:g} {r.unit}",
            "" if r.baseline is None else f"{r.baseline:g} {r.unit}",
            "" if r.ratio is None else f"{r.ratio:.1f}x",
            r.target,
            "yes" if r.met else "NO",
        )
        for r in results
    ]
    header = ("benchmark", "metric", "provider", "baseline", "ratio", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "results": [r.as_dict() for r in results],
    }
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2))
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
