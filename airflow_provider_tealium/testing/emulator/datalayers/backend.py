"""The Hosted Data Layer backend: plain methods on the stored data layers and knobs (no HTTP).

Behaviour beyond the documented shapes, all adjustable (:meth:`DataLayerStore.configure`, control routes
under ``/_emulator/datalayers/``, :class:`~airflow_provider_tealium.testing.emulator.client.EmulatorClient`):

- an accepted upload becomes visible (metadata, listing) only after ``landing_delay`` seconds; until
  then the previous version, if any, is what GET answers;
- ``fail_ids`` (id -> how many uploads of it fail) and ``fail_fraction`` make accepted uploads fail
  to land: they appear in failed-uploads instead (dated when accepted) and the old version stays;
- ``rate_limit`` requests per second (100 by default, ``None`` disables) over all DLE calls, answering
  429 beyond it; ``page_size`` (1,000) for the listing; ``forbidden`` account/profile pairs answer the
  documented 401 ``1469``.

The API methods (:meth:`DataLayerStore.upload`, ``remove``, ``file_metadata``, ``list_page``,
``failed_upload_report``) check requests with :mod:`.rules` and answer the seed's errors.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from airflow_provider_tealium.testing.emulator.datalayers import rules
from airflow_provider_tealium.testing.emulator.datalayers.rules import invalid_request, not_found
from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.state import EmulatorState

COMPONENT = "datalayers"
DEFAULT_LANDING_DELAY = 0.5
DEFAULT_RATE_LIMIT = 100.0
"""Tealium's documented maximum, 100 requests per second."""
PAGE_SIZE = 1000
MAX_FAILED_UPLOADS = 5000
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
"""The seed's failed-upload dates: ``2017-03-31T13:45:33-0700``."""
RATE_LIMITED_MESSAGE = "Too many requests: at most {limit:g} requests per second"
SETTINGS = ("landing_delay", "rate_limit", "page_size", "fail_fraction", "fail_ids", "forbidden", "seed")


@dataclass
class _Version:
    size: int
    accepted_at: float
    lands_at: float
    fails: bool


@dataclass
class _Entry:
    body: bytes = b""
    visible: tuple[float, int] | None = None
    pending: _Version | None = None


@dataclass
class DataLayerStore:
    """The emulator's data layers and knobs (one instance per emulator, dropped by reset).

    :param landing_delay: seconds between accepting an upload and its metadata appearing.
    :param rate_limit: requests per second over all DLE calls before 429 (``None``: unlimited).
    :param page_size: files per listing page.
    :param fail_fraction: share of accepted uploads that fail to land (random, see ``seed``).
    :param fail_ids: id -> how many of its next uploads fail to land.
    :param forbidden: ``account/profile`` pairs answering 401 ``1469``.
    """

    landing_delay: float = DEFAULT_LANDING_DELAY
    rate_limit: float | None = DEFAULT_RATE_LIMIT
    page_size: int = PAGE_SIZE
    fail_fraction: float = 0.0
    fail_ids: dict[str, int] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    files: dict[tuple[str, str], dict[str, _Entry]] = field(default_factory=dict)
    failed: dict[tuple[str, str], list[tuple[str, float]]] = field(default_factory=dict)
    uploads: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    _random: random.Random = field(default_factory=random.Random)
    _recent: deque[float] = field(default_factory=deque)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change knobs (names as the fields, plus ``seed`` for the random failures); returns them all.

        :param settings: the knobs to change.
        """
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown datalayer settings: {sorted(unknown)}")
        with self.lock:
            if "landing_delay" in settings:
                self.landing_delay = _number(settings["landing_delay"], "landing_delay", minimum=0.0)
            if "rate_limit" in settings:
                limit = settings["rate_limit"]
                self.rate_limit = None if limit is None else _number(limit, "rate_limit", minimum=1e-9)
            if "page_size" in settings:
                size = settings["page_size"]
                if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                    raise ValueError("page_size must be a positive integer")
                self.page_size = size
            if "fail_fraction" in settings:
                fraction = _number(settings["fail_fraction"], "fail_fraction", minimum=0.0)
                if fraction > 1:
                    raise ValueError("fail_fraction must be between 0 and 1")
                self.fail_fraction = fraction
            if "fail_ids" in settings:
                ids = settings["fail_ids"]
                self.fail_ids = (
                    dict.fromkeys(ids, 1)
                    if isinstance(ids, list)
                    else {str(k): int(v) for k, v in ids.items()}
                )
            if "forbidden" in settings:
                self.forbidden = set(settings["forbidden"])
            if "seed" in settings:
                self._random.seed(settings["seed"])
            return self.settings()

    def settings(self) -> dict[str, Any]:
        """The knobs, JSON-serialisable."""
        with self.lock:
            return {
                "landing_delay": self.landing_delay,
                "rate_limit": self.rate_limit,
                "page_size": self.page_size,
                "fail_fraction": self.fail_fraction,
                "fail_ids": dict(self.fail_ids),
                "forbidden": sorted(self.forbidden),
            }

    def stats(self) -> dict[str, Any]:
        """Uploads accepted per file (``account/profile/id.ext``), stored files, 429s answered."""
        with self.lock:
            return {
                "uploads": dict(self.uploads),
                "files": {f"{a}/{p}": len(entries) for (a, p), entries in self.files.items()},
                "failed_uploads": {f"{a}/{p}": len(items) for (a, p), items in self.failed.items()},
                "rate_limited": self.rate_limited,
                **self.settings(),
            }

    def admit(self, now: float) -> bool:
        """Count one request against the per-second limit; ``False`` if it is over."""
        with self.lock:
            if self.rate_limit is None:
                return True
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.rate_limited += 1
                return False
            self._recent.append(now)
            return True

    def _settle(self, key: tuple[str, str], now: float) -> dict[str, _Entry]:
        """Land (or fail) every pending version whose time has come."""
        entries = self.files.setdefault(key, {})
        for name, entry in list(entries.items()):
            version = entry.pending
            if version is None or version.lands_at > now:
                continue
            entry.pending = None
            if version.fails:
                self.failed.setdefault(key, []).append((name, version.accepted_at))
                if entry.visible is None:
                    del entries[name]
            else:
                entry.visible = (version.accepted_at, version.size)
        return entries

    def put(self, account: str, profile: str, name: str, body: bytes, now: float) -> None:
        """Accept an upload of file ``name`` (``id.js``/``id.json``)."""
        datalayer_id = name.rsplit(".", 1)[0]
        with self.lock:
            entries = self._settle((account, profile), now)
            fails = self._random.random() < self.fail_fraction
            if self.fail_ids.get(datalayer_id, 0) > 0:
                self.fail_ids[datalayer_id] -= 1
                fails = True
            entry = entries.setdefault(name, _Entry())
            entry.body = body
            entry.pending = _Version(len(body), now, now + self.landing_delay, fails)
            self.uploads[f"{account}/{profile}/{name}"] += 1

    def exists(self, account: str, profile: str, name: str, now: float) -> bool:
        """Whether Tealium knows the file (landed, or accepted and still landing)."""
        with self.lock:
            return name in self._settle((account, profile), now)

    def delete(self, account: str, profile: str, name: str, now: float) -> bool:
        """Remove a file; ``False`` if unknown."""
        with self.lock:
            return self._settle((account, profile), now).pop(name, None) is not None

    def metadata(self, account: str, profile: str, name: str, now: float) -> dict[str, Any] | None:
        """The visible metadata of a file, if landed."""
        with self.lock:
            entry = self._settle((account, profile), now).get(name)
            if entry is None or entry.visible is None:
                return None
            return _status(account, profile, name, *entry.visible)

    def listing(self, account: str, profile: str, now: float) -> list[dict[str, Any]]:
        """Every visible file's metadata, in name order."""
        with self.lock:
            entries = self._settle((account, profile), now)
            return [
                _status(account, profile, name, *entry.visible)
                for name, entry in sorted(entries.items())
                if entry.visible is not None
            ]

    def failures(
        self, account: str, profile: str, start: datetime | None, end: datetime | None, now: float
    ) -> list[dict[str, str]]:
        """Failed uploads dated within ``[start, end]`` (at most 5,000)."""
        with self.lock:
            self._settle((account, profile), now)
            result = []
            for name, when in self.failed.get((account, profile), []):
                stamp = datetime.fromtimestamp(int(when), timezone.utc)
                if (start is None or stamp >= start) and (end is None or stamp <= end):
                    result.append(
                        {"file": f"/dle/{account}/{profile}/{name}", "date": stamp.strftime(DATE_FORMAT)}
                    )
            return result[:MAX_FAILED_UPLOADS]

    def seed_files(
        self,
        account: str,
        profile: str,
        ids: Iterable[str],
        file_type: str | None = None,
        size: int = 2,
        modified: float | None = None,
    ) -> int:
        """Store landed files directly (no HTTP, no rate limit): for listing tests with many files.

        :param account: the account.
        :param profile: the profile.
        :param ids: the ids.
        :param file_type: ``json`` or JavaScript.
        :param size: each file's size.
        :param modified: their ``lastModified`` (epoch seconds; default now).
        """
        extension = "json" if file_type == "json" else "js"
        now = time.time() if modified is None else float(modified)
        count = 0
        with self.lock:
            entries = self.files.setdefault((account, profile), {})
            for datalayer_id in ids:
                entries[f"{datalayer_id}.{extension}"] = _Entry(b"{}", (now, size), None)
                count += 1
        return count

    # -- what the API answers (``now``: epoch seconds, given by the caller) ----------------------

    def admit_request(self, monotonic_now: float) -> None:
        """Count one DLE call against the per-second limit, or refuse it with 429 ``1429``.

        :param monotonic_now: :func:`time.monotonic` seconds.
        """
        if not self.admit(monotonic_now):
            raise tealium_error(429, 1429, RATE_LIMITED_MESSAGE.format(limit=self.rate_limit))

    def check_permission(self, account: str, profile: str) -> None:
        """Refuse a ``forbidden`` account/profile with the documented 401 ``1469``."""
        if f"{account}/{profile}" in self.forbidden:
            raise tealium_error(401, 1469, rules.NO_PERMISSION_MESSAGE)

    def upload(
        self,
        account: str,
        profile: str,
        datalayer_id: str,
        file_type: str | None,
        raw: bytes,
        now: float,
        *,
        update: bool = False,
    ) -> None:
        """Accept an upload (POST), or an update (PUT: ``update``, which needs the file to exist).

        :param datalayer_id: the id, as decoded from the path.
        :param file_type: the ``file-type`` parameter, ``None`` when absent.
        :param raw: the body as received.
        """
        name = self._file_name(account, profile, datalayer_id, file_type)
        problems = rules.body_problems(raw)
        if problems:
            raise invalid_request(problems)
        if update and not self.exists(account, profile, name, now):
            raise not_found(datalayer_id)
        self.put(account, profile, name, raw, now)

    def remove(
        self, account: str, profile: str, datalayer_id: str, file_type: str | None, now: float
    ) -> None:
        """Delete a file, or 404 ``1404``."""
        if not self.delete(account, profile, self._file_name(account, profile, datalayer_id, file_type), now):
            raise not_found(datalayer_id)

    def file_metadata(
        self, account: str, profile: str, datalayer_id: str, file_type: str | None, now: float
    ) -> dict[str, Any]:
        """A landed file's ``{file, lastModified, size}``, or 404 ``1404``."""
        found = self.metadata(
            account, profile, self._file_name(account, profile, datalayer_id, file_type), now
        )
        if found is None:
            raise not_found(datalayer_id)
        return found

    def list_page(self, account: str, profile: str, token: str | None, now: float) -> dict[str, Any]:
        """One page of the listing, with a ``continuationToken`` when more follow.

        :param token: the ``continuationToken`` of the previous page.
        """
        offset = _decode_token(token) if token else 0
        files = self.listing(account, profile, now)
        page = files[offset : offset + self.page_size]
        body: dict[str, Any] = {"isTruncated": offset + self.page_size < len(files), "fileStatuses": page}
        if body["isTruncated"]:
            body["continuationToken"] = _encode_token(offset + self.page_size, f"{account}/{profile}")
        return body

    def failed_upload_report(
        self, account: str, profile: str, start: str | None, end: str | None, now: float
    ) -> dict[str, Any]:
        """The failed-uploads answer, filtered by ``start-date``/``end-date`` (:data:`DATE_FORMAT`)."""
        items = self.failures(account, profile, _date(start), _date(end), now)
        return {"account": account, "profile": profile, "count": len(items), "failedUploads": items}

    def _file_name(self, account: str, profile: str, datalayer_id: str, file_type: str | None) -> str:
        problems = rules.datalayer_id_problems(account, profile, datalayer_id)
        problems += rules.file_type_problems(file_type)
        if problems:
            raise invalid_request(problems)
        return f"{datalayer_id}.{rules.extension(file_type)}"


def _number(value: Any, name: str, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{name} must be a number >= {minimum:g}")
    return float(value)


def _status(account: str, profile: str, name: str, modified: float, size: int) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(int(modified), timezone.utc).strftime(DATE_FORMAT)
    return {"file": f"dle/{account}/{profile}/{name}", "lastModified": stamp, "size": size}


def store(state: EmulatorState) -> DataLayerStore:
    """The emulator's data layer store.

    :param state: the emulator state.
    """
    return state.component(COMPONENT, DataLayerStore)


def _encode_token(offset: int, nonce: str) -> str:
    # Tealium's tokens arrive percent-encoded base64 (``%2B``, ``%3D``); ours too, so clients are
    # tested against sending them back without double encoding.
    raw = base64.b64encode(f"{offset}:{nonce}:~~>".encode()).decode()
    return quote(raw, safe="")


def _decode_token(value: str) -> int:
    try:
        offset, _, _ = base64.b64decode(value.encode(), validate=True).decode().partition(":")
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise invalid_request() from None


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        raise invalid_request() from None
