"""IQM reports send timezoneId, from an id or a name (issue 11, item 15), and the README's IQM example
runs as written."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.exceptions import TealiumValidationError
from airflow_provider_tealium.testing.emulator import TealiumEmulator

README = Path(__file__).resolve().parents[2] / "README.md"
BASE = {
    "reportName": "r",
    "dimensions": [{"filter": "campaign"}],
    "columns": ["clicks"],
    "startDate": "2026-11-01",
    "endDate": "2026-11-02",
}


def readme_iqm_example() -> str:
    """The README's code block that builds an IQMRunReportOperator (under "IQM reports")."""
    section = README.read_text().split("### IQM reports", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return next(b for b in blocks if "IQMRunReportOperator(" in b)


def ds_add(ds: str, days: int) -> str:
    return (date.fromisoformat(ds) + timedelta(days=days)).isoformat()


def test_the_readme_iqm_example_runs_as_written(iqm_connection: TealiumEmulator, tmp_path: Path) -> None:
    import pendulum

    namespace: dict[str, Any] = {}
    exec(
        readme_iqm_example().replace("IQMRunReportOperator(", "operator = IQMRunReportOperator(", 1),
        namespace,
    )
    operator = namespace["operator"]
    # What Airflow gives every run's templates (a manual run may have no logical date, hence no ds).
    run_after = pendulum.datetime(2026, 11, 21, 6, 0, tz="UTC")
    context: Any = {
        "ds": "2026-11-21",
        "dag_run": SimpleNamespace(run_after=run_after, logical_date=None),
        "macros": SimpleNamespace(ds_add=ds_add),
    }
    operator.render_template_fields(context)
    assert "{{" not in str(operator.output_path) and "{{" not in str(operator.report)
    operator.output_path = str(tmp_path / "campaigns.csv")  # the one change: where the file goes
    result = operator.execute(context)
    assert result["rows"] > 0 and "impressions,clicks,CTR,spent" in Path(result["path"]).read_text()
    assert iqm_connection.state.stats()["calls"]["POST /api/v3/ra/report/execute"] >= 1


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ({}, (11, "UTC")),
        ({"timezoneName": "UTC"}, (11, "UTC")),
        ({"timezoneName": "US/Eastern"}, (29, "US/Eastern")),
        ({"timezoneName": "America/New_York"}, (29, "America/New_York")),
        ({"timezoneName": "us/central"}, (423, "us/central")),
        ({"timezoneId": "US/Mountain"}, (21, "US/Mountain")),
        ({"timezoneId": "29"}, (29, "US/Eastern")),
        ({"timezoneId": 29}, (29, "US/Eastern")),
        ({"timezoneId": 105, "timezoneName": "Asia/Kolkata"}, (105, "Asia/Kolkata")),
        ({"timezoneId": 105}, (105, None)),
    ],
)
def test_timezone_id_from_an_id_or_a_name(given: dict[str, Any], sent: tuple[Any, Any]) -> None:
    body = iqm.report_body({**BASE, **given})
    assert (body["timezoneId"], body.get("timezoneName")) == sent


def test_dates_are_read_in_the_timezone_a_mapped_id_names() -> None:
    eastern = iqm.report_body({**BASE, "timezoneId": "US/Eastern"})
    utc = iqm.report_body(BASE)
    assert eastern["startDate"] - utc["startDate"] == 4 * 3600 * 1000  # midnight in New York, November


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ({"timezoneName": "Asia/Kolkata"}, "is required by IQM, and timezoneName 'Asia/Kolkata' has no id"),
        ({"timezoneId": "Mars/Olympus"}, "is not an id nor a timezone name this provider maps"),
        ({"timezoneId": 0}, "must be a positive integer"),
        ({"timezoneId": True}, "must be a positive integer"),
    ],
)
def test_a_timezone_without_an_id_is_refused_before_sending(given: dict[str, Any], rule: str) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        iqm.report_body({**BASE, **given})
    errors = getattr(caught.value, "errors", [caught.value])
    assert any(e.field == "timezoneId" and rule in str(e) for e in errors), [str(e) for e in errors]


def test_report_definition_accepts_a_name_as_timezone_id() -> None:
    definition = iqm.ReportDefinition(
        "r", [{"filter": "campaign"}], ["clicks"], "2026-11-01", "2026-11-02", timezone_id="US/Eastern"
    )
    assert definition.to_body()["timezoneId"] == 29


def test_the_emulator_refuses_a_definition_without_timezone_id(iqm_connection: TealiumEmulator) -> None:
    from airflow_provider_tealium.hooks.iqm import IQMHook

    token = IQMHook().get_token()
    body = {k: v for k, v in iqm.report_body(BASE).items() if k != "timezoneId"}
    answer = requests.post(
        f"{iqm_connection.base_url}{iqm.REPORT_ADD_PATH}", json=body, headers=dict(token.headers), timeout=10
    )
    assert answer.status_code == 422
    error = answer.json()["errorObjects"][0]
    assert (error["error"], error["field"]) == ("timezoneId is required", "timezoneId")
