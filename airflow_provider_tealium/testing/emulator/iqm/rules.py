"""What IQM's reporting API refuses, written from its documents alone (never from the client).

Sources: API-NOTES "IQM (programmatic advertising) API" (the report definition: ``reportName``,
``startDate``/``endDate`` in epoch milliseconds with a range of at most 1 year, ``dimensions`` a JSON
array serialised to a string with at least one entry, ``columns``, ``requestType`` 1-4,
``reportAggregated`` "0"/"1" as a string, ``timezoneId``, ``timezoneName``, ``customerIds``, and
``reportSchedulingEventDetails``; at most 1,000 rows a page), the seed ``iqm-api.txt`` (the error
statuses; "the maximum data size per page is 1K rows"), and IQM's quickstarts: a report needs at least
one dimension, some columns and a time zone ("At a minimum, you must ... select dimensions and metrics,
choose a time zone"); a schedule's ``deliveryDay`` and ``eventEndDate`` are needed unless it is sent
once, the day a weekday name or (monthly) "First", "Last", "1" ... "29".

Each check returns ``(field, error)`` pairs; the emulator answers them as IQM's ``errorObjects`` with
422 (Unprocessable Entity, one of IQM's documented statuses).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, TypeGuard

MAX_PAGE_SIZE = 1000
REQUEST_TYPES = (1, 2, 3, 4)
DELIVERY_FREQUENCIES = (1, 2, 3, 4)
ONCE = 1
WEEKLY, MONTHLY = 3, 4
FILE_TYPES = (1, 2)
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTH_DAYS = ("first", "last", *(str(day) for day in range(1, 30)))
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")

Problems = list[tuple[str, str]]


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())


def one_year_after(epoch_ms: int) -> int:
    """The same moment a calendar year later (UTC; 29 February becomes 28 February), in epoch ms.

    :param epoch_ms: the start.
    """
    moment = datetime.fromtimestamp(epoch_ms // 1000, timezone.utc)
    try:
        later = moment.replace(year=moment.year + 1)
    except ValueError:
        later = moment.replace(year=moment.year + 1, day=28)
    return int(later.timestamp()) * 1000 + epoch_ms % 1000


def dimension_problems(value: Any) -> Problems:
    """``dimensions``: a string holding a JSON array of at least one ``{"filter": ..., "value": [...]}``.

    :param value: the field's value.
    """
    try:
        items = json.loads(value) if isinstance(value, str) else None
    except (ValueError, RecursionError):
        items = None
    if not isinstance(items, list):
        return [("dimensions", "must be a JSON array serialised to a string")]
    if not items:
        return [("dimensions", "at least one dimension is required")]
    problems = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not _text(item.get("filter")):
            problems.append((f"dimensions[{i}].filter", "must be a non-empty string"))
        elif item.get("value") is not None and not isinstance(item["value"], list):
            problems.append((f"dimensions[{i}].value", "must be a list of ids"))
    return problems


def report_problems(body: dict[str, Any], *, saved: bool = True) -> Problems:
    """Every rule a report definition breaks.

    :param body: the definition as sent (``/report/add``, or ``/report/execute`` without an ``id``).
    :param saved: a definition being saved needs its ``reportName``; one only executed does not.
    """
    problems: Problems = []
    if saved and not _text(body.get("reportName")):
        problems.append(("reportName", "is required"))
    problems += dimension_problems(body.get("dimensions"))
    columns = body.get("columns")
    if not isinstance(columns, list) or not columns or not all(_text(c) for c in columns):
        problems.append(("columns", "at least one column (a metric key string) is required"))
    start, end = body.get("startDate"), body.get("endDate")
    for name, value in (("startDate", start), ("endDate", end)):
        if not is_int(value) or value < 0:
            problems.append((name, "is required, in epoch milliseconds"))
    if is_int(start) and is_int(end) and start >= 0 and end >= 0:
        if end <= start:
            problems.append(("endDate", "must be after startDate"))
        elif end > one_year_after(start):
            problems.append(("endDate", "the report range must be at most one year"))
    if body.get("requestType") not in REQUEST_TYPES or not is_int(body.get("requestType")):
        problems.append(("requestType", "must be 1 (daily), 2 (aggregated), 3 (weekly) or 4 (monthly)"))
    if body.get("reportAggregated") not in ("0", "1"):
        problems.append(("reportAggregated", 'must be the string "0" or "1"'))
    tz_id = body.get("timezoneId")
    if tz_id is None:
        problems.append(("timezoneId", "timezoneId is required"))
    elif not is_int(tz_id) or tz_id < 1:
        problems.append(("timezoneId", "must be a timezone id (a positive integer)"))
    if body.get("timezoneName") is not None and not _text(body["timezoneName"]):
        problems.append(("timezoneName", "must be a non-empty string"))
    customers = body.get("customerIds")
    if customers is not None and not (isinstance(customers, list) and all(is_int(c) for c in customers)):
        problems.append(("customerIds", "must be a list of integer customer ids"))
    schedule = body.get("reportSchedulingEventDetails")
    if schedule:  # IQM answers ``{}`` for a report without one
        problems += schedule_problems(schedule, "reportSchedulingEventDetails.")
    return problems


def schedule_problems(body: Any, prefix: str = "") -> Problems:
    """Every rule an email schedule breaks.

    :param body: the schedule.
    :param prefix: prepended to field names (``reportSchedulingEventDetails.``).
    """
    if not isinstance(body, dict):
        return [(prefix.rstrip(".") or "schedule", "must be an object")]
    problems: Problems = []
    frequency = body.get("deliveryFrequency")
    if frequency not in DELIVERY_FREQUENCIES or not is_int(frequency):
        problems.append(
            (f"{prefix}deliveryFrequency", "must be 1 (once), 2 (daily), 3 (weekly) or 4 (monthly)")
        )
    if body.get("fileType") not in FILE_TYPES or not is_int(body.get("fileType")):
        problems.append((f"{prefix}fileType", "must be 1 (CSV) or 2 (XLS)"))
    emails = body.get("subscriberEmails")
    if not isinstance(emails, list) or not emails:
        problems.append((f"{prefix}subscriberEmails", "at least one email address is required"))
    else:
        problems += [
            (f"{prefix}subscriberEmails[{i}]", "must be an email address")
            for i, email in enumerate(emails)
            if not isinstance(email, str) or not _EMAIL_RE.match(email)
        ]
    recurring = is_int(frequency) and frequency in DELIVERY_FREQUENCIES and frequency != ONCE
    day = body.get("deliveryDay")
    if recurring and not _text(day):
        problems.append((f"{prefix}deliveryDay", "is required unless the report is sent once"))
    elif recurring and frequency == WEEKLY and str(day).strip().lower() not in WEEKDAYS:
        problems.append((f"{prefix}deliveryDay", "must be a weekday name for a weekly schedule"))
    elif recurring and frequency == MONTHLY and str(day).strip().lower() not in MONTH_DAYS:
        problems.append((f"{prefix}deliveryDay", "must be First, Last or a day 1-29 for a monthly schedule"))
    end = body.get("eventEndDate")
    if recurring and end is None:
        problems.append((f"{prefix}eventEndDate", "is required unless the report is sent once"))
    elif end is not None and (not is_int(end) or end < 0):
        problems.append((f"{prefix}eventEndDate", "must be epoch milliseconds"))
    running = body.get("runningTotalEnabled")
    if running not in (None, True, False, 0, 1) or isinstance(running, float):
        problems.append((f"{prefix}runningTotalEnabled", "must be true or false"))
    elif running and not body.get("earliestCampaignStartDate"):
        problems.append(
            (f"{prefix}earliestCampaignStartDate", "is required when runningTotalEnabled is true")
        )
    return problems


def page_problems(page_no: Any, size: Any) -> Problems:
    """``pageNo`` (from 1) and ``noOfEntries`` (1 to 1,000) of an execute call.

    :param page_no: the page.
    :param size: rows per page.
    """
    problems: Problems = []
    if not is_int(page_no) or page_no < 1:
        problems.append(("pageNo", "pageNo must be a positive integer"))
    if not is_int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        problems.append(("noOfEntries", f"noOfEntries must be between 1 and {MAX_PAGE_SIZE}"))
    return problems
