"""The fault suite's session-wide collector and its table (printed by ``tests/faults/conftest.py``)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

HEADERS = ("#", "scenario", "run", "outcome", "invariants", "s")


@dataclass
class Row:
    """One run under one fault.

    :param number: the scenario number (1-9).
    :param scenario: what was injected.
    :param run: what ran (an operator, or ``dag:<dag_id>``).
    :param outcome: ``succeeded after N retries`` or ``failed fast: <message>``.
    :param invariants: the invariants checked, each ``name=ok``.
    :param seconds: wall time of the run.
    """

    number: int
    scenario: str
    run: str
    outcome: str
    invariants: list[str] = field(default_factory=list)
    seconds: float = 0.0


# Session-wide: one row per run, appended by the tests once their invariants held.
ROWS: list[Row] = []


def record(row: Row) -> Row:
    """Add a row to the session's table; returns it, so a test can refine its outcome."""
    ROWS.append(row)
    return row


# Rows travel through files so the table also works under pytest-xdist, whose workers collect them while
# the controller prints the summary. tests/conftest.py sets the folder before any worker starts.
ROWS_DIR_ENV = "TEALIUM_FAULT_ROWS_DIR"


def dump_rows(name: str) -> None:
    """Write this process's rows to the shared folder (at session end, once rows can no longer change).

    :param name: a file name unique to this process (the xdist worker id, or "main").
    """
    folder = os.environ.get(ROWS_DIR_ENV)
    if ROWS and folder:
        Path(folder, f"rows-{name}-{os.getpid()}.json").write_text(json.dumps([asdict(r) for r in ROWS]))


def load_rows() -> list[Row]:
    """Every row any process of this run wrote."""
    folder = os.environ.get(ROWS_DIR_ENV)
    if not folder:
        return []
    return [
        Row(**data)
        for path in sorted(Path(folder).glob("rows-*.json"))
        for data in json.loads(path.read_text())
    ]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def render_table(rows: list[Row]) -> list[str]:
    """The rows as a Markdown table (readable in a terminal, pasteable into the README)."""
    ordered = sorted(rows, key=lambda r: r.number)
    cells = [
        (
            str(r.number),
            r.scenario,
            r.run,
            _clip(r.outcome, 110),
            ", ".join(r.invariants) or "-",
            f"{r.seconds:.1f}",
        )
        for r in ordered
    ]
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join("---" for _ in HEADERS) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells]
    return lines
