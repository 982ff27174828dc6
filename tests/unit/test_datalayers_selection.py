"""Which ids a bulk upload sends: everything, ``only_ids``, or what a previous result says did not land."""

from __future__ import annotations

import pytest

from airflow_provider_tealium.exceptions import TealiumValidationError
from airflow_provider_tealium.hooks.datalayers_bulk import Selection, selected_ids

IDS = ["a", "b", "c", "d"]


def sent(selection: Selection) -> list[str]:
    return [i for i in IDS if selection.wants(i)]


def test_no_limit_sends_everything() -> None:
    assert sent(selected_ids(None, None)) == IDS


def test_only_ids() -> None:
    assert sent(selected_ids(["b", "d"], None)) == ["b", "d"]


def test_a_complete_result_sends_its_failed_ids() -> None:
    previous = {"landed": ["a", "b"], "failed": {"c": "HTTP 500"}, "complete": True}
    assert sent(selected_ids(None, previous)) == ["c"]
    # Results from before "complete" existed are complete.
    assert sent(selected_ids(None, {"landed": ["a"], "failed": {"d": "x"}})) == ["d"]


def test_an_interrupted_result_sends_everything_it_did_not_land() -> None:
    previous = {"landed": ["a", "c"], "failed": {"b": "HTTP 500"}, "complete": False}
    assert sent(selected_ids(None, previous)) == ["b", "d"]
    assert sent(selected_ids(["c", "d"], previous)) == ["d"]


def test_a_result_without_failed_is_refused() -> None:
    with pytest.raises(TealiumValidationError, match="retry_failed_from: must be a previous upload result"):
        selected_ids(None, {"landed": []})


def test_an_id_that_is_not_a_string_is_left_to_validation() -> None:
    assert selected_ids(None, None).wants(["not", "hashable"])
    assert not selected_ids(["a"], None).wants({"k": 1})
