"""The README's connection tables name the extra key next to each form label (issue 11, item 16): users
writing ``AIRFLOW_CONN_*`` JSON need the keys, not the labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_tealium.get_provider_info import get_provider_info

README = Path(__file__).resolve().parents[2] / "README.md"
TITLES = {"tealium": "### Tealium", "iqm": "### IQM"}


def connection_section(conn_type: str) -> list[str]:
    text = README.read_text()
    setup = text.split("## Connection setup", 1)[1].split("\n## ", 1)[0]
    section = setup.split(TITLES[conn_type] + "\n", 1)[1].split("\n### ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


@pytest.mark.parametrize("conn_type", sorted(TITLES))
def test_every_form_field_is_listed_with_its_extra_key(conn_type: str) -> None:
    info = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type)
    rows = connection_section(conn_type)
    for key, field in info["conn-fields"].items():
        label = field["label"]
        assert any(label in row and f"`extra.{key}`" in row for row in rows), (
            f"README {TITLES[conn_type]}: no table row names the label {label!r} with `extra.{key}`"
        )
    relabel = info.get("ui-field-behaviour", {}).get("relabeling", {})
    for standard, label in relabel.items():
        assert any(label in row and f"`{standard}`" in row for row in rows), (standard, label)
