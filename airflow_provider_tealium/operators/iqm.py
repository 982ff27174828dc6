"""IQM report operators: create a report, run one into a file, schedule its email delivery.

IQM documents no stable web URL for a report in its app, so these operators offer no extra link.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_tealium.api.defaults import IQM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumValidationError
from airflow_provider_tealium.outputs import atomic_output

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_tealium.api.iqm import ReportDefinition, ReportSchedule
    from airflow_provider_tealium.hooks.iqm import IQMHook


class _IQMOperator(BaseOperator):
    """What the IQM operators share: the connection and the hook's retry settings.

    :param iqm_conn_id: the ``iqm`` connection.
    :param max_retries: overrides the connection's ``max_retries``.
    :param backoff_base: overrides the connection's ``backoff_base`` (seconds).
    :param requests_per_minute: overrides the connection's client-side rate limit.
    """

    def __init__(
        self,
        *,
        iqm_conn_id: str = DEFAULT_CONN_ID,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        requests_per_minute: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.iqm_conn_id = iqm_conn_id
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.requests_per_minute = requests_per_minute

    @cached_property
    def hook(self) -> IQMHook:
        """The IQM hook (the connection is read on first use)."""
        from airflow_provider_tealium.hooks.iqm import IQMHook

        return IQMHook(
            self.iqm_conn_id,
            max_retries=self.max_retries,
            backoff_base=self.backoff_base,
            requests_per_minute=self.requests_per_minute,
        )


class IQMCreateReportOperator(_IQMOperator):
    """Validate a report definition and save it in IQM; returns the new report id.

    :param report: a :class:`~airflow_provider_tealium.api.iqm.ReportDefinition` or a dict in the API's
        names (``reportName``, ``dimensions``, ``columns``, ``startDate``, ``endDate``, ``requestType``...).
        Dates may be datetimes, dates, ISO strings (templated) or epoch milliseconds.
    :param iqm_conn_id: the ``iqm`` connection.
    """

    template_fields: Sequence[str] = ("report", "iqm_conn_id")
    ui_color = "#f0e4ff"

    def __init__(self, *, report: ReportDefinition | Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report

    def execute(self, context: Context) -> int:
        from airflow_provider_tealium.api import iqm

        body = iqm.report_body(self.report)  # every rule checked before anything is sent
        report_id = self.hook.create_report(body)
        self.log.info("Created IQM report %d (%s)", report_id, body["reportName"])
        return report_id


class IQMRunReportOperator(_IQMOperator):
    """Run a saved report (``report_id``) or a definition (``report``) and write every row to a file.

    Rows are fetched in pages of at most 1,000 and streamed to the file, so memory stays flat however
    large the report is. With ``use_download=True`` IQM renders the file itself (``/report/download``)
    and the operator fetches it; a report without data has no file, which is reported, not an error.

    :param output_path: a local path or an :class:`~airflow.sdk.ObjectStoragePath` (or a URL string such
        as ``s3://bucket/key.csv``); parent folders of a local path are created. The file appears whole
        or not at all: it is written to a temporary sibling and moved into place on success.
    :param report_id: a saved report's id.
    :param report: a definition (as for :class:`IQMCreateReportOperator`) to run without saving it.
    :param output_format: ``"csv"`` or ``"jsonl"`` (JSON Lines).
    :param page_size: rows per page, 1 to 1,000.
    :param sort_by: ``+field`` or ``-field``.
    :param use_download: fetch IQM's rendered CSV file instead of paging (``output_format`` must be csv).
    :param iqm_conn_id: the ``iqm`` connection.
    :return: ``{"path", "format", "rows", "pages", "total_records", "totals", "no_data"}`` (``bytes``
        instead of ``rows``/``pages`` with ``use_download``).
    """

    template_fields: Sequence[str] = (
        "report_id",
        "report",
        "output_path",
        "output_format",
        "sort_by",
        "iqm_conn_id",
    )
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        output_path: str | ObjectStoragePath,
        report_id: int | str | None = None,
        report: ReportDefinition | Mapping[str, Any] | None = None,
        output_format: str = "csv",
        page_size: int = 1000,
        sort_by: str | None = None,
        use_download: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path
        self.report_id = report_id
        self.report = report
        self.output_format = output_format
        self.page_size = page_size
        self.sort_by = sort_by
        self.use_download = use_download

    def _selector(self) -> int | dict[str, Any]:
        from airflow_provider_tealium.api import iqm

        if (self.report_id in (None, "")) == (self.report is None):
            raise TealiumValidationError("report_id", "give exactly one of report_id and report")
        if self.report is not None:
            return iqm.report_body(self.report)
        return iqm.validate_report_id(self.report_id)

    def _target(self) -> Any:
        if isinstance(self.output_path, str) and "://" not in self.output_path:
            path = Path(self.output_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            return path
        if isinstance(self.output_path, str):
            from airflow.sdk import ObjectStoragePath

            return ObjectStoragePath(self.output_path)
        return self.output_path

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_tealium.api import iqm

        try:
            fmt = iqm.OutputFormat(str(self.output_format).lower())
        except ValueError:
            raise TealiumValidationError(
                "output_format", "must be csv or jsonl", value=self.output_format
            ) from None
        if self.use_download and fmt is not iqm.OutputFormat.CSV:
            raise TealiumValidationError(
                "output_format",
                "must be csv with use_download (IQM's file is written as is)",
                value=self.output_format,
            )
        if not self.output_path:
            raise TealiumValidationError("output_path", "is required")
        selector = self._selector()
        page_size = iqm.validate_page_size(self.page_size)
        target = self._target()
        if self.use_download:
            return self._download(selector, target)
        return self._page(selector, target, fmt, page_size)

    def _download(self, selector: int | dict[str, Any], target: Any) -> dict[str, Any]:
        from airflow_provider_tealium.api import iqm

        url = self.hook.download_url(selector)
        if url is None:
            self.log.info("IQM returned no file URL: the report has no data; nothing written to %s", target)
            return {"path": None, "format": "csv", "bytes": 0, "no_data": True}
        self.log.info("Fetching IQM's report file %s", iqm.safe_url(url))
        with atomic_output(target) as out:  # a failed download leaves the final path as it was
            written = self.hook.fetch_file(url, out)
        self.log.info("Wrote %d bytes to %s", written, target)
        return {"path": str(target), "format": "csv", "bytes": written, "no_data": False}

    def _page(self, selector: int | dict[str, Any], target: Any, fmt: Any, page_size: int) -> dict[str, Any]:
        from airflow_provider_tealium.api import iqm

        rows = pages = 0
        totals: dict[str, Any] | None = None
        total_records: int | None = None
        # Written to a temporary sibling, moved into place once every page is in: a run that fails on
        # page 7 leaves no partial file (and an earlier run's complete file untouched).
        with atomic_output(target) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer: csv.DictWriter[str] | None = None
            dropped: set[str] = set()
            for page in self.hook.iter_report_pages(selector, page_size, self.sort_by):
                pages += 1
                totals, total_records = page.total, page.total_records
                for row in page.rows:
                    if fmt is iqm.OutputFormat.JSONL:
                        text.write(json.dumps(row, separators=(",", ":"), default=str) + "\n")
                        continue
                    if writer is None:
                        writer = csv.DictWriter(text, fieldnames=list(row), extrasaction="ignore")
                        writer.writeheader()
                    new = set(row) - set(writer.fieldnames) - dropped
                    if new:
                        dropped |= new
                        self.log.warning(
                            "Rows carry fields absent from the first row, not written: %s", sorted(new)
                        )
                    writer.writerow(row)
                rows += len(page.rows)
                self.log.info(
                    "Page %d: %d rows written (%d of %s)",
                    pages,
                    len(page.rows),
                    rows,
                    total_records if total_records is not None else "?",
                )
            text.flush()
            text.detach()
        no_data = rows == 0
        if no_data:
            self.log.info("The report has no rows; %s is empty", target)
        else:
            self.log.info("Wrote %d rows in %d pages to %s", rows, pages, target)
        return {
            "path": str(target),
            "format": fmt.value,
            "rows": rows,
            "pages": pages,
            "total_records": total_records,
            "totals": totals,
            "no_data": no_data,
        }


class IQMScheduleReportOperator(_IQMOperator):
    """Create or update a report's email schedule; returns the schedule IQM saved.

    With ``update=True`` the two forms of ``schedule`` mean different things:

    - a **dict** changes only the fields it names; the others keep their current values. The schedule as
      it will be after the change is checked first (the current one is read from the report), and only
      the named fields are sent.
    - a **ReportSchedule** replaces the whole schedule: it is checked as a complete schedule on its own
      and sent whole, its defaults included (once, CSV, no running total), so fields it leaves at their
      defaults are reset, not kept.

    :param report_id: the report.
    :param schedule: a :class:`~airflow_provider_tealium.api.iqm.ReportSchedule` or a dict in the API's names
        (``subscriberEmails``, ``deliveryFrequency``, ``deliveryDay``, ``eventEndDate``, ``fileType``...).
    :param update: change the report's existing schedule instead of creating one.
    :param iqm_conn_id: the ``iqm`` connection.
    """

    template_fields: Sequence[str] = ("report_id", "schedule", "iqm_conn_id")
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        report_id: int | str,
        schedule: ReportSchedule | Mapping[str, Any],
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.report_id = report_id
        self.schedule = schedule
        self.update = update

    def execute(self, context: Context) -> Any:
        from airflow_provider_tealium.api import iqm

        report_id = iqm.validate_report_id(self.report_id)
        schedule = self.schedule
        if isinstance(schedule, iqm.ReportSchedule):
            # Unset (None) fields fall back to the schedule's defaults rather than failing as invalid.
            raw = {k: v for k, v in iqm.schedule_raw(schedule).items() if v is not None}
            body = iqm.schedule_body(raw, prefix="")
            if self.update:
                # A PATCH keeps what it does not name: say "no running total" so replacing really resets it.
                body.setdefault("runningTotalEnabled", False)
        elif isinstance(schedule, Mapping):
            if self.update:
                report = self.hook.get_report(report_id)
                tz = report.get("timezoneName") if isinstance(report.get("timezoneName"), str) else None
                body = iqm.schedule_update_body(schedule, report.get("reportSchedulingEventDetails"), tz)
            else:
                body = iqm.schedule_body(schedule, prefix="")
        else:
            raise TealiumValidationError(
                "schedule", "must be a ReportSchedule or a dict", value=type(schedule).__name__
            )
        data = self.hook.schedule_report(report_id, body, update=self.update)
        self.log.info(
            "%s the email schedule of IQM report %d", "Updated" if self.update else "Created", report_id
        )
        return data.get("scheduledData", data) if isinstance(data, dict) else data
