"""IQM's reporting API as plain methods on the emulated IQM's state (no HTTP): both logins, refresh,
token checks, reports, execute, download, email schedules and the 20-a-minute limit.

Knobs (in-process: ``iqm_state(emulator.state)``; they reset with the emulator): ``token_lifetime``
(``expires_in``), ``rate_limit``/``rate_window`` (429 beyond them), ``report_rows`` (rows every
report answers; 0 means no data), ``unwrapped_refresh`` (answer refreshes without the envelope),
``refused_refresh_status`` (the HTTP status of a refused refresh; 200 answers ``success: false``),
:meth:`IQMEmulatorState.expire_access_tokens` and :meth:`IQMEmulatorState.revoke_refresh_tokens`.
Records: ``schedule_updates`` (every accepted schedule ``PATCH`` body, as sent). A schedule given in
``/report/add`` is stored like one made with ``/report/email/schedule``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, iqm_error
from airflow_provider_tealium.testing.emulator.iqm import rules
from airflow_provider_tealium.testing.emulator.iqm.reports import (
    answered_report,
    report_rows,
    scheduled_data,
    totals,
)
from airflow_provider_tealium.testing.emulator.state import DEFAULT_EMAIL, EmulatorState

# Fake credentials; they open nothing outside the emulator.
DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-client-secret"
DEFAULT_IQM_PASSWORD = "emulator-iqm-password"
DEFAULT_WORKSPACE_HOST = "emulator.iqm.local"
DEFAULT_OW_ID = 200001
DEFAULT_IQM_TOKEN_LIFETIME = 35999
DEFAULT_REPORT_ROWS = 25
COMPONENT = "iqm"
HOST_HEADER = "X-IAA-HOST"
OW_ID_HEADER = "X-IAA-OW-ID"
SCHEDULED_MESSAGE = "Report schedule has been successfully updated."
_PAGING = ("pageNo", "noOfEntries", "sortBy")


def refused(problems: rules.Problems) -> EmulatorHTTPError:
    """IQM's 422 for a body breaking documented rules, one ``errorObjects`` entry per problem.

    :param problems: ``(field, error)`` pairs.
    """
    objects = [{"error": error, "field": name} for name, error in problems]
    return EmulatorHTTPError(422, {"success": False, "errorObjects": objects})


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
    state: EmulatorState = field(default_factory=EmulatorState, repr=False, compare=False)

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

    def admit(self) -> None:
        """Count one call, or refuse it with 429 and a ``Retry-After`` (the seed: 20 a minute)."""
        wait = self.take_slot()
        if wait is not None:
            retry = {"Retry-After": str(max(1, math.ceil(wait)))}
            raise iqm_error(429, "Too many requests", reason="Rate limit exceeded", headers=retry)

    # -- authentication --------------------------------------------------------------------------

    def check_client(self, authorization: str, workspace_host: str | None) -> None:
        """The login calls' ``Authorization: Basic base64(clientId:clientSecret)`` and ``X-IAA-HOST``.

        :param authorization: the ``Authorization`` header.
        :param workspace_host: the ``X-IAA-HOST`` header.
        """
        if not workspace_host:
            raise iqm_error(400, f"{HOST_HEADER} header is required", field=HOST_HEADER)
        scheme, _, encoded = authorization.partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        expected = self.clients.get(client_id)
        if scheme.lower() != "basic" or expected is None or not secrets.compare_digest(expected, secret):
            self.state.count_auth_failure()
            raise iqm_error(401, "Invalid client credentials", field="Authorization")

    def _issue(self, email: str, *, refreshing: bool = False) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._lock:
            self.access_tokens[access] = (email, time.time() + self.token_lifetime)
            self.refresh_tokens[refresh] = email
            self.counters["refreshes" if refreshing else "logins"] += 1
        self.state.count_mint(f"iqm:{email}")
        with self.state.lock:
            self.state.issued_tokens.extend([access, refresh])
        return {
            "access_token": access,
            "refresh_token": refresh,
            "scope": "read write",
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "owId": self.ow_id,
        }

    def password_login(self, email: Any, password: Any) -> dict[str, Any]:
        """A login (either flow): the token answer's ``data``.

        :param email: the user's email.
        :param password: the user's password.
        """
        expected = self.users.get(email) if isinstance(email, str) else None
        if (
            expected is None
            or not isinstance(password, str)
            or not secrets.compare_digest(expected, password)
        ):
            self.state.count_auth_failure()
            raise iqm_error(401, "Invalid email or password", field="email")
        return self._issue(email)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A refresh: new tokens for a refresh token, which is used up.

        :param refresh_token: the form's ``refresh_token``.
        """
        with self._lock:
            email = self.refresh_tokens.pop(refresh_token, None)
        if email is None:
            raise iqm_error(self.refused_refresh_status, "Invalid refresh token", field="refresh_token")
        return self._issue(email, refreshing=True)

    def verify(self, authorization: str, ow_id: str | None) -> str:
        """The user of a call's bearer token, which must be live, with the workspace's ``X-IAA-OW-ID``.

        :param authorization: the ``Authorization`` header.
        :param ow_id: the ``X-IAA-OW-ID`` header.
        """
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            entry = self.access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] <= time.time():
            self.state.count_token_rejection()
            raise iqm_error(401, "Invalid or expired token", field="Authorization")
        if ow_id != str(self.ow_id):
            raise iqm_error(
                403, f"{OW_ID_HEADER} header is missing or names another workspace", field=OW_ID_HEADER
            )
        return entry[0]

    # -- reports ---------------------------------------------------------------------------------

    def add_report(self, body: dict[str, Any]) -> int:
        """Save a definition (and the schedule it holds); returns the new report id.

        :param body: the definition.
        """
        problems = rules.report_problems(body)
        if problems:
            raise refused(problems)
        definition = dict(body)
        schedule = definition.pop("reportSchedulingEventDetails", None)
        with self._lock:
            report_id = self.next_id
            self.next_id += 1
            self.reports[report_id] = {"id": report_id, **definition}
            if schedule:  # one table for schedules however made, so GET and PATCH see this one too
                self.schedules[report_id] = {"reportId": report_id, "eventId": self.next_event_id, **schedule}
                self.next_event_id += 1
        return report_id

    def get_report(self, raw_id: str) -> dict[str, Any]:
        """A saved report as Get Report answers it.

        :param raw_id: the id in the path.
        """
        report = self.reports.get(int(raw_id)) if raw_id.isdigit() else None
        if report is None:
            raise iqm_error(404, "Report not found", field="reportId")
        return answered_report(report, self.schedules.get(report["id"]))

    def list_reports(self) -> dict[str, Any]:
        """Every saved report; the list answers schedules as saved (``eventEndDate`` in ms)."""
        rows = [
            {
                **r,
                "reportSchedulingEventDetails": {
                    k: v for k, v in (self.schedules.get(r["id"]) or {}).items() if k != "reportId"
                },
            }
            for r in self.reports.values()
        ]
        return {"data": rows, "totalRecords": len(rows), "filteredRecords": len(rows)}

    def _resolve(self, body: dict[str, Any]) -> dict[str, Any]:
        """The definition an execute or download names: a saved report's (``id``) or the body's."""
        if "id" in body:
            report = self.reports.get(body["id"]) if rules.is_int(body["id"]) else None
            if report is None:
                raise iqm_error(404, "Report not found", field="id")
            return report
        definition = {k: v for k, v in body.items() if k not in _PAGING}
        problems = rules.report_problems(definition, saved=False)
        if problems:
            raise refused(problems)
        return definition

    def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        """One page of rows (``pageNo``, ``noOfEntries``), with the totals and ``totalRecords``.

        :param body: ``{"id": ...}`` or a definition, plus the paging fields.
        """
        page_no, size = body.get("pageNo", 1), body.get("noOfEntries", 50)
        problems = rules.page_problems(page_no, size)
        if problems:
            raise refused(problems)
        definition = self._resolve(body)
        count = self.report_rows
        start = (page_no - 1) * size
        rows = list(report_rows(definition, count, start, start + size))
        key = json.dumps([definition, count], sort_keys=True, default=str)
        with self._lock:
            self.executed_pages.append((page_no, size))
            total = self.totals_cache.get(key)
        if total is None:  # computed once per report, not per page
            total = totals(definition, count)
            with self._lock:
                self.totals_cache[key] = total
        return {"total": total, "data": rows, "totalRecords": count}

    def download(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A file URL for the whole report (absent when it has no data), served under ``/iqm-files/``.

        :param body: ``{"id": ...}`` or a definition.
        :param base_url: ``scheme://host:port`` the URL points at.
        """
        definition = self._resolve(body)
        if self.report_rows == 0:
            return {}
        name = secrets.token_hex(8)
        with self._lock:
            self.files[name] = {"definition": definition, "rows": self.report_rows}
        return {"url": f"{base_url}/iqm-files/{name}.csv?X-Emulator-Signature={secrets.token_hex(16)}"}

    def schedule(self, body: dict[str, Any]) -> dict[str, Any]:
        """Save a report's email schedule.

        :param body: ``reportId`` plus the schedule's fields.
        """
        report_id = body.get("reportId")
        if report_id not in self.reports:
            raise iqm_error(404, "Report not found", field="reportId")
        fields = {k: v for k, v in body.items() if k != "reportId"}
        problems = rules.schedule_problems(fields)
        if problems:
            raise refused(problems)
        with self._lock:
            self.schedules[report_id] = {"reportId": report_id, "eventId": self.next_event_id, **fields}
            self.next_event_id += 1
            return {"scheduledData": scheduled_data(self.schedules[report_id]), "message": SCHEDULED_MESSAGE}

    def update_schedule(self, raw_id: str, change: dict[str, Any]) -> dict[str, Any]:
        """Change a report's schedule (the fields given; the rest kept).

        :param raw_id: the report id in the path.
        :param change: the fields to change.
        """
        current = self.schedules.get(int(raw_id)) if raw_id.isdigit() else None
        if current is None:
            raise iqm_error(404, "Report schedule not found", field="reportId")
        merged = {**current, **change}
        problems = rules.schedule_problems(
            {k: v for k, v in merged.items() if k not in ("reportId", "eventId")}
        )
        if problems:
            raise refused(problems)
        with self._lock:
            self.schedules[int(raw_id)] = merged
            self.schedule_updates.append(change)
        return {"scheduledData": scheduled_data(merged), "message": SCHEDULED_MESSAGE}


def iqm_state(state: EmulatorState) -> IQMEmulatorState:
    """The IQM component of an emulator's state (created on first use).

    :param state: the emulator state.
    """
    return state.component(COMPONENT, lambda: IQMEmulatorState(state=state))
