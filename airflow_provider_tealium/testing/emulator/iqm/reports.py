"""The rows an emulated report answers, and stored reports and schedules in IQM's answer shapes.

Get Report answers IQM's documented shape, whatever the request held: ``startDate``, ``endDate`` and the
schedule's ``eventEndDate`` in epoch seconds, ``runningTotalEnabled`` and an unset
``earliestCampaignStartDate`` as ``0``, plus the schedule's ``eventId``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

_LABELS = ("date", "campaignId", "campaignName")


def report_rows(definition: dict[str, Any], count: int, start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Deterministic rows ``start``..``stop`` of a report with ``count`` rows.

    :param definition: the report (its columns and start date shape the rows).
    :param count: rows in the whole report.
    :param start: first row index.
    :param stop: one past the last row index.
    """
    columns = [c for c in definition.get("columns") or [] if isinstance(c, str)]
    raw_start = definition.get("startDate")
    start_ms = raw_start if isinstance(raw_start, int) else 0
    first_day = datetime.fromtimestamp(start_ms / 1000, timezone.utc)
    for i in range(start, min(stop, count)):
        row: dict[str, Any] = {
            "date": (first_day + timedelta(days=i % 7)).date().isoformat(),
            "campaignId": 287000 + i,
            "campaignName": f"Emulator campaign {i}",
        }
        for n, col in enumerate(columns):
            if col not in row:
                row[col] = (i * 37 + n * 11) % 1000
        yield row


def totals(definition: dict[str, Any], count: int) -> dict[str, Any]:
    """The totals row: the sum of every metric column, and ``totalRecords``.

    :param definition: the report.
    :param count: rows in the report.
    """
    sums: Counter[str] = Counter()
    for row in report_rows(definition, count, 0, count):
        for key, value in row.items():
            if key not in _LABELS and isinstance(value, int):
                sums[key] += value
    return {**dict(sums), "totalRecords": count}


def _seconds(value: Any) -> Any:
    return value // 1000 if isinstance(value, int) and not isinstance(value, bool) else value


def answered_schedule(stored: dict[str, Any] | None) -> dict[str, Any]:
    """A stored schedule as IQM's Get Report answers it (dates in seconds, unset values ``0``).

    :param stored: the schedule as saved (epoch milliseconds), or ``None``.
    """
    if not stored:
        return {}
    answer = {k: v for k, v in stored.items() if k != "reportId"}
    answer["eventEndDate"] = _seconds(stored.get("eventEndDate")) or 0
    answer["runningTotalEnabled"] = 1 if stored.get("runningTotalEnabled") else 0
    answer["earliestCampaignStartDate"] = stored.get("earliestCampaignStartDate") or 0
    return answer


def scheduled_data(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored schedule as the schedule calls answer it (``scheduledData``: no ``eventId``).

    :param stored: the schedule as saved.
    """
    return {k: v for k, v in stored.items() if k != "eventId"}


def answered_report(report: dict[str, Any], schedule: dict[str, Any] | None) -> dict[str, Any]:
    """A stored report as IQM's Get Report answers it.

    :param report: the report as saved.
    :param schedule: its schedule as saved, or ``None``.
    """
    answer = {k: v for k, v in report.items() if k != "reportSchedulingEventDetails"}
    for key in ("startDate", "endDate"):
        answer[key] = _seconds(report.get(key))
    answer["reportSchedulingEventDetails"] = answered_schedule(schedule)
    return answer
