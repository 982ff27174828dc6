"""IQM output, bundles and profile exports appear whole or not at all (issue 11, item 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_tealium.exceptions import TealiumApiError
from airflow_provider_tealium.hooks.iqm import IQMHook
from airflow_provider_tealium.operators.iqm import IQMRunReportOperator
from airflow_provider_tealium.operators.profiles import TealiumGetProfileOperator
from airflow_provider_tealium.outputs import TEMP_MARKER, atomic_output, write_atomically
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.iqm.backend import iqm_state
from tests.integration.test_iqm_operators import CONTEXT, DEFINITION

OLD = b"an earlier run's complete file\n"


@pytest.fixture
def fast_iqm(iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch) -> TealiumEmulator:
    """The emulator with both rate limits raised."""
    iqm_state(iqm_connection.state).rate_limit = 100_000
    monkeypatch.setenv(
        "AIRFLOW_CONN_IQM_DEFAULT",
        iqm_connection.iqm_connection_json(requests_per_minute=100_000, backoff_base=0.01, max_retries=0),
    )
    return iqm_connection


def targets(tmp_path: Path) -> list[Any]:
    return [tmp_path / "out" / "report.csv", f"file://{tmp_path}/store/report.csv"]


def prepare(target: Any, tmp_path: Path) -> Path:
    local = Path(str(target).removeprefix("file://"))
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(OLD)
    return local


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if TEMP_MARKER in p.name]


@pytest.mark.parametrize("which", [0, 1], ids=["local path", "ObjectStoragePath"])
def test_a_report_failing_on_its_first_page_leaves_the_old_file(
    fast_iqm: TealiumEmulator,
    tmp_path: Path,
    which: int,
) -> None:
    target = targets(tmp_path)[which]
    local = prepare(target, tmp_path)
    fast_iqm.faults.add(method="POST", path="/api/v3/ra/report/execute", status=422)
    with pytest.raises(TealiumApiError, match="HTTP 422"):
        IQMRunReportOperator(task_id="run", report=DEFINITION, output_path=str(target)).execute(CONTEXT)
    assert local.read_bytes() == OLD  # not a 0-byte file
    assert leftovers(local.parent) == []


@pytest.mark.parametrize("which", [0, 1], ids=["local path", "ObjectStoragePath"])
def test_a_report_failing_mid_run_writes_no_partial_file(
    fast_iqm: TealiumEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    which: int,
) -> None:
    iqm_state(fast_iqm.state).report_rows = 250
    target = targets(tmp_path)[which]
    local = Path(str(target).removeprefix("file://"))
    local.parent.mkdir(parents=True, exist_ok=True)
    real = IQMHook.iter_report_pages

    def two_pages_then_fail(self: IQMHook, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for number, page in enumerate(real(self, *args, **kwargs)):
            if number == 2:
                raise TealiumApiError("POST", "/api/v3/ra/report/execute", 500, "the worker lost IQM")
            yield page

    monkeypatch.setattr(IQMHook, "iter_report_pages", two_pages_then_fail)
    with pytest.raises(TealiumApiError, match="the worker lost IQM"):
        IQMRunReportOperator(
            task_id="run", report=DEFINITION, output_path=str(target), page_size=100
        ).execute(CONTEXT)
    assert not local.exists()  # 200 rows were written to the temporary file, which is gone
    assert leftovers(local.parent) == []
    monkeypatch.setattr(IQMHook, "iter_report_pages", real)
    result = IQMRunReportOperator(
        task_id="run", report=DEFINITION, output_path=str(target), page_size=100
    ).execute(CONTEXT)
    assert result["rows"] == 250 and local.read_text().count("\n") == 251
    assert leftovers(local.parent) == []


def test_a_failed_download_leaves_the_old_file(fast_iqm: TealiumEmulator, tmp_path: Path) -> None:
    target = tmp_path / "dl" / "report.csv"
    local = prepare(target, tmp_path)
    fast_iqm.faults.add(method="GET", path="/iqm-files/*", status=404)
    with pytest.raises(TealiumApiError, match="HTTP 404"):
        IQMRunReportOperator(
            task_id="dl", report=DEFINITION, output_path=str(target), use_download=True
        ).execute(CONTEXT)
    assert local.read_bytes() == OLD and leftovers(local.parent) == []


def test_the_profile_export_goes_through_a_temporary_sibling(
    tealium_connection: TealiumEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profile.json"
    target.write_bytes(OLD)
    moves: list[tuple[str, str]] = []
    real_rename = ObjectStoragePath.rename

    def recording_rename(self: ObjectStoragePath, to: Any) -> Any:
        moves.append((self.name, Path(str(to)).name))
        return real_rename(self, to)

    monkeypatch.setattr(ObjectStoragePath, "rename", recording_rename)
    from tests.integration.test_profiles_operators import context

    result = TealiumGetProfileOperator(task_id="get", output_path=str(target)).execute(context())
    assert result["path"].endswith("profile.json") and target.read_bytes() != OLD
    assert len(moves) == 1 and TEMP_MARKER in moves[0][0] and moves[0][1] == "profile.json"
    assert leftovers(tmp_path) == []


# -- the helper itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["path", "object storage"])
def test_atomic_output_keeps_the_target_on_failure_and_replaces_it_on_success(
    tmp_path: Path, kind: str
) -> None:
    local = tmp_path / "f.bin"
    local.write_bytes(OLD)
    target: Any = local if kind == "path" else ObjectStoragePath(f"file://{local}")
    with pytest.raises(RuntimeError), atomic_output(target) as handle:
        handle.write(b"half of it")
        raise RuntimeError("the task was killed")
    assert local.read_bytes() == OLD and leftovers(tmp_path) == []
    write_atomically(target, b"whole")
    assert local.read_bytes() == b"whole" and leftovers(tmp_path) == []
