"""IQM's reporting API, emulated on the platform port: login (both flows), refresh, reports, execute,
download, email schedules, the ``success``/``errorObjects`` envelope and the 20-a-minute limit.

Knobs (in-process: ``iqm_state(emulator.state)``; they reset with the emulator): ``token_lifetime``
(``expires_in``), ``rate_limit``/``rate_window`` (429 beyond them), ``report_rows`` (rows every
report answers; 0 means no data), ``unwrapped_refresh`` (answer refreshes without the envelope),
``refused_refresh_status`` (the HTTP status of a refused refresh; 200 answers ``success: false``),
:meth:`IQMEmulatorState.expire_access_tokens` and :meth:`IQMEmulatorState.revoke_refresh_tokens`.
Records: ``schedule_updates`` (every accepted schedule ``PATCH`` body, as sent).

Get Report answers IQM's documented shape, rules of a request notwithstanding: ``startDate``,
``endDate`` and the schedule's ``eventEndDate`` in epoch seconds, ``runningTotalEnabled`` and unset
``earliestCampaignStartDate`` as ``0``, plus the schedule's ``eventId``. A schedule given in
``/report/add`` is stored like one made with ``/report/email/schedule``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pendulum
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError
from airflow_provider_tealium.testing.emulator.routes_auth import read_form
from airflow_provider_tealium.testing.emulator.state import DEFAULT_EMAIL, EmulatorState

# Fake credentials; they open nothing outside the emulator.
DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-client-secret"
DEFAULT_IQM_PASSWORD = "emulator-iqm-password"
DEFAULT_WORKSPACE_HOST = "emulator.iqm.local"
DEFAULT_OW_ID = 200001
DEFAULT_IQM_TOKEN_LIFETIME = 35999
DEFAULT_REPORT_ROWS = 25
FILES_PREFIX = "/iqm-files/"
COMPONENT = "iqm"


def iqm_error(
    status: int,
    error: str,
    *,
    field: str | None = None,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmulatorHTTPError:
    """An error in IQM's shape: ``{"success": false, "errorObjects": [{"error", "reason", "field"}]}``.

    :param status: HTTP status.
    :param error: the error text.
    :param field: the offending field.
    :param reason: a longer explanation.
    :param headers: extra response headers.
    """
    obj: dict[str, str] = {"error": error}
    if reason:
        obj["reason"] = reason
    if field:
        obj["field"] = field
    return EmulatorHTTPError(status, {"success": False, "errorObjects": [obj]}, headers)


def ok(data: Any, status: int = 200) -> JSONResponse:
    """IQM's success envelope.

    :param data: the ``data``.
    :param status: HTTP status.
    """
    return JSONResponse({"success": True, "data": data}, status_code=status)


@dataclass
class IQMEmulatorState:
    """The emulated IQM's memory and knobs (dropped by the emulator's reset)."""

    clients: dict[str, str] = field(default_factory=lambda: {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
    users: dict[str, str] = field(default_factory=lambda: {DEFAULT_EMAIL: DEFAULT_IQM_PASSWORD})
    ow_id: int = DEFAULT_OW_ID
    token_lifetime: int = DEFAULT_IQM_TOKEN_LIFETIME
    rate_limit: int = 20
    rate_window: float = 60.0
    report_rows: int = DEFAULT_REPORT_ROWS
    unwrapped_refresh: bool = False
    refused_refresh_status: int = 401
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    reports: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedule_updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1001
    next_event_id: int = 1
    counters: Counter[str] = field(default_factory=Counter)
    executed_pages: list[tuple[int, int]] = field(default_factory=list)
    totals_cache: dict[str, dict[str, Any]] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_access_tokens(self) -> None:
        """Make every access token expired now (the next call answers 401)."""
        with self._lock:
            self.access_tokens = {t: (email, 0.0) for t, (email, _) in self.access_tokens.items()}

    def revoke_refresh_tokens(self) -> None:
        """Forget every refresh token (the next refresh is refused)."""
        with self._lock:
            self.refresh_tokens.clear()

    def take_slot(self) -> float | None:
        """Count one API call against the limit; the seconds to wait when it is over the limit."""
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= self.rate_window:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.counters["rate_limited"] += 1
                return self._recent[0] + self.rate_window - now
            self._recent.append(now)
            return None


def iqm_state(state: EmulatorState) -> IQMEmulatorState:
    """The IQM component of an emulator's state (created on first use).

    :param state: the emulator state.
    """
    return state.component(COMPONENT, IQMEmulatorState)


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
    first_day = pendulum.from_timestamp(start_ms / 1000)
    for i in range(start, min(stop, count)):
        row: dict[str, Any] = {
            "date": first_day.add(days=i % 7).to_date_string(),
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
            if key not in ("date", "campaignId", "campaignName") and isinstance(value, int):
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


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The IQM routes (served on the platform port).

    :param state: the emulator state.
    :param region_host_provider: unused; part of every route module's signature.
    """

    def comp() -> IQMEmulatorState:
        return iqm_state(state)

    def limit() -> None:
        wait = comp().take_slot()
        if wait is not None:
            raise iqm_error(
                429,
                "Too many requests",
                reason="Rate limit exceeded",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

    def check_client(request: Request) -> None:
        c = comp()
        if not request.headers.get(iqm.HOST_HEADER):
            raise iqm_error(400, "X-IAA-HOST header is required", field=iqm.HOST_HEADER)
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        expected = c.clients.get(client_id)
        if scheme.lower() != "basic" or expected is None or not secrets.compare_digest(expected, secret):
            state.count_auth_failure()
            raise iqm_error(401, "Invalid client credentials", field="Authorization")

    def issue(email: str, *, refreshing: bool = False) -> dict[str, Any]:
        c = comp()
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with c._lock:
            c.access_tokens[access] = (email, time.time() + c.token_lifetime)
            c.refresh_tokens[refresh] = email
            c.counters["refreshes" if refreshing else "logins"] += 1
        state.count_mint(f"iqm:{email}")
        with state.lock:
            state.issued_tokens.extend([access, refresh])
        return {
            "access_token": access,
            "refresh_token": refresh,
            "scope": "read write",
            "token_type": "bearer",
            "expires_in": c.token_lifetime,
            "owId": c.ow_id,
        }

    def password_login(email: Any, password: Any) -> dict[str, Any]:
        expected = comp().users.get(email) if isinstance(email, str) else None
        if (
            expected is None
            or not isinstance(password, str)
            or not secrets.compare_digest(expected, password)
        ):
            state.count_auth_failure()
            raise iqm_error(401, "Invalid email or password", field="email")
        return issue(email)

    def verify(request: Request) -> str:
        c = comp()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with c._lock:
            entry = c.access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] <= time.time():
            state.count_token_rejection()
            raise iqm_error(401, "Invalid or expired token", field="Authorization")
        if request.headers.get(iqm.OW_ID_HEADER) != str(c.ow_id):
            raise iqm_error(
                403, "X-IAA-OW-ID header is missing or names another workspace", field=iqm.OW_ID_HEADER
            )
        return entry[0]

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise iqm_error(400, "Invalid JSON", reason=str(exc)) from exc
        if not isinstance(body, dict):
            raise iqm_error(400, "The body must be a JSON object")
        return body

    def check_rules(errors: list[Any], definition: dict[str, Any] | None = None) -> None:
        # The same rules the client checks before sending, answered the way IQM answers them.
        if errors:
            body = {"success": False, "errorObjects": [{"error": e.rule, "field": e.field} for e in errors]}
            raise EmulatorHTTPError(422, body)
        if definition is not None and definition.get("timezoneId") is None:
            # IQM's own rule, which its docs list only as a field: a name alone is refused.
            raise iqm_error(422, "timezoneId is required", field="timezoneId")

    def resolve(body: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
        if "id" in body:
            report_id = body["id"]
            report = comp().reports.get(report_id) if isinstance(report_id, int) else None
            if report is None:
                raise iqm_error(404, "Report not found", field="id")
            return report_id, report
        definition = {k: v for k, v in body.items() if k not in ("pageNo", "noOfEntries", "sortBy")}
        check_rules(iqm.validate_report_body(definition), definition)
        return None, definition

    async def login(request: Request) -> JSONResponse:
        limit()
        check_client(request)
        body = await json_body(request)
        if body.get("grantType") != "password":
            raise iqm_error(400, "grantType must be password", field="grantType")
        return ok(password_login(body.get("email"), body.get("password")))

    async def oauth_token(request: Request) -> JSONResponse:
        limit()
        check_client(request)
        form = await read_form(request)
        grant = form.get("grant_type")
        if grant == "password":
            return ok(password_login(form.get("username"), form.get("password")))
        if grant == "refresh_token":
            c = comp()
            with c._lock:
                email = c.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if email is None:
                raise iqm_error(c.refused_refresh_status, "Invalid refresh token", field="refresh_token")
            answer = issue(email, refreshing=True)
            return JSONResponse(answer) if c.unwrapped_refresh else ok(answer)
        raise iqm_error(400, "grant_type must be password or refresh_token", field="grant_type")

    async def add_report(request: Request) -> JSONResponse:
        limit()
        verify(request)
        body = await json_body(request)
        check_rules(iqm.validate_report_body(body), body)
        c = comp()
        schedule = body.pop("reportSchedulingEventDetails", None)
        with c._lock:
            report_id = c.next_id
            c.next_id += 1
            c.reports[report_id] = {"id": report_id, **body}
            if schedule:  # one table for schedules however made, so GET and PATCH see this one too
                c.schedules[report_id] = {"reportId": report_id, "eventId": c.next_event_id, **schedule}
                c.next_event_id += 1
        return ok(report_id)

    async def get_report(request: Request) -> JSONResponse:
        limit()
        verify(request)
        raw = request.path_params["report_id"]
        report = comp().reports.get(int(raw)) if raw.isdigit() else None
        if report is None:
            raise iqm_error(404, "Report not found", field="reportId")
        return ok(answered_report(report, comp().schedules.get(report["id"])))

    async def list_reports(request: Request) -> JSONResponse:
        limit()
        verify(request)
        c = comp()
        # The list answers schedules as saved (``eventEndDate`` in ms), unlike Get Report.
        rows = [
            {
                **r,
                "reportSchedulingEventDetails": {
                    k: v for k, v in (c.schedules.get(r["id"]) or {}).items() if k != "reportId"
                },
            }
            for r in c.reports.values()
        ]
        return ok({"data": rows, "totalRecords": len(rows), "filteredRecords": len(rows)})

    async def execute(request: Request) -> JSONResponse:
        limit()
        verify(request)
        body = await json_body(request)
        page_no, size = body.get("pageNo", 1), body.get("noOfEntries", 50)
        if not isinstance(page_no, int) or page_no < 1:
            raise iqm_error(422, "pageNo must be a positive integer", field="pageNo")
        if not isinstance(size, int) or not 1 <= size <= iqm.MAX_PAGE_SIZE:
            raise iqm_error(
                422, f"noOfEntries must be between 1 and {iqm.MAX_PAGE_SIZE}", field="noOfEntries"
            )
        _, definition = resolve(body)
        c = comp()
        count = c.report_rows
        with c._lock:
            c.executed_pages.append((page_no, size))
        start = (page_no - 1) * size
        rows = list(report_rows(definition, count, start, start + size))
        key = json.dumps([definition, count], sort_keys=True, default=str)
        with c._lock:
            total = c.totals_cache.get(key)
        if total is None:  # computed once per report, not per page
            total = totals(definition, count)
            with c._lock:
                c.totals_cache[key] = total
        return ok({"total": total, "data": rows, "totalRecords": count})

    async def download(request: Request) -> JSONResponse:
        limit()
        verify(request)
        _, definition = resolve(await json_body(request))
        c = comp()
        if c.report_rows == 0:
            return ok({})
        name = secrets.token_hex(8)
        with c._lock:
            c.files[name] = {"definition": definition, "rows": c.report_rows}
        base = f"{request.url.scheme}://{request.url.netloc}"
        return ok({"url": f"{base}{FILES_PREFIX}{name}.csv?X-Emulator-Signature={secrets.token_hex(16)}"})

    async def serve_file(request: Request) -> Response:
        name = request.path_params["name"].removesuffix(".csv")
        entry = comp().files.get(name)
        if entry is None:
            return Response("NoSuchKey", status_code=404, media_type="text/plain")
        definition, count = entry["definition"], entry["rows"]

        def lines() -> Iterator[bytes]:
            buf = io.StringIO()
            writer: csv.DictWriter[str] | None = None
            for row in report_rows(definition, count, 0, count):
                if writer is None:
                    writer = csv.DictWriter(buf, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()

        return StreamingResponse(lines(), media_type="text/csv")

    async def schedule(request: Request) -> JSONResponse:
        limit()
        verify(request)
        body = await json_body(request)
        report_id = body.get("reportId")
        c = comp()
        if report_id not in c.reports:
            raise iqm_error(404, "Report not found", field="reportId")
        fields = {k: v for k, v in body.items() if k != "reportId"}
        check_rules(iqm.validate_schedule_body(fields, ""))
        with c._lock:
            c.schedules[report_id] = {"reportId": report_id, "eventId": c.next_event_id, **fields}
            c.next_event_id += 1
        return ok(
            {
                "scheduledData": scheduled_data(c.schedules[report_id]),
                "message": "Report schedule has been successfully updated.",
            }
        )

    async def update_schedule(request: Request) -> JSONResponse:
        limit()
        verify(request)
        raw = request.path_params["report_id"]
        c = comp()
        current = c.schedules.get(int(raw)) if raw.isdigit() else None
        if current is None:
            raise iqm_error(404, "Report schedule not found", field="reportId")
        change = await json_body(request)
        merged = {**current, **change}
        ids = ("reportId", "eventId")
        check_rules(iqm.validate_schedule_body({k: v for k, v in merged.items() if k not in ids}, ""))
        with c._lock:
            c.schedules[int(raw)] = merged
            c.schedule_updates.append(change)
        return ok(
            {
                "scheduledData": scheduled_data(merged),
                "message": "Report schedule has been successfully updated.",
            }
        )

    return [
        Route(iqm.LOGIN_PATH, login, methods=["POST"]),
        Route(iqm.TOKEN_PATH, oauth_token, methods=["POST"]),
        Route(iqm.REPORT_ADD_PATH, add_report, methods=["POST"]),
        Route(iqm.REPORT_EXECUTE_PATH, execute, methods=["POST"]),
        Route(iqm.REPORT_DOWNLOAD_PATH, download, methods=["POST"]),
        Route(iqm.REPORTS_LIST_PATH, list_reports, methods=["GET"]),
        Route(iqm.SCHEDULE_PATH, schedule, methods=["POST"]),
        Route(iqm.SCHEDULE_UPDATE_PATH, update_schedule, methods=["PATCH"]),
        Route(iqm.REPORT_PATH, get_report, methods=["GET"]),
        Route(FILES_PREFIX + "{name}", serve_file, methods=["GET"]),
    ]
