"""IQM reporting API: paths, report definitions and their rules, request builders, answer parsers.

Pure: no I/O. The hooks, the operators and the emulator all read the rules and paths written here.
Field names in error messages are the API's own (``reportSchedulingEventDetails.deliveryDay``), so an
error points at the same name the IQM docs use.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, TypeGuard

import pendulum

from airflow_provider_tealium.api.auth import IssuedToken
from airflow_provider_tealium.api.checks import MAX_DEPTH, depth_error, key_name, sorted_names
from airflow_provider_tealium.api.paths import segment
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.api.urls import safe_url as safe_url  # re-exported for callers of iqm.safe_url
from airflow_provider_tealium.exceptions import (
    TealiumApiError,
    TealiumValidationError,
    TealiumValidationErrors,
    shown,
)

if TYPE_CHECKING:
    from airflow_provider_tealium.api.iqm_config import IQMConfig

# -- paths ----------------------------------------------------------------------------------------------------

LOGIN_PATH = "/api/v3/ua/login"
TOKEN_PATH = "/api/v3/ua/oauth/token"
REPORT_ADD_PATH = "/api/v3/ra/report/add"
REPORT_PATH = "/api/v3/ra/report/{report_id}"
REPORT_EXECUTE_PATH = "/api/v3/ra/report/execute"
REPORT_DOWNLOAD_PATH = "/api/v3/ra/report/download"
SCHEDULE_PATH = "/api/v3/ra/report/email/schedule"
SCHEDULE_UPDATE_PATH = "/api/v3/ra/report/email/schedule/{report_id}"
REPORTS_LIST_PATH = "/api/v3/ra/reports/list"

OW_ID_HEADER = "X-IAA-OW-ID"
HOST_HEADER = "X-IAA-HOST"

MAX_PAGE_SIZE = 1000
"""IQM's documented maximum rows per page."""
# IQM's docs say 24 h and their samples say ``expires_in: 35999``; only used when an answer has neither.
DEFAULT_TOKEN_LIFETIME = 86400.0
# Epoch values below this are seconds (or garbage), not milliseconds: 1973-03-03 in ms.
_MIN_EPOCH_MS = 100_000_000_000
# And above this no date library can read them: 9999-12-31T23:59:59.999Z.
_MAX_EPOCH_MS = 253_402_300_799_999
# Digit strings longer than this are no number a field can hold (and int() refuses 4300+ digits).
_MAX_DIGITS = 19

# -- enums ----------------------------------------------------------------------------------------------------


class RequestType(IntEnum):
    """``requestType``: how rows are grouped over time."""

    DAILY = 1
    AGGREGATED = 2
    WEEKLY = 3
    MONTHLY = 4


class DeliveryFrequency(IntEnum):
    """``reportSchedulingEventDetails.deliveryFrequency``."""

    ONCE = 1
    DAILY = 2
    WEEKLY = 3
    MONTHLY = 4


class FileType(IntEnum):
    """``fileType`` of a scheduled report's email attachment."""

    CSV = 1
    XLS = 2


class OutputFormat(str, Enum):
    """How :class:`~airflow_provider_tealium.operators.iqm.IQMRunReportOperator` writes rows."""

    CSV = "csv"
    JSONL = "jsonl"


_ENUM_ALIASES: dict[type[IntEnum], dict[str, int]] = {
    # The static list endpoint names request type 2 "total", the UI labels it "Aggregated".
    RequestType: {"total": 2, "aggregate": 2},
    FileType: {"xlsx": 2},
}

# IQM's timezone ids, as its Master API (GET /api/v3/master/timezones) and its report examples give them.
# IQM refuses a report definition without ``timezoneId`` (422 "timezoneId is required"), so a name is
# mapped here; a name IQM documents no id for must be given with its id.
TIMEZONE_IDS: dict[str, int] = {"UTC": 11, "US/Eastern": 29, "US/Central": 423, "US/Mountain": 21}
_TIMEZONE_ALIASES = {
    "etc/utc": "UTC",
    "utc": "UTC",
    "america/new_york": "US/Eastern",
    "america/chicago": "US/Central",
    "america/denver": "US/Mountain",
}
DEFAULT_TIMEZONE = "UTC"
TIMEZONES_HINT = "IQM lists the ids at GET /api/v3/master/timezones"

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTH_DAYS = ("first", "last", *(str(d) for d in range(1, 30)))
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# -- validation helpers ---------------------------------------------------------------------------------------


class _Invalid:
    """Marks a field whose value already failed normalisation, so the wire rules skip it."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Any = _Invalid()


def raise_all(errors: list[TealiumValidationError]) -> None:
    """Raise the one error, or all of them together.

    :param errors: validation failures, possibly none.
    """
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise TealiumValidationErrors(errors)


def enum_value(enum: type[IntEnum], value: Any, field_name: str, errors: list[TealiumValidationError]) -> Any:
    """An enum member from a member, its number or its name (any case).

    :param enum: the enum type.
    :param value: what the user gave.
    :param field_name: the field, for the error.
    :param errors: failures are appended here.
    """
    if isinstance(value, enum):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in enum._value2member_map_:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if _digits(text) and int(text) in enum._value2member_map_:
            return int(text)
        names = {m.name.lower(): int(m) for m in enum}
        names.update(_ENUM_ALIASES.get(enum, {}))
        if text in names:
            return names[text]
    allowed = ", ".join(f"{m.name.lower()} ({int(m)})" for m in enum)
    errors.append(TealiumValidationError(field_name, f"must be one of {allowed}", value=value))
    return INVALID


def to_epoch_ms(
    value: Any,
    field_name: str,
    errors: list[TealiumValidationError],
    *,
    end_of_day: bool = False,
    tz: str | None = None,
) -> Any:
    """Epoch milliseconds from a pendulum/datetime/date, an ISO string, or epoch milliseconds.

    An 8-digit string (``"20261121"``, as ``{{ ds_nodash }}`` renders) is a ``yyyyMMdd`` date; a longer
    all-digit string is epoch milliseconds.
    A value without a time (a ``date``, ``"2026-11-21"``) means the start of that day, or its last
    millisecond when ``end_of_day`` (an end date), in ``tz`` (the report's timezone) or UTC. A naive
    datetime is read in ``tz`` or UTC too.

    :param value: what the user gave (a rendered template is a string).
    :param field_name: the field, for the error.
    :param errors: failures are appended here.
    :param end_of_day: the value is an inclusive end date.
    :param tz: the report's timezone name.
    """
    zone = tz or "UTC"
    try:
        pendulum.timezone(zone)
    except Exception:
        zone = "UTC"
    moment: datetime | None = None
    date_only = False
    if isinstance(value, bool) or value is None:
        moment = None
    elif isinstance(value, int):
        if _MIN_EPOCH_MS <= value <= _MAX_EPOCH_MS:
            return value
        errors.append(
            TealiumValidationError(
                field_name, "must be epoch milliseconds (this looks like seconds or is too old)", value=value
            )
        )
        return INVALID
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment, date_only = datetime(value.year, value.month, value.day), True
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        parsed: Any = None
        digits = _digits(text)
        if text.isascii() and text.isdigit() and not digits:
            moment = None  # more digits than any epoch: reported below
        elif digits and len(text) == 8:
            # ``{{ ds_nodash }}`` renders yyyyMMdd; epoch milliseconds of any plausible date have 12+ digits.
            try:
                parsed = datetime.strptime(text, "%Y%m%d").date()
            except ValueError:
                parsed = None
        elif digits:
            return to_epoch_ms(int(text), field_name, errors)
        else:
            try:
                parsed = pendulum.parse(text, tz=zone, exact=True)
            except Exception:
                parsed = None
        if isinstance(parsed, datetime):
            moment = parsed
        elif isinstance(parsed, date):
            moment, date_only = datetime(parsed.year, parsed.month, parsed.day), True
    if moment is None:
        errors.append(
            TealiumValidationError(
                field_name,
                "must be a date: a datetime, a date, an ISO 8601 string or epoch milliseconds",
                value=value,
            )
        )
        return INVALID
    dt = pendulum.instance(moment, tz=zone) if moment.tzinfo is None else pendulum.instance(moment)
    if date_only and end_of_day:
        dt = dt.end_of("day")
    # Whole seconds plus milliseconds: float arithmetic would round an end of day up to the next day.
    return int(dt.int_timestamp) * 1000 + dt.microsecond // 1000


def _digits(text: str) -> bool:
    """ASCII digits only, and few enough to be a number (``"²"`` is a digit to ``str.isdigit``)."""
    return text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS


def _is_epoch_ms(value: Any) -> bool:
    return _is_int(value) and _MIN_EPOCH_MS <= value <= _MAX_EPOCH_MS


def _json_string(value: Any, field_name: str, errors: list[TealiumValidationError]) -> Any:
    if value is None or isinstance(value, str):
        return value
    too_deep = depth_error(value, field_name)
    if too_deep is not None:
        errors.append(too_deep)
        return INVALID
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        errors.append(TealiumValidationError(field_name, "must be JSON-serialisable", value=value))
        return INVALID


def timezone_id_of(name: str) -> int | None:
    """IQM's id of a timezone name (``"US/Eastern"``, ``"America/New_York"``, any case), if known.

    :param name: the name.
    """
    key = name.strip()
    canonical = _TIMEZONE_ALIASES.get(key.lower(), key)
    for known, tz_id in TIMEZONE_IDS.items():
        if known.lower() == canonical.lower():
            return tz_id
    return None


def _timezone(raw: Mapping[str, Any], errors: list[TealiumValidationError]) -> tuple[Any, Any]:
    """``(timezoneId, timezoneName)`` to send: an id (a number, or a name that maps to one), and a name.

    ``timezoneId`` accepts an id or a name; ``timezoneName`` alone is mapped to its id; neither means UTC.
    """
    tz_id, tz_name = raw.get("timezoneId"), raw.get("timezoneName")
    if isinstance(tz_id, str) and _digits(tz_id.strip()):
        tz_id = int(tz_id.strip())
    elif isinstance(tz_id, str) and tz_id.strip():
        name = tz_id.strip()
        tz_id = timezone_id_of(name)
        if tz_id is None:
            errors.append(
                TealiumValidationError(
                    "timezoneId",
                    f"is not an id nor a timezone name this provider maps ({TIMEZONES_HINT})",
                    value=name,
                )
            )
            return INVALID, tz_name
        tz_name = tz_name if tz_name is not None else name
    if tz_id is None and tz_name is None:
        return TIMEZONE_IDS[DEFAULT_TIMEZONE], DEFAULT_TIMEZONE
    if tz_id is None and isinstance(tz_name, str) and tz_name.strip():
        tz_id = timezone_id_of(tz_name)
        if tz_id is None:
            errors.append(
                TealiumValidationError(
                    "timezoneId",
                    f"is required by IQM, and timezoneName {shown(tz_name)} has no id this provider knows: "
                    f"pass timezoneId too ({TIMEZONES_HINT})",
                )
            )
            return INVALID, tz_name
    if tz_name is None and _is_int(tz_id):
        tz_name = next((name for name, known in TIMEZONE_IDS.items() if known == tz_id), None)
    return tz_id, tz_name


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# -- the rules on the wire body (shared with the emulator) ------------------------------------------------------


def validate_dimensions(value: Any, field_name: str = "dimensions") -> list[TealiumValidationError]:
    """``dimensions``: a JSON array serialised to a string, at least one ``{"filter": ..., "value": [...]}``.

    :param value: the serialised string.
    :param field_name: the field, for errors.
    """
    if value is INVALID:
        return []
    if not isinstance(value, str) or not value.strip():
        return [TealiumValidationError(field_name, "at least one dimension is required", value=value)]
    try:
        items = json.loads(value)
    except RecursionError:
        return [TealiumValidationError(field_name, f"nests deeper than {MAX_DEPTH} levels", show_value=False)]
    except ValueError:
        return [
            TealiumValidationError(field_name, "must be a JSON array serialised to a string", value=value)
        ]
    too_deep = depth_error(items, field_name)
    if too_deep is not None:
        return [too_deep]
    if not isinstance(items, list):
        return [
            TealiumValidationError(field_name, "must be a JSON array serialised to a string", value=value)
        ]
    if not items:
        return [TealiumValidationError(field_name, "at least one dimension is required")]
    errors = []
    for i, item in enumerate(items):
        where = f"{field_name}[{i}]"
        if not isinstance(item, dict):
            errors.append(
                TealiumValidationError(where, 'must be an object like {"filter": "campaign"}', value=item)
            )
            continue
        name = item.get("filter")
        if not isinstance(name, str) or not name.strip():
            errors.append(TealiumValidationError(f"{where}.filter", "must be a non-empty string", value=name))
        if "value" in item and item["value"] is not None and not isinstance(item["value"], list):
            errors.append(
                TealiumValidationError(f"{where}.value", "must be a list of ids", value=item["value"])
            )
    return errors


def validate_schedule_body(
    body: Any, prefix: str = "reportSchedulingEventDetails"
) -> list[TealiumValidationError]:
    """The rules of an email schedule (a report's ``reportSchedulingEventDetails`` or a schedule call).

    :param body: the schedule as sent.
    :param prefix: the field path prefix for errors (``""`` for a standalone schedule call).
    """
    p = f"{prefix}." if prefix else ""
    if not isinstance(body, Mapping):
        return [TealiumValidationError(prefix or "schedule", "must be an object", value=body)]
    errors: list[TealiumValidationError] = []
    frequency = body.get("deliveryFrequency")
    if frequency is not INVALID and not (
        _is_int(frequency) and frequency in DeliveryFrequency._value2member_map_
    ):
        errors.append(
            TealiumValidationError(
                f"{p}deliveryFrequency",
                "must be 1 (once), 2 (daily), 3 (weekly) or 4 (monthly)",
                value=frequency,
            )
        )
    file_type = body.get("fileType")
    if file_type is not INVALID and not (_is_int(file_type) and file_type in FileType._value2member_map_):
        errors.append(TealiumValidationError(f"{p}fileType", "must be 1 (CSV) or 2 (XLS)", value=file_type))
    emails = body.get("subscriberEmails")
    if not isinstance(emails, list) or not emails:
        errors.append(
            TealiumValidationError(
                f"{p}subscriberEmails", "at least one email address is required", value=emails
            )
        )
    else:
        for i, email in enumerate(emails):
            if not isinstance(email, str) or not _EMAIL.match(email):
                errors.append(
                    TealiumValidationError(
                        f"{p}subscriberEmails[{i}]", "must be an email address", value=email
                    )
                )
    recurring = frequency in (DeliveryFrequency.DAILY, DeliveryFrequency.WEEKLY, DeliveryFrequency.MONTHLY)
    day = body.get("deliveryDay")
    if recurring and day in (None, ""):
        errors.append(
            TealiumValidationError(f"{p}deliveryDay", "is required unless the delivery frequency is once")
        )
    elif day not in (None, "", INVALID):
        text = str(day).strip().lower()
        if frequency == DeliveryFrequency.WEEKLY and text not in WEEKDAYS:
            errors.append(
                TealiumValidationError(
                    f"{p}deliveryDay",
                    "must be a weekday name (sunday ... saturday) for a weekly schedule",
                    value=day,
                )
            )
        elif frequency == DeliveryFrequency.MONTHLY and text not in MONTH_DAYS:
            errors.append(
                TealiumValidationError(
                    f"{p}deliveryDay", "must be first, last or a day 1-29 for a monthly schedule", value=day
                )
            )
    end = body.get("eventEndDate")
    if recurring and end is None:
        errors.append(
            TealiumValidationError(f"{p}eventEndDate", "is required unless the delivery frequency is once")
        )
    elif end not in (None, INVALID) and not _is_epoch_ms(end):
        errors.append(TealiumValidationError(f"{p}eventEndDate", "must be epoch milliseconds", value=end))
    running = body.get("runningTotalEnabled")
    if running not in (None, True, False, 0, 1):
        errors.append(
            TealiumValidationError(f"{p}runningTotalEnabled", "must be true or false", value=running)
        )
    earliest = body.get("earliestCampaignStartDate")
    if running in (True, 1) and not earliest:
        errors.append(
            TealiumValidationError(
                f"{p}earliestCampaignStartDate", "is required when runningTotalEnabled is true"
            )
        )
    return errors


def validate_report_body(body: Any) -> list[TealiumValidationError]:
    """The rules of a report definition as sent to ``/report/add`` or ``/report/execute``.

    :param body: the JSON body (dates in epoch milliseconds, ``dimensions`` a string).
    """
    if not isinstance(body, Mapping):
        return [TealiumValidationError("report", "must be an object", value=body)]
    errors: list[TealiumValidationError] = []
    name = body.get("reportName")
    if name is not INVALID and (not isinstance(name, str) or not name.strip()):
        errors.append(TealiumValidationError("reportName", "is required (a non-empty string)", value=name))
    errors += validate_dimensions(body.get("dimensions"))
    columns = body.get("columns")
    if columns is not INVALID:
        if not isinstance(columns, list) or not columns:
            errors.append(
                TealiumValidationError(
                    "columns", "at least one column (metric key) is required", value=columns
                )
            )
        else:
            for i, col in enumerate(columns):
                if not isinstance(col, str) or not col.strip():
                    errors.append(
                        TealiumValidationError(f"columns[{i}]", "must be a non-empty string", value=col)
                    )
    start: Any = body.get("startDate")
    end: Any = body.get("endDate")
    dates_ok = True
    for key, value in (("startDate", start), ("endDate", end)):
        if value is INVALID:
            dates_ok = False
        elif not _is_epoch_ms(value):
            dates_ok = False
            errors.append(TealiumValidationError(key, "is required, in epoch milliseconds", value=value))
    if dates_ok:
        if start >= end:
            errors.append(TealiumValidationError("endDate", "must be after startDate", value=end))
        elif end > pendulum.from_timestamp(start / 1000).add(years=1).timestamp() * 1000:
            errors.append(
                TealiumValidationError("endDate", "the report range must be at most one year", value=end)
            )
    request_type = body.get("requestType")
    if request_type is not INVALID and not (
        _is_int(request_type) and request_type in RequestType._value2member_map_
    ):
        errors.append(
            TealiumValidationError(
                "requestType",
                "must be 1 (daily), 2 (aggregated), 3 (weekly) or 4 (monthly)",
                value=request_type,
            )
        )
    aggregated = body.get("reportAggregated")
    if aggregated not in ("0", "1", INVALID):
        errors.append(
            TealiumValidationError("reportAggregated", 'must be the string "0" or "1"', value=aggregated)
        )
    tz_id = body.get("timezoneId")
    if tz_id is not INVALID and tz_id is not None and not (_is_int(tz_id) and tz_id > 0):
        errors.append(TealiumValidationError("timezoneId", "must be a positive integer", value=tz_id))
    tz_name = body.get("timezoneName")
    if tz_name is not None and (not isinstance(tz_name, str) or not tz_name.strip()):
        errors.append(TealiumValidationError("timezoneName", "must be a non-empty string", value=tz_name))
    customers = body.get("customerIds")
    if customers is not None and (not isinstance(customers, list) or not all(_is_int(c) for c in customers)):
        errors.append(
            TealiumValidationError("customerIds", "must be a list of integer customer ids", value=customers)
        )
    schedule = body.get("reportSchedulingEventDetails")
    if schedule:  # IQM answers ``{}`` for a report without a schedule
        errors += validate_schedule_body(schedule)
    return errors


# -- the user-facing models ---------------------------------------------------------------------------------


@dataclass
class ReportSchedule:
    """An email schedule of a report (``reportSchedulingEventDetails``).

    :param subscriber_emails: who receives the report.
    :param delivery_frequency: :class:`DeliveryFrequency`, its number or name (``"weekly"``).
    :param delivery_day: required unless once: a weekday (weekly) or ``first``/``last``/``1``..``29`` (monthly).
    :param event_end_date: required unless once: when the schedule stops (date, datetime, ISO string, epoch ms).
    :param file_type: :class:`FileType`, its number or name (``"csv"``, ``"xls"``); default CSV.
    :param running_total_enabled: totals from the earliest campaign start (campaign dimension only).
    :param earliest_campaign_start_date: required with ``running_total_enabled``.
    """

    template_fields = ("subscriber_emails", "delivery_day", "event_end_date", "earliest_campaign_start_date")

    subscriber_emails: list[str]
    delivery_frequency: DeliveryFrequency | int | str = DeliveryFrequency.ONCE
    delivery_day: str | None = None
    event_end_date: Any = None
    file_type: FileType | int | str = FileType.CSV
    running_total_enabled: bool | None = None
    earliest_campaign_start_date: Any = None

    def to_body(self, prefix: str = "reportSchedulingEventDetails", tz: str | None = None) -> dict[str, Any]:
        """The schedule as the API wants it; raises every broken rule together.

        :param prefix: the field path prefix for errors.
        :param tz: the report's timezone, for date strings without an offset.
        """
        return schedule_body(
            {
                "subscriberEmails": self.subscriber_emails,
                "deliveryFrequency": self.delivery_frequency,
                "deliveryDay": self.delivery_day,
                "eventEndDate": self.event_end_date,
                "fileType": self.file_type,
                "runningTotalEnabled": self.running_total_enabled,
                "earliestCampaignStartDate": self.earliest_campaign_start_date,
            },
            prefix=prefix,
            tz=tz,
        )


@dataclass
class ReportDefinition:
    """An IQM report definition, in Python terms.

    :param report_name: the report's name.
    :param dimensions: at least one ``{"filter": "campaign", "value": [ids]}`` (a list; serialised for you).
    :param columns: metric keys (``impressions``, ``clicks``, ``spent``...), at least one.
    :param start_date: a datetime, date, ISO string (templated ``"{{ ds }}"`` works) or epoch ms.
    :param end_date: the same; a date without a time means the end of that day. At most a year after start.
    :param request_type: :class:`RequestType`, its number or name (``"daily"``, ``"aggregated"``).
    :param report_aggregated: whether rows are aggregated; default: true for aggregated request types.
    :param timezone_id: IQM's timezone id (``29``), or a timezone name it is mapped from (``"US/Eastern"``).
    :param timezone_name: the timezone name (``"US/Eastern"``); date strings without offset are read in it.
        Given alone, its id is sent too (IQM requires ``timezoneId``); neither means UTC (id 11).
    :param customer_ids: restricts to these customers.
    :param filters: extra filters (a dict; serialised for you).
    :param schedule: an email schedule.
    """

    template_fields = (
        "report_name",
        "dimensions",
        "columns",
        "start_date",
        "end_date",
        "timezone_name",
        "schedule",
    )

    report_name: str
    dimensions: Any
    columns: list[str]
    start_date: Any
    end_date: Any
    request_type: RequestType | int | str = RequestType.DAILY
    report_aggregated: bool | str | int | None = None
    timezone_id: int | str | None = None
    timezone_name: str | None = None
    customer_ids: list[int] | None = None
    filters: Any = None
    schedule: ReportSchedule | Mapping[str, Any] | None = None

    def to_body(self) -> dict[str, Any]:
        """The definition as the API wants it; raises every broken rule together."""
        schedule: Any = self.schedule
        if isinstance(schedule, ReportSchedule):
            schedule = schedule_raw(schedule)
        return report_body(
            {
                "reportName": self.report_name,
                "dimensions": self.dimensions,
                "columns": self.columns,
                "startDate": self.start_date,
                "endDate": self.end_date,
                "requestType": self.request_type,
                "reportAggregated": self.report_aggregated,
                "timezoneId": self.timezone_id,
                "timezoneName": self.timezone_name,
                "customerIds": self.customer_ids,
                "filters": self.filters,
                "reportSchedulingEventDetails": schedule,
            }
        )


def schedule_raw(schedule: ReportSchedule) -> dict[str, Any]:
    """A :class:`ReportSchedule` as an un-normalised dict in API names."""
    return {
        "subscriberEmails": schedule.subscriber_emails,
        "deliveryFrequency": schedule.delivery_frequency,
        "deliveryDay": schedule.delivery_day,
        "eventEndDate": schedule.event_end_date,
        "fileType": schedule.file_type,
        "runningTotalEnabled": schedule.running_total_enabled,
        "earliestCampaignStartDate": schedule.earliest_campaign_start_date,
    }


SCHEDULE_FIELDS = (
    "subscriberEmails",
    "deliveryFrequency",
    "deliveryDay",
    "eventEndDate",
    "fileType",
    "runningTotalEnabled",
    "earliestCampaignStartDate",
)
REPORT_FIELDS = (
    "reportName",
    "dimensions",
    "columns",
    "startDate",
    "endDate",
    "requestType",
    "reportAggregated",
    "timezoneId",
    "timezoneName",
    "customerIds",
    "filters",
    "searchField",
    "reportSchedulingEventDetails",
)


def _normalise_schedule(
    raw: Mapping[str, Any], prefix: str, tz: str | None, errors: list[TealiumValidationError]
) -> dict[str, Any]:
    p = f"{prefix}." if prefix else ""
    unknown = sorted_names(set(raw) - set(SCHEDULE_FIELDS) - {"reportId", "eventId"})
    errors += [TealiumValidationError(f"{p}{key_name(k)}", "is not a schedule field") for k in unknown]
    body: dict[str, Any] = {}
    freq = raw.get("deliveryFrequency", DeliveryFrequency.ONCE)
    body["deliveryFrequency"] = enum_value(DeliveryFrequency, freq, f"{p}deliveryFrequency", errors)
    body["fileType"] = enum_value(FileType, raw.get("fileType", FileType.CSV), f"{p}fileType", errors)
    emails = raw.get("subscriberEmails")
    body["subscriberEmails"] = [emails] if isinstance(emails, str) else emails
    day = raw.get("deliveryDay")
    if day not in (None, ""):
        day = str(day).strip()
        # IQM's samples capitalise weekdays ("Friday"); its table lists them lower case. Send as given.
        body["deliveryDay"] = day
    if raw.get("eventEndDate") not in (None, ""):
        body["eventEndDate"] = to_epoch_ms(
            raw["eventEndDate"], f"{p}eventEndDate", errors, end_of_day=True, tz=tz
        )
    if raw.get("runningTotalEnabled") is not None:
        body["runningTotalEnabled"] = raw["runningTotalEnabled"]
    if raw.get("earliestCampaignStartDate") not in (None, ""):
        body["earliestCampaignStartDate"] = to_epoch_ms(
            raw["earliestCampaignStartDate"], f"{p}earliestCampaignStartDate", errors, tz=tz
        )
    errors += validate_schedule_body(body, prefix)
    return body


def schedule_body(
    raw: Mapping[str, Any], *, prefix: str = "reportSchedulingEventDetails", tz: str | None = None
) -> dict[str, Any]:
    """Normalise and validate a schedule given in API names; raises every broken rule together.

    :param raw: the schedule (enums by name or number, dates in any accepted form).
    :param prefix: the field path prefix for errors.
    :param tz: the timezone for date strings without an offset.
    """
    if not isinstance(raw, Mapping):
        raise TealiumValidationError(
            prefix or "schedule", "must be an object in the API's field names", value=raw
        )
    too_deep = depth_error(raw, prefix or "schedule")
    if too_deep is not None:
        raise too_deep
    errors: list[TealiumValidationError] = []
    body = _normalise_schedule(raw, prefix, tz if isinstance(tz, str) else None, errors)
    raise_all(errors)
    return body


def _answered_epoch_ms(value: Any) -> int | None:
    """A date as IQM answers it, in epoch milliseconds; ``None`` for unset (``0``) or unreadable."""
    if isinstance(value, str) and _digits(value.strip()):
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if _is_int(value):
        if value <= 0:
            return None
        # Get Report answers ``eventEndDate`` in seconds (1671148799) where other answers use ms.
        return value if value >= _MIN_EPOCH_MS else value * 1000
    if isinstance(value, str) and value.strip():
        errors: list[TealiumValidationError] = []
        ms = to_epoch_ms(value, "", errors)
        return None if errors else int(ms)
    return None


def schedule_from_answer(answer: Any) -> dict[str, Any]:
    """A schedule as IQM answers it (``reportSchedulingEventDetails``), read leniently in API names.

    IQM's own answers break the rules a request must follow: Get Report gives ``eventEndDate`` in
    epoch seconds and ``0`` for unset dates and for ``runningTotalEnabled``. This keeps only
    :data:`SCHEDULE_FIELDS`, drops unset (``0``/``None``/``""``) and unreadable dates, turns dates in
    seconds into milliseconds and ``runningTotalEnabled`` ``0``/``1`` into a bool. Never raises.

    :param answer: the answered schedule (``{}`` when the report has none).
    """
    if not isinstance(answer, Mapping):
        return {}
    schedule: dict[str, Any] = {}
    for key in SCHEDULE_FIELDS:
        value = answer.get(key)
        if value is None or value == "":
            continue
        if key in ("eventEndDate", "earliestCampaignStartDate"):
            value = _answered_epoch_ms(value)
            if value is None:
                continue
        elif key == "runningTotalEnabled":
            if value not in (True, False, 0, 1):
                continue
            value = bool(value)
        elif key == "subscriberEmails" and isinstance(value, str):
            value = [e.strip() for e in value.split(",") if e.strip()]
        schedule[key] = value
    return schedule


def schedule_update_body(change: Mapping[str, Any], current: Any, tz: str | None = None) -> dict[str, Any]:
    """The ``PATCH`` body that changes only the fields named in ``change``; raises every broken rule.

    The rules span fields (``deliveryDay`` depends on ``deliveryFrequency``), so the schedule as it will
    be after the change is checked: the current one read leniently (:func:`schedule_from_answer`), the
    change strictly (a date of the user's in seconds is an error, not guessed).

    :param change: the fields to change, in API names (dates in any accepted form).
    :param current: the schedule IQM answered for the report.
    :param tz: the report's timezone, for date strings without an offset.
    """
    if not isinstance(change, Mapping):
        raise TealiumValidationError(
            "schedule", "must be an object naming the fields to change", value=change
        )
    too_deep = depth_error(change, "schedule")
    if too_deep is not None:
        raise too_deep
    errors: list[TealiumValidationError] = []
    merged = {**schedule_from_answer(current), **change}
    normalised = _normalise_schedule(merged, "", tz if isinstance(tz, str) else None, errors)
    raise_all(errors)
    return {k: normalised[k] for k in change if k in normalised}


def report_body(raw: Mapping[str, Any] | ReportDefinition) -> dict[str, Any]:
    """Normalise and validate a report definition given in API names (or a :class:`ReportDefinition`).

    Dates become epoch milliseconds, enums numbers, ``dimensions`` and ``filters`` JSON strings,
    ``reportAggregated`` ``"0"``/``"1"``. Every broken rule is reported together, before anything is sent.

    :param raw: the definition.
    """
    if isinstance(raw, ReportDefinition):
        return raw.to_body()
    if not isinstance(raw, Mapping):
        raise TealiumValidationError(
            "report",
            "must be a dict in the API's field names or a ReportDefinition",
            value=type(raw).__name__,
        )
    too_deep = depth_error(raw, "report")
    if too_deep is not None:
        raise too_deep
    errors: list[TealiumValidationError] = []
    unknown = sorted_names(set(raw) - set(REPORT_FIELDS))
    errors += [TealiumValidationError(key_name(k), "is not a report definition field") for k in unknown]
    tz_id, tz_name = _timezone(raw, errors)
    # Dates without an offset are read in the report's timezone (the name a mapped id stands for).
    tz = tz_name if isinstance(tz_name, str) else None
    body: dict[str, Any] = {"reportName": raw.get("reportName")}
    body["dimensions"] = _json_string(raw.get("dimensions"), "dimensions", errors)
    columns = raw.get("columns")
    body["columns"] = list(columns) if isinstance(columns, (list, tuple)) else columns
    body["startDate"] = to_epoch_ms(raw.get("startDate"), "startDate", errors, tz=tz)
    body["endDate"] = to_epoch_ms(raw.get("endDate"), "endDate", errors, end_of_day=True, tz=tz)
    request_type = enum_value(RequestType, raw.get("requestType", RequestType.DAILY), "requestType", errors)
    body["requestType"] = request_type
    aggregated = raw.get("reportAggregated")
    if aggregated is None:
        aggregated = "1" if request_type == RequestType.AGGREGATED else "0"
    elif isinstance(aggregated, bool) or aggregated in (0, 1):
        aggregated = "1" if aggregated else "0"
    body["reportAggregated"] = aggregated
    body["timezoneId"] = tz_id
    if tz_name is not None:
        body["timezoneName"] = tz_name
    for key in ("customerIds", "searchField"):
        if raw.get(key) is not None:
            body[key] = raw[key]
    if raw.get("filters") is not None:
        body["filters"] = _json_string(raw["filters"], "filters", errors)
    schedule = raw.get("reportSchedulingEventDetails")
    if isinstance(schedule, ReportSchedule):
        schedule = schedule_raw(schedule)
    if schedule:
        if isinstance(schedule, Mapping):
            body["reportSchedulingEventDetails"] = _normalise_schedule(
                schedule, "reportSchedulingEventDetails", tz, errors
            )
        else:
            errors.append(
                TealiumValidationError("reportSchedulingEventDetails", "must be an object", value=schedule)
            )
    # The schedule was checked while normalising; check the rest on the wire form.
    wire = {k: v for k, v in body.items() if k != "reportSchedulingEventDetails"}
    errors += validate_report_body(wire)
    raise_all(errors)
    return body


def validate_report_id(report_id: Any, field_name: str = "report_id") -> int:
    """A report id as an int (templated ids arrive as strings).

    :param report_id: the id.
    :param field_name: the field, for the error.
    """
    if _is_int(report_id) and report_id > 0:
        return int(report_id)
    if isinstance(report_id, str) and _digits(report_id.strip()) and int(report_id) > 0:
        return int(report_id)
    raise TealiumValidationError(field_name, "must be a positive integer report id", value=report_id)


def validate_page_size(page_size: Any) -> int:
    """Rows per execute page: 1 to :data:`MAX_PAGE_SIZE`.

    :param page_size: the requested size.
    """
    if not _is_int(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise TealiumValidationError(
            "page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}", value=page_size
        )
    return int(page_size)


# -- authentication -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IQMToken(IssuedToken):
    """An IQM access token with what refreshing it needs. Secret parts are kept out of ``repr``.

    :param refresh_token: the refresh token (secret).
    :param ow_id: the organisation workspace id, sent as ``X-IAA-OW-ID``.
    """

    refresh_token: str = field(default="", repr=False)
    ow_id: int | str = ""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value it carries, for the secrets masker."""
        return tuple(s for s in (self.token, self.refresh_token) if s)


def basic_auth(client_id: str, client_secret: str) -> str:
    """``Basic base64(clientId:clientSecret)``.

    :param client_id: the API client id.
    :param client_secret: the API client secret.
    """
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _auth_headers(config: IQMConfig) -> dict[str, str]:
    return {
        "Authorization": basic_auth(config.client_id, config.client_secret),
        HOST_HEADER: config.workspace_host,
    }


def login_request(config: IQMConfig) -> ApiRequest:
    """The password login of the connection's flow.

    :param config: the connection settings.
    """
    from airflow_provider_tealium.api.iqm_config import LoginFlow

    if config.login_flow is LoginFlow.LOGIN:
        return ApiRequest(
            "POST",
            LOGIN_PATH,
            TokenFamily.NONE,
            Host.IQM,
            json_body={"grantType": "password", "email": config.email, "password": config.password},
            headers=_auth_headers(config),
            credential_call=True,
        )
    return ApiRequest(
        "POST",
        TOKEN_PATH,
        TokenFamily.NONE,
        Host.IQM,
        form={"grant_type": "password", "username": config.email, "password": config.password},
        headers=_auth_headers(config),
        credential_call=True,
    )


def refresh_request(config: IQMConfig, refresh_token: str) -> ApiRequest:
    """``POST /api/v3/ua/oauth/token`` with ``grant_type=refresh_token``.

    :param config: the connection settings (client credentials).
    :param refresh_token: the refresh token of the current credential.
    """
    return ApiRequest(
        "POST",
        TOKEN_PATH,
        TokenFamily.NONE,
        Host.IQM,
        form={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=_auth_headers(config),
        credential_call=True,
    )


def parse_token_answer(
    request: ApiRequest, body: Any, now: float, previous: IQMToken | None = None
) -> IQMToken:
    """Read a login or refresh answer, wrapped (``{"success": true, "data": {...}}``) or not.

    :param request: the call (for error messages).
    :param body: the parsed JSON answer.
    :param now: the current epoch time.
    :param previous: the credential being refreshed; a refresh answer may omit ``owId``.
    """
    data = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
    if not isinstance(data, dict):
        raise TealiumApiError(request.method, request.path, 200, "login answer is not a JSON object")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise TealiumApiError(request.method, request.path, 200, "login answer has no access_token")
    refresh = data.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        refresh = previous.refresh_token if previous else ""
    ow_id = data.get("owId", previous.ow_id if previous else None)
    if ow_id in (None, ""):
        raise TealiumApiError(request.method, request.path, 200, "login answer has no owId")
    expires_in = data.get("expires_in")
    lifetime = (
        float(expires_in) if _is_int(expires_in) or isinstance(expires_in, float) else DEFAULT_TOKEN_LIFETIME
    )
    return IQMToken(
        token=token,
        host=None,
        issued_at=now,
        expires_at=now + lifetime,
        headers=(("Authorization", f"Bearer {token}"), (OW_ID_HEADER, str(ow_id))),
        refresh_token=refresh,
        ow_id=ow_id,
    )


# -- report calls -------------------------------------------------------------------------------------------


def create_report_request(body: Mapping[str, Any]) -> ApiRequest:
    """``POST /api/v3/ra/report/add`` with a validated body (see :func:`report_body`).

    :param body: the normalised definition.
    """
    return ApiRequest(
        "POST",
        REPORT_ADD_PATH,
        TokenFamily.IQM,
        Host.IQM,
        json_body=dict(body),
        ok_statuses=frozenset({200, 201}),
        idempotent=False,
    )


def get_report_request(report_id: int) -> ApiRequest:
    """``GET /api/v3/ra/report/{id}``.

    :param report_id: the report id.
    """
    return ApiRequest(
        "GET", REPORT_PATH.format(report_id=segment(str(report_id), "report_id")), TokenFamily.IQM, Host.IQM
    )


def list_reports_request(search: str | None = None, page_no: int = 1, limit: int = 20) -> ApiRequest:
    """``GET /api/v3/ra/reports/list``.

    :param search: filter by keyword.
    :param page_no: page number (1-based).
    :param limit: entries per page.
    """
    params = [("pageNo", str(page_no)), ("limit", str(limit))]
    if search:
        params.append(("searchField", search))
    return ApiRequest("GET", REPORTS_LIST_PATH, TokenFamily.IQM, Host.IQM, params=params)


def _report_selector(report: int | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(report, Mapping):
        return dict(report)
    return {"id": int(report)}


def execute_request(
    report: int | Mapping[str, Any],
    page_no: int = 1,
    page_size: int = MAX_PAGE_SIZE,
    sort_by: str | None = None,
) -> ApiRequest:
    """``POST /api/v3/ra/report/execute`` for one page. Running a report changes nothing: idempotent.

    :param report: a saved report's id, or a normalised definition.
    :param page_no: the page (1-based).
    :param page_size: rows per page, at most :data:`MAX_PAGE_SIZE`.
    :param sort_by: ``+field`` or ``-field``.
    """
    body = _report_selector(report)
    body["pageNo"] = page_no
    body["noOfEntries"] = validate_page_size(page_size)
    if sort_by:
        body["sortBy"] = sort_by
    return ApiRequest("POST", REPORT_EXECUTE_PATH, TokenFamily.IQM, Host.IQM, json_body=body)


def download_request(report: int | Mapping[str, Any]) -> ApiRequest:
    """``POST /api/v3/ra/report/download``: runs the report into a file and answers its URL.

    :param report: a saved report's id, or a normalised definition.
    """
    return ApiRequest(
        "POST", REPORT_DOWNLOAD_PATH, TokenFamily.IQM, Host.IQM, json_body=_report_selector(report)
    )


def schedule_request(report_id: int, schedule: Mapping[str, Any], *, update: bool = False) -> ApiRequest:
    """Create (``POST .../email/schedule``) or update (``PATCH .../email/schedule/{id}``) a schedule.

    :param report_id: the report.
    :param schedule: the normalised schedule (see :func:`schedule_body`).
    :param update: change an existing schedule instead of creating one.
    """
    if update:
        return ApiRequest(
            "PATCH",
            SCHEDULE_UPDATE_PATH.format(report_id=segment(str(report_id), "report_id")),
            TokenFamily.IQM,
            Host.IQM,
            json_body=dict(schedule),
        )
    return ApiRequest(
        "POST",
        SCHEDULE_PATH,
        TokenFamily.IQM,
        Host.IQM,
        json_body={"reportId": report_id, **schedule},
        idempotent=False,
    )


# -- answers ------------------------------------------------------------------------------------------------


def unwrap(request: ApiRequest, body: Any) -> Any:
    """``data`` of a ``{"success": ..., "data": ...}`` envelope; a ``success: false`` is an error.

    :param request: the call (for error messages).
    :param body: the parsed JSON answer.
    """
    if isinstance(body, dict) and "success" in body:
        if body.get("success") is False:
            from airflow_provider_tealium.api.errors import read_error

            code, message, details = read_error(body) or (None, "success: false without an error", [])
            raise TealiumApiError(
                request.method, request.path, 200, message, return_code=code, details=details
            )
        return body.get("data")
    return body


def parse_report_id(request: ApiRequest, data: Any) -> int:
    """The id answered by ``/report/add`` (``data`` is the id).

    :param request: the call.
    :param data: the unwrapped answer.
    """
    if _is_int(data):
        return int(data)
    if isinstance(data, dict) and _is_int(data.get("id")):
        return int(data["id"])
    match = re.search(r"\d+", data) if isinstance(data, str) else None
    if match:
        return int(match.group())
    raise TealiumApiError(request.method, request.path, 200, "answer names no report id")


@dataclass(frozen=True)
class ExecutePage:
    """One page of ``/report/execute``.

    :param rows: the rows.
    :param total: the totals row (the same on every page).
    :param total_records: rows in the whole report, when the answer says.
    """

    rows: list[dict[str, Any]]
    total: dict[str, Any] | None
    total_records: int | None


def parse_execute_page(request: ApiRequest, data: Any) -> ExecutePage:
    """Read ``data.data[]``, ``data.total`` and ``data.totalRecords`` (or ``total.totalRecords``).

    :param request: the call.
    :param data: the unwrapped answer.
    """
    if data is None:
        return ExecutePage([], None, 0)
    if not isinstance(data, dict):
        raise TealiumApiError(request.method, request.path, 200, "execute answer is not an object")
    rows = data.get("data") or []
    if not isinstance(rows, list):
        raise TealiumApiError(request.method, request.path, 200, "execute answer's data is not a list")
    total = data.get("total") if isinstance(data.get("total"), dict) else None
    records = data.get("totalRecords")
    if not _is_int(records) and total is not None:
        records = total.get("totalRecords")
    return ExecutePage(rows, total, int(records) if _is_int(records) else None)


def parse_download_url(data: Any) -> str | None:
    """The file URL of ``/report/download``; ``None`` when the report has no data.

    :param data: the unwrapped answer.
    """
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) and url else None


def iter_columns(first_row: Mapping[str, Any], extra: Iterable[str] = ()) -> list[str]:
    """CSV columns: the first row's keys, then any other named ones.

    :param first_row: the first row.
    :param extra: more column names.
    """
    names = list(first_row)
    names += [n for n in extra if n not in first_row]
    return names
