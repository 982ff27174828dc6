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
import traceback
from pathlib import Path

from benchmarks._result import Result

BENCHMARKS = (
    "benchmarks.bench_auth_economy",
    "benchmarks.bench_dle_bulk",
    "benchmarks.bench_triggerer_density",
    "benchmarks.bench_dag_parse",
    "benchmarks.bench_iqm_rows",
    "benchmarks.bench_triggerer_deployment",
)
RESULTS = Path(__file__).resolve().parent / "results"


def _table(results: list[Result]) -> list[str]:
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
    return [
        " | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in [header, tuple("-" * w for w in widths), *rows]
    ]


def _save(results: list[Result], errors: dict[str, str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "results": [r.as_dict() for r in results],
        "errors": errors,
    }
    # Written whole, then moved into place: an interrupted run never leaves half a file.
    partial = RESULTS / "latest.json.partial"
    partial.write_text(json.dumps(payload, indent=2))
    partial.replace(RESULTS / "latest.json")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named on the command line (default: all).

    Each benchmark's figures are printed and saved as soon as it finishes, and a benchmark that crashes
    is reported (its traceback printed, its error saved) without losing the others' results.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="substrings of benchmark module names to run")
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tealium-bench-"))
    selected = [m for m in BENCHMARKS if not args.only or any(s in m for s in args.only)]
    results: list[Result] = []
    errors: dict[str, str] = {}
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            mine = importlib.import_module(name).run()
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"{name} FAILED: {errors[name]}", flush=True)
        else:
            results.extend(mine)
            print("\n".join(_table(mine)), flush=True)
        _save(results, errors)
    print()
    print("\n".join(_table(results)))
    for name, error in errors.items():
        print(f"FAILED {name}: {error}")
    print(f"saved to {RESULTS / 'latest.json'}")
    return 0 if not errors and all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
