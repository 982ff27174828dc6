"""iQ revisions (v1 and v2 manifest APIs): paths, ids as times, details, bundle verification (pure, no I/O).

A revision is what a publish leaves behind: its id (a UTC timestamp), name, comment, the targets it
went to and, per target, the SHA-256 of every published file. The bundle of a target is a zip of
those files; :func:`~airflow_provider_tealium.api.bundles.verify_bundle` proves it is exactly what the
details describe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

# Bundle verification lives in api/bundles.py; its names are re-exported here, where callers found them.
from airflow_provider_tealium.api.bundles import (  # noqa: F401
    BUNDLE_CHECKSUM,
    DEFAULT_LIMITS,
    BundleLimits,
    BundleVerification,
    TealiumBundleVerificationError,
    is_javascript,
    verify_bundle,
)
from airflow_provider_tealium.api.checks import depth_error, sorted_names
from airflow_provider_tealium.api.paths import name_segment, segment
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumValidationError

V1_LIST_PATH = "/v1/accounts/{account}/{profile}/revisions"
V1_DETAILS_PATH = "/v1/accounts/{account}/{profile}/revisions/{revision_id}/details"
V1_BUNDLE_PATH = "/v1/accounts/{account}/{profile}/revisions/{revision_id}/{target}"
V2_LIST_PATH = "/v2/manifest/accounts/{account}/profiles/{profile}/revisions"
V2_DETAILS_PATH = "/v2/manifest/accounts/{account}/profiles/{profile}/revisions/{revision_id}/details"
V2_BUNDLE_PATH = (
    "/v2/manifest/accounts/{account}/profiles/{profile}/revisions/{revision_id}/environments/{target}"
)

RETURN_CODE_MESSAGES: dict[int, str] = {
    1240: "Tealium does not know this account, or its revisions API is not activated (ask your account manager).",
    1250: "Tealium does not know this profile in the account.",
    1260: "This revision has no details: check the revision id (list the revisions to see valid ones).",
    1270: "Tealium serves a target's bundle only for the latest revision published to it; this one is not.",
}

_REVISION_ID_RE = re.compile(r"^\d{12}(\d{2})?$")
# Not starting with ".": "." and ".." are dot segments (the path would collapse).
_TARGET_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_FORMATS = {12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


class RevisionsApi(str, Enum):
    """Which family serves the revisions; both give the same answers."""

    V1 = "v1"
    """``/v1/accounts/...`` with the v1 login (``JSESSIONID`` + ``utk``): the documented API."""
    V2 = "v2"
    """``/v2/manifest/...`` with the v2 bearer token (the API key; no v1 password needed)."""


def revisions_api(value: str | RevisionsApi | None, field_name: str = "revisions_api") -> RevisionsApi:
    """Read a ``revisions_api`` setting (``None`` means the documented v1 API).

    :param value: ``"v1"``, ``"v2"`` or ``None``.
    :param field_name: the field to name in errors.
    """
    if value is None or value == "":
        return RevisionsApi.V1
    try:
        return RevisionsApi(str(value.value if isinstance(value, RevisionsApi) else value).lower())
    except ValueError:
        raise TealiumValidationError(field_name, "must be 'v1' or 'v2'", value=value) from None


def validate_revision_id(value: object, field_name: str = "revision_id") -> str:
    """A revision id: ``YYYYMMDDHHMM`` or ``YYYYMMDDHHMMSS``, a real UTC time.

    :param value: the id.
    :param field_name: the field to name in errors.
    """
    # An int of thousands of digits cannot even be turned into text (Python refuses over 4300).
    number_ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**14
    text = value.strip() if isinstance(value, str) else str(value) if number_ok else None
    if text is None or not _REVISION_ID_RE.match(text):
        raise TealiumValidationError(
            field_name, "must be a revision id of 12 or 14 digits (YYYYMMDDHHMM[SS])", value=value
        )
    try:
        datetime.strptime(text, _FORMATS[len(text)])
    except ValueError:
        raise TealiumValidationError(field_name, "is not a valid date and time", value=value) from None
    return text


def validate_target(value: object, field_name: str = "target") -> str:
    """A publish target (environment) name: letters, digits, ``_ . -``; not ``details``.

    :param value: the target.
    :param field_name: the field to name in errors.
    """
    if not isinstance(value, str) or not _TARGET_RE.match(value):
        raise TealiumValidationError(
            field_name,
            "must be an environment name of letters, digits, '_', '.' or '-', not starting with '.'",
            value=value,
        )
    if value == "details":
        # In v1 paths ``.../revisions/{id}/details`` is the details call, not a bundle.
        raise TealiumValidationError(
            field_name, "cannot be 'details' (that path is the details call)", value=value
        )
    return value


def revision_time(revision_id: str) -> datetime:
    """The UTC time a revision id stands for (a 12-digit id is the start of its minute).

    :param revision_id: the id.
    """
    text = validate_revision_id(revision_id)
    return datetime.strptime(text, _FORMATS[len(text)]).replace(tzinfo=timezone.utc)


def sort_revision_ids(ids: Iterable[str]) -> list[str]:
    """Ids newest first, compared as times (so ``201612131954`` sorts before ``20161213195501``).

    Between two ids of the same time the longer (more precise) one sorts first.

    :param ids: revision ids.
    """
    return sorted(ids, key=lambda rid: (revision_time(rid), len(rid)), reverse=True)


@dataclass(frozen=True)
class Baseline:
    """What "newer" is measured against: an existing revision id, or a time.

    :param revision_id: newer means a strictly later time than this id's.
    :param time: newer means created after this time (at the ids' precision).
    :param inclusive: the time was taken just before the request that creates the revision (a
        publish's ``requested_at``, a PATCH's ``saved_at``), so a revision in that time's own second counts
        too: it can only have been created after the request, and ids carry no fraction of a second.
    """

    revision_id: str | None = None
    time: datetime | None = None
    inclusive: bool = False

    def __post_init__(self) -> None:
        if (self.revision_id is None) == (self.time is None):
            raise ValueError("a baseline is a revision id or a time, exactly one")
        if self.inclusive and self.time is None:
            raise ValueError("only a time baseline can include its own second")

    def to_string(self) -> str:
        """The JSON-serialisable form read back by :func:`parse_baseline` (for trigger kwargs)."""
        if self.revision_id is not None:
            return self.revision_id
        assert self.time is not None
        return f"{INCLUSIVE_PREFIX}{self.time.isoformat()}" if self.inclusive else self.time.isoformat()

    def describe(self) -> str:
        """What counts, in words, for log lines and messages (``"newer than 20261231120000"``)."""
        if self.revision_id is not None:
            return f"newer than {self.revision_id}"
        assert self.time is not None
        if self.inclusive:
            return f"at or after {self.time.replace(microsecond=0).isoformat()}"
        return f"newer than {self.time.isoformat()}"

    def is_newer(self, revision_id: str) -> bool:
        """Whether ``revision_id`` is newer than this baseline.

        Against a revision id: a strictly later time. Against a time: a 14-digit id must be later than
        the baseline (a revision in the baseline's own second, before or after it, cannot be told apart
        and is not counted, unless the baseline is ``inclusive``); a 12-digit id only knows its minute, so
        it counts from the baseline's minute on (a publish that lands a few seconds after the baseline is
        not missed). Pass a revision id as the baseline where the profile's ids are minute-precise and
        that matters.

        :param revision_id: a revision id.
        """
        when = revision_time(revision_id)
        if self.revision_id is not None:
            if revision_id == self.revision_id:
                return False
            return when > revision_time(self.revision_id)
        assert self.time is not None
        if len(revision_id) == 12:
            return when >= self.time.replace(second=0, microsecond=0)
        if self.inclusive:
            return when >= self.time.replace(microsecond=0)
        return when > self.time


INCLUSIVE_PREFIX = ">="
"""Before an ISO time in a baseline string: a revision in that time's own second counts too."""

BASELINE_KEYS = (
    "revision_id",
    "published_at",
    "publish_time",
    "requested_at",
    "saved_at",
    "time",
    "timestamp",
)
"""The keys a dict baseline (an upstream task's result) is read from, in this order."""

# Times taken just before the request that creates the revision: the revision's id is that second or later.
_BEFORE_REQUEST_KEYS = frozenset({"requested_at", "saved_at"})


def parse_baseline(value: object, field_name: str = "baseline") -> Baseline:
    """A baseline from a revision id, a ``datetime`` (naive means UTC), an ISO time string, or a dict (an
    upstream task's result) carrying one of them under one of :data:`BASELINE_KEYS`.

    ``requested_at`` (in :class:`~airflow_provider_tealium.operators.publish.TealiumPublishOperator`'s and
    :class:`~airflow_provider_tealium.sensors.publish.TealiumPublishSensor`'s results) and ``saved_at`` (in
    :class:`~airflow_provider_tealium.operators.profiles.TealiumPatchProfileOperator`'s) are taken just
    before the request, so the revision it creates counts even in that same second (an ``inclusive``
    baseline). A string ``">=<ISO time>"`` is such a baseline too (what :meth:`Baseline.to_string` writes).

    :param value: the baseline.
    :param field_name: the field to name in errors.
    """
    too_deep = depth_error(value, field_name)
    if too_deep is not None:
        raise too_deep
    if isinstance(value, dict):
        for key in BASELINE_KEYS:
            if value.get(key):
                found = parse_baseline(value[key], f"{field_name}.{key}")
                if key in _BEFORE_REQUEST_KEYS and found.time is not None:
                    return Baseline(time=found.time, inclusive=True)
                return found
        raise TealiumValidationError(
            field_name,
            "a dict baseline needs a 'revision_id', 'published_at', 'publish_time', 'requested_at' "
            "(a publish's result), 'saved_at' (a PATCH's result), 'time' or 'timestamp' key",
            value=sorted_names(value),
        )
    if isinstance(value, str) and value.strip().startswith(INCLUSIVE_PREFIX):
        found = parse_baseline(value.strip()[len(INCLUSIVE_PREFIX) :], field_name)
        if found.time is None:
            raise TealiumValidationError(
                field_name, f"'{INCLUSIVE_PREFIX}' must be followed by a time", value=value
            )
        return Baseline(time=found.time, inclusive=True)
    if isinstance(value, datetime):
        return Baseline(time=value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**14
    ):
        text = str(value).strip()
        if _REVISION_ID_RE.match(text):
            return Baseline(revision_id=validate_revision_id(text, field_name))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parse_baseline(moment, field_name)
    raise TealiumValidationError(
        field_name, "must be a revision id (YYYYMMDDHHMM[SS]) or a time (datetime or ISO 8601)", value=value
    )


def new_revision_ids(ids: Iterable[str], baseline: Baseline, seen: Iterable[str] = ()) -> list[str]:
    """The ids newer than ``baseline`` not yet examined, newest first: the only ones worth a details call.

    :param ids: the listed ids.
    :param baseline: what newer means.
    :param seen: ids already examined.
    """
    skip = set(seen)
    return [rid for rid in sort_revision_ids(ids) if rid not in skip and baseline.is_newer(rid)]


@dataclass(frozen=True)
class RevisionDetails:
    """One revision's details, as both APIs answer them.

    :param revision_id: the id (a UTC timestamp).
    :param account: the account.
    :param profile: the profile.
    :param name: the version's name.
    :param comment: the publish comment.
    :param created_by: the publishing user's email.
    :param time_created: Tealium's text of the time (``"Tue 2016.12.13 19:54 GMT"``).
    :param targets_published: the environments published to.
    :param checksums: target -> file name -> SHA-256 (``bundle.zip`` is the zip itself).
    """

    revision_id: str
    account: str
    profile: str
    name: str = ""
    comment: str = ""
    created_by: str = ""
    time_created: str = ""
    targets_published: list[str] = field(default_factory=list)
    checksums: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable, with the API's field names (for XCom)."""
        return asdict(self)

    def matches(self, target: str | None = None, pattern: str | None = None) -> bool:
        """Whether it went to ``target`` and its name or comment matches the regex ``pattern``.

        :param target: an environment that must be in ``targets_published``.
        :param pattern: a regular expression searched in the name and in the comment.
        """
        if target is not None and target not in self.targets_published:
            return False
        if pattern is not None:
            regex = re.compile(pattern)
            return bool(regex.search(self.name or "") or regex.search(self.comment or ""))
        return True


def validate_pattern(pattern: str | None, field_name: str = "match") -> str | None:
    """A regular expression that compiles, or ``None``.

    :param pattern: the expression.
    :param field_name: the field to name in errors.
    """
    if pattern is None or pattern == "":
        return None
    if not isinstance(pattern, str):
        raise TealiumValidationError(field_name, "must be a regular expression (a string)", value=pattern)
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise TealiumValidationError(
            field_name, f"is not a valid regular expression ({exc})", value=pattern
        ) from None
    return pattern


def _path(api: RevisionsApi, v1: str, v2: str, **parts: str) -> str:
    quoted = {
        k: name_segment(v, k) if k in ("account", "profile") else segment(v, k) for k, v in parts.items()
    }
    return (v1 if api is RevisionsApi.V1 else v2).format(**quoted)


def _family(api: RevisionsApi) -> TokenFamily:
    return TokenFamily.V1 if api is RevisionsApi.V1 else TokenFamily.V2


def list_revisions_request(api: RevisionsApi, account: str, profile: str) -> ApiRequest:
    """``GET`` the revision ids of a profile.

    :param api: which API family.
    :param account: the account.
    :param profile: the profile.
    """
    return ApiRequest(
        "GET",
        _path(api, V1_LIST_PATH, V2_LIST_PATH, account=account, profile=profile),
        _family(api),
        Host.API,
    )


def revision_details_request(api: RevisionsApi, account: str, profile: str, revision_id: str) -> ApiRequest:
    """``GET`` one revision's details.

    :param api: which API family.
    :param account: the account.
    :param profile: the profile.
    :param revision_id: the revision.
    """
    rid = validate_revision_id(revision_id)
    path = _path(api, V1_DETAILS_PATH, V2_DETAILS_PATH, account=account, profile=profile, revision_id=rid)
    return ApiRequest("GET", path, _family(api), Host.API)


def revision_bundle_request(
    api: RevisionsApi, account: str, profile: str, revision_id: str, target: str
) -> ApiRequest:
    """``GET`` the zip bundle of one revision for one target.

    :param api: which API family.
    :param account: the account.
    :param profile: the profile.
    :param revision_id: the revision.
    :param target: the environment (``prod``).
    """
    rid = validate_revision_id(revision_id)
    env = validate_target(target)
    path = _path(
        api, V1_BUNDLE_PATH, V2_BUNDLE_PATH, account=account, profile=profile, revision_id=rid, target=env
    )
    return ApiRequest(
        "GET",
        path,
        _family(api),
        Host.API,
        headers={"Accept": "application/zip, application/octet-stream"},
        raw=True,
        # Streamed and cut off at the cap: a bundle is read as hostile (see api/bundles.py).
        max_answer_bytes=DEFAULT_LIMITS.max_download_bytes,
    )


def _bad_answer(request: ApiRequest, what: str) -> TealiumApiError:
    return TealiumApiError(request.method, request.path, 200, f"unexpected answer: {what}")


def parse_revision_ids(request: ApiRequest, body: object) -> list[str]:
    """The ids of a list answer (a JSON array of strings), newest first by time.

    :param request: the list request (for errors).
    :param body: the parsed JSON answer.
    """
    if not isinstance(body, list) or not all(isinstance(item, (str, int)) for item in body):
        raise _bad_answer(request, "expected a JSON array of revision ids")
    try:
        return sort_revision_ids(str(item) for item in body)
    except TealiumValidationError as exc:
        raise _bad_answer(request, str(exc)) from None


def parse_revision_details(request: ApiRequest, body: object) -> RevisionDetails:
    """The details answer as :class:`RevisionDetails`.

    :param request: the details request (for errors).
    :param body: the parsed JSON answer.
    """
    if not isinstance(body, dict):
        raise _bad_answer(request, "expected a JSON object of revision details")
    try:
        revision_id = validate_revision_id(body.get("revision_id"))
    except TealiumValidationError as exc:
        raise _bad_answer(request, str(exc)) from None
    targets = body.get("targets_published") or []
    checksums = body.get("checksums") or {}
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise _bad_answer(request, "targets_published must be an array of strings")
    if not isinstance(checksums, dict) or not all(
        isinstance(v, dict) and all(isinstance(s, str) for s in v.values()) for v in checksums.values()
    ):
        raise _bad_answer(request, "checksums must map each target to {file name: SHA-256}")
    return RevisionDetails(
        revision_id=revision_id,
        account=str(body.get("account") or ""),
        profile=str(body.get("profile") or ""),
        name=str(body.get("name") or ""),
        comment=str(body.get("comment") or ""),
        created_by=str(body.get("created_by") or ""),
        time_created=str(body.get("time_created") or ""),
        targets_published=list(targets),
        checksums={str(t): {str(f): s.lower() for f, s in sums.items()} for t, sums in checksums.items()},
    )


def explain_error(exc: TealiumApiError) -> TealiumApiError:
    """The same error, with what Tealium's revision ``returnCode`` means and what to do about it.

    :param exc: a final API error of a revisions call.
    """
    try:
        code = int(exc.return_code) if exc.return_code is not None else None
    except (TypeError, ValueError):
        code = None
    if code not in RETURN_CODE_MESSAGES:
        return exc
    return type(exc)(
        exc.method,
        exc.path,
        exc.status,
        exc.api_message,
        return_code=exc.return_code,
        attempts=exc.attempts,
        hint=RETURN_CODE_MESSAGES[code],
    )
