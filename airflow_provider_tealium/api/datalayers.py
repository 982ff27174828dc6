"""Hosted Data Layer (DLE) v2: paths, validation, request builders and parsers (pure: no I/O).

The rules here are the documented causes of the API's 400 answer (see the ``hosted-data-layer-api``
seed and API-NOTES "Hosted Data Layer v2"). Operators check them before sending anything and the
emulator answers 400 by the same functions, so a rule is written once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any
from urllib.parse import unquote

import pendulum

from airflow_provider_tealium.api.checks import depth_error
from airflow_provider_tealium.api.defaults import DLE_REQUESTS_PER_SECOND
from airflow_provider_tealium.api.paths import name_segment, segment, validate_name
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumValidationError, TealiumValidationErrors, shown

DATALAYERS_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/datalayers"
DATALAYER_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/datalayers/{datalayer_id}"
FAILED_UPLOADS_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/failed-uploads"
CDN_URL = "https://tags.tiqcdn.com/dle/{account}/{profile}/{datalayer_id}.{extension}"

FILE_TYPE_PARAM = "file-type"
CONTINUATION_PARAM = "continuationToken"
START_DATE_PARAM = "start-date"
END_DATE_PARAM = "end-date"

MAX_COMBINED_LENGTH = 250
# "1MB" is not defined further by Tealium; the stricter reading (10^6 bytes) never lets through a body
# that the API might refuse.
MAX_BODY_BYTES = 1_000_000
RESTRICTED_CHARACTERS = "/:?#[]@!$&'()\\+,;=%.\""
PAGE_SIZE = 1000
MAX_FAILED_UPLOADS = 5000
MAX_REQUESTS_PER_SECOND = 100.0
DEFAULT_REQUESTS_PER_SECOND = DLE_REQUESTS_PER_SECOND
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

INVALID_REQUEST_MESSAGE = "Invalid request submission. Please check supplied parameters or request body."
NO_PERMISSION_MESSAGE = (
    "although the user is authenticated, the request is denied because of a lack of proper permissions"
)
NOT_FOUND_MESSAGE = "Could not locate data layer identified by {datalayer_id}"


class FileType(str, Enum):
    """The ``file-type`` query parameter; absent means a JavaScript data layer object."""

    JAVASCRIPT = "javascript"
    JSON = "json"

    @property
    def extension(self) -> str:
        """The published file's extension."""
        return "json" if self is FileType.JSON else "js"


class UploadMode(str, Enum):
    """How an upload is sent: ``create`` (POST), ``update`` (PUT), ``upsert`` (PUT, POST if missing)."""

    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"


def parse_file_type(value: FileType | str | None) -> FileType | None:
    """Read a file type argument: ``None``/``""`` (absent), ``"json"`` or ``"javascript"``.

    :param value: the argument.
    :raises TealiumValidationError: for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, FileType):
        return value
    try:
        return FileType(str(value).lower())
    except ValueError:
        raise TealiumValidationError(
            "file_type", "must be absent, 'json' or 'javascript'", value=value
        ) from None


def parse_mode(value: UploadMode | str) -> UploadMode:
    """Read an upload mode argument.

    :param value: ``create``, ``update`` or ``upsert``.
    """
    try:
        return UploadMode(str(value.value if isinstance(value, UploadMode) else value).lower())
    except ValueError:
        raise TealiumValidationError("mode", "must be 'create', 'update' or 'upsert'", value=value) from None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def validate_rate(requests_per_second: float) -> float:
    """A client-side request rate: positive and never above Tealium's 100 requests per second.

    :param requests_per_second: the rate.
    """
    if (
        isinstance(requests_per_second, bool)
        or not isinstance(requests_per_second, (int, float))
        or not _finite(requests_per_second)
        or requests_per_second <= 0
    ):
        raise TealiumValidationError("requests_per_second", "must be a number > 0", value=requests_per_second)
    if requests_per_second > MAX_REQUESTS_PER_SECOND:
        raise TealiumValidationError(
            "requests_per_second",
            f"must be at most {MAX_REQUESTS_PER_SECOND:g} (Tealium's documented maximum)",
            value=requests_per_second,
        )
    return float(requests_per_second)


ASSUMED_ROUND_TRIP = 0.25
"""Seconds an upload may take to answer while the default worker count still keeps the rate."""


def default_workers(requests_per_second: float) -> int:
    """Enough concurrent requests to keep ``requests_per_second`` with answers up to 250 ms.

    A fixed 8 capped a bulk upload at 8 / round trip: 80 requests/s at 100 ms, 40 at 200 ms, whatever
    rate was asked for. The limiter, not the worker count, is what keeps the rate under Tealium's.

    :param requests_per_second: the client-side rate.
    """
    return max(8, math.ceil(requests_per_second * ASSUMED_ROUND_TRIP))


def item_field(datalayer_id: object, part: str) -> str:
    """The dotted field name of one part of one data layer: ``datalayers['sku-1'].data.a``.

    :param datalayer_id: the data layer id.
    :param part: ``datalayer_id`` or ``data`` plus a path.
    """
    # An id of the documented length is shown whole; anything else (not a string, far too long) bounded.
    fits = isinstance(datalayer_id, str) and len(datalayer_id) <= MAX_COMBINED_LENGTH + 10
    return f"datalayers[{repr(datalayer_id) if fits else shown(datalayer_id)}].{part}"


def datalayer_id_errors(account: str, profile: str, datalayer_id: object) -> list[TealiumValidationError]:
    """Every documented rule ``datalayer_id`` breaks (empty, whitespace, restricted characters, length).

    :param account: the account (counts towards the 250 characters).
    :param profile: the profile (counts too).
    :param datalayer_id: the id.
    """
    where = item_field(datalayer_id, "datalayer_id")
    for name, value in (("account", account), ("profile", profile)):
        try:
            validate_name(value, name)
        except TealiumValidationError as exc:
            return [exc]
    if not isinstance(datalayer_id, str):
        return [TealiumValidationError(where, "must be a string", value=datalayer_id)]
    if not datalayer_id:
        return [TealiumValidationError(where, "must not be empty")]
    errors = []
    if any(ch.isspace() for ch in datalayer_id):
        errors.append(TealiumValidationError(where, "must not contain whitespace"))
    bad = sorted({ch for ch in datalayer_id if ch in RESTRICTED_CHARACTERS})
    if bad:
        errors.append(
            TealiumValidationError(
                where,
                f"must not contain any of {' '.join(RESTRICTED_CHARACTERS)} (found {' '.join(bad)})",
            )
        )
    total = len(account) + len(profile) + len(datalayer_id)
    if total > MAX_COMBINED_LENGTH:
        errors.append(
            TealiumValidationError(
                where,
                f"account + profile + datalayer_id must be at most {MAX_COMBINED_LENGTH} characters "
                f"(got {total})",
            )
        )
    return errors


def _describe(value: object) -> str:
    return type(value).__name__


def _data_errors(datalayer_id: object, value: Any, path: str, errors: list[TealiumValidationError]) -> None:
    """Walk ``value`` collecting key and serialisability errors, each at its dotted path."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if not isinstance(key, str):
                errors.append(
                    TealiumValidationError(
                        item_field(datalayer_id, path),
                        f"keys must be strings (got a {_describe(key)} key)",
                        value=key,
                    )
                )
                continue
            where = f"{path}.{key}"
            if "." in key:
                errors.append(
                    TealiumValidationError(item_field(datalayer_id, where), "keys must not contain a period")
                )
            _data_errors(datalayer_id, sub, where, errors)
    elif isinstance(value, (list, tuple)):
        for index, sub in enumerate(value):
            _data_errors(datalayer_id, sub, f"{path}[{index}]", errors)
    elif isinstance(value, float) and not math.isfinite(value):
        errors.append(
            TealiumValidationError(
                item_field(datalayer_id, path), "must be JSON-serialisable (NaN and infinity are not)"
            )
        )
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        errors.append(
            TealiumValidationError(
                item_field(datalayer_id, path), f"must be JSON-serialisable (got a {_describe(value)})"
            )
        )


def serialise(data: Mapping[str, Any]) -> bytes:
    """The body exactly as sent: compact JSON, UTF-8 (so its size is the size checked).

    :param data: a validated data layer.
    """
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def data_errors(datalayer_id: object, data: Any) -> tuple[list[TealiumValidationError], bytes | None]:
    """Every documented rule ``data`` breaks, and its serialised body when it breaks none.

    Rules: a JSON object, not empty, keys without a period at any depth, JSON-serialisable values,
    at most :data:`MAX_BODY_BYTES` once serialised.

    :param datalayer_id: the id (for the messages).
    :param data: the data layer.
    """
    where = item_field(datalayer_id, "data")
    if data is None or (isinstance(data, (Mapping, list, str, bytes)) and len(data) == 0):
        return [TealiumValidationError(where, "must not be empty")], None
    if not isinstance(data, Mapping):
        return [TealiumValidationError(where, f"must be a JSON object (got a {_describe(data)})")], None
    too_deep = depth_error(data, where)
    if too_deep is not None:
        # Checked first: the walk below and the JSON encoding recurse.
        return [too_deep], None
    errors: list[TealiumValidationError] = []
    _data_errors(datalayer_id, data, "data", errors)
    if errors:
        return errors, None
    try:
        body = serialise(data)
    except ValueError as exc:  # an int of more than 4300 digits, a lone surrogate in a string
        return [TealiumValidationError(where, f"must be JSON-serialisable ({exc})"[:200])], None
    if len(body) > MAX_BODY_BYTES:
        return [
            TealiumValidationError(
                where, f"must be at most {MAX_BODY_BYTES} bytes once serialised (got {len(body)})"
            )
        ], None
    return [], body


@dataclass(frozen=True)
class PreparedUpload:
    """One validated data layer, serialised once.

    :param datalayer_id: the id.
    :param body: the JSON body as sent.
    """

    datalayer_id: str
    body: bytes = field(repr=False)


def upload_errors(
    account: str, profile: str, datalayer_id: object, data: Any
) -> tuple[list[TealiumValidationError], PreparedUpload | None]:
    """Every rule one upload breaks, or the prepared upload.

    :param account: the account.
    :param profile: the profile.
    :param datalayer_id: the id.
    :param data: the data layer.
    """
    errors = datalayer_id_errors(account, profile, datalayer_id)
    body_errors, body = data_errors(datalayer_id, data)
    errors.extend(body_errors)
    if errors or body is None:
        return errors, None
    assert isinstance(datalayer_id, str)
    return [], PreparedUpload(datalayer_id, body)


def raise_errors(errors: list[TealiumValidationError]) -> None:
    """Raise nothing, the one error, or all of them together.

    :param errors: the failures found.
    """
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise TealiumValidationErrors(errors)


def prepare_upload(account: str, profile: str, datalayer_id: object, data: Any) -> PreparedUpload:
    """Validate one upload and serialise it.

    :param account: the account.
    :param profile: the profile.
    :param datalayer_id: the id.
    :param data: the data layer.
    :raises TealiumValidationError: naming the id and the rule (all broken rules at once).
    """
    errors, prepared = upload_errors(account, profile, datalayer_id, data)
    raise_errors(errors)
    assert prepared is not None
    return prepared


def validate_datalayer_id(account: str, profile: str, datalayer_id: object) -> str:
    """Check an id for calls without a body (GET, DELETE).

    :param account: the account.
    :param profile: the profile.
    :param datalayer_id: the id.
    """
    raise_errors(datalayer_id_errors(account, profile, datalayer_id))
    assert isinstance(datalayer_id, str)
    return datalayer_id


# -- request builders -----------------------------------------------------------------------------------


def _file_type_params(file_type: FileType | None) -> list[tuple[str, str]]:
    return [] if file_type is None else [(FILE_TYPE_PARAM, file_type.value)]


def _item_path(account: str, profile: str, datalayer_id: str) -> str:
    return DATALAYER_PATH.format(
        account=name_segment(account, "account"),
        profile=name_segment(profile, "profile"),
        datalayer_id=segment(datalayer_id, "datalayer_id"),
    )


def upload_request(
    account: str,
    profile: str,
    upload: PreparedUpload,
    *,
    file_type: FileType | None = None,
    update: bool = False,
) -> ApiRequest:
    """``POST`` (upload) or ``PUT`` (update) one data layer.

    Both are idempotent: sending the same content twice leaves the same file, so the transport may
    resend them after a lost answer. 200 and 201 (the legacy answer) both mean accepted.

    :param account: the account.
    :param profile: the profile.
    :param upload: the validated body (:func:`prepare_upload`).
    :param file_type: ``None`` (JavaScript object), JSON or JavaScript.
    :param update: ``PUT`` instead of ``POST``.
    """
    return ApiRequest(
        "PUT" if update else "POST",
        _item_path(account, profile, upload.datalayer_id),
        TokenFamily.V2,
        Host.API,
        params=_file_type_params(file_type),
        content=upload.body,
        headers={"Content-Type": "application/json"},
        ok_statuses=frozenset({200, 201}),
    )


def delete_request(
    account: str, profile: str, datalayer_id: str, *, file_type: FileType | None = None
) -> ApiRequest:
    """``DELETE`` one data layer. 404 is an answer (already absent), for the caller to judge.

    :param account: the account.
    :param profile: the profile.
    :param datalayer_id: the id.
    :param file_type: the file type.
    """
    validate_datalayer_id(account, profile, datalayer_id)
    return ApiRequest(
        "DELETE",
        _item_path(account, profile, datalayer_id),
        TokenFamily.V2,
        Host.API,
        params=_file_type_params(file_type),
        ok_statuses=frozenset({200, 204, 404}),
    )


def metadata_request(
    account: str, profile: str, datalayer_id: str, *, file_type: FileType | None = None
) -> ApiRequest:
    """``GET`` one file's metadata; 404 (not landed yet, or absent) is an answer.

    :param account: the account.
    :param profile: the profile.
    :param datalayer_id: the id.
    :param file_type: the file type.
    """
    validate_datalayer_id(account, profile, datalayer_id)
    return ApiRequest(
        "GET",
        _item_path(account, profile, datalayer_id),
        TokenFamily.V2,
        Host.API,
        params=_file_type_params(file_type),
        ok_statuses=frozenset({200, 404}),
    )


def list_request(account: str, profile: str, continuation_token: str | None = None) -> ApiRequest:
    """``GET`` one page (up to 1,000) of the profile's data layers.

    Tealium hands the token out already percent-encoded (``...%2BZd3...``) and expects it back as is;
    it is decoded here so the HTTP client's own encoding restores exactly the original.

    :param account: the account.
    :param profile: the profile.
    :param continuation_token: the previous page's ``continuationToken``.
    """
    params = [] if not continuation_token else [(CONTINUATION_PARAM, unquote(continuation_token))]
    return ApiRequest(
        "GET",
        DATALAYERS_PATH.format(
            account=name_segment(account, "account"), profile=name_segment(profile, "profile")
        ),
        TokenFamily.V2,
        Host.API,
        params=params,
    )


def to_datetime(value: datetime | str) -> datetime:
    """An aware datetime from a datetime (naive means UTC), a pendulum value or an ISO 8601 string.

    :param value: the value.
    """
    if isinstance(value, str):
        try:
            parsed = pendulum.parse(value)
        except Exception:
            raise TealiumValidationError("date", "must be an ISO 8601 date-time", value=value) from None
        if not isinstance(parsed, datetime):
            raise TealiumValidationError("date", "must be an ISO 8601 date-time", value=value)
        value = parsed
    if not isinstance(value, datetime):
        raise TealiumValidationError("date", "must be a datetime or an ISO 8601 string", value=value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def format_date(value: datetime | str) -> str:
    """The documented ``YYYY-MM-DDTHH:MM:SS±HHMM`` form (``2017-03-31T13:45:33-0700``).

    :param value: a datetime (naive means UTC), pendulum value or ISO string.
    """
    return to_datetime(value).strftime(DATE_FORMAT)


def failed_uploads_request(
    account: str,
    profile: str,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
) -> ApiRequest:
    """``GET`` failed uploads between ``start`` and ``end`` (both inclusive, both optional).

    :param account: the account.
    :param profile: the profile.
    :param start: earliest date.
    :param end: latest date.
    """
    params = []
    if start is not None:
        params.append((START_DATE_PARAM, format_date(start)))
    if end is not None:
        params.append((END_DATE_PARAM, format_date(end)))
    return ApiRequest(
        "GET",
        FAILED_UPLOADS_PATH.format(
            account=name_segment(account, "account"), profile=name_segment(profile, "profile")
        ),
        TokenFamily.V2,
        Host.API,
        params=params,
    )


def cdn_url(account: str, profile: str, datalayer_id: str, file_type: FileType | str | None = None) -> str:
    """Where Tealium publishes a data layer.

    :param account: the account.
    :param profile: the profile.
    :param datalayer_id: the id.
    :param file_type: ``.json`` for JSON files, ``.js`` otherwise.
    """
    kind = parse_file_type(file_type)
    extension = kind.extension if kind is not None else "js"
    return CDN_URL.format(account=account, profile=profile, datalayer_id=datalayer_id, extension=extension)


# -- parsers ----------------------------------------------------------------------------------------------


def parse_date(value: str) -> datetime:
    """Read Tealium's ``2017-04-07T02:41:24+0000`` (also accepting ISO 8601 ``+00:00``/``Z``).

    :param value: the string.
    """
    try:
        return datetime.strptime(value, DATE_FORMAT)
    except (TypeError, ValueError):
        return to_datetime(value)


def split_file(path: str) -> tuple[str, FileType]:
    """``dle/acct/main/sku-1.json`` -> (``sku-1``, JSON); ``.js`` -> JavaScript.

    :param path: the ``file`` of a listing or failed upload (with or without a leading slash).
    """
    name = path.rsplit("/", 1)[-1]
    stem, _, extension = name.rpartition(".")
    if extension == "json":
        return stem, FileType.JSON
    return (stem if stem else name), FileType.JAVASCRIPT


@dataclass(frozen=True)
class DataLayerFile:
    """A file's metadata (``GET`` one, or one ``fileStatuses`` entry).

    :param file: Tealium's path, ``dle/{account}/{profile}/{id}.js``.
    :param datalayer_id: the id, from the file name.
    :param file_type: JSON for ``.json``, JavaScript for ``.js``.
    :param last_modified: when the file last changed (second precision).
    :param size: its size in bytes.
    """

    file: str
    datalayer_id: str
    file_type: FileType
    last_modified: datetime
    size: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for XCom and trigger events)."""
        return {
            "file": self.file,
            "datalayer_id": self.datalayer_id,
            "file_type": self.file_type.value,
            "last_modified": self.last_modified.isoformat(),
            "size": self.size,
        }


def parse_file(body: Mapping[str, Any]) -> DataLayerFile:
    """Read one file's metadata.

    :param body: ``{"file": ..., "lastModified": ..., "size": ...}``.
    """
    path = str(body["file"])
    datalayer_id, file_type = split_file(path)
    return DataLayerFile(path, datalayer_id, file_type, parse_date(body["lastModified"]), int(body["size"]))


@dataclass(frozen=True)
class DataLayerPage:
    """One page of the listing.

    :param files: the page's files.
    :param continuation_token: the token for the next page, when truncated.
    """

    files: list[DataLayerFile]
    continuation_token: str | None

    @property
    def is_truncated(self) -> bool:
        """Whether another page follows."""
        return self.continuation_token is not None


def parse_page(body: Mapping[str, Any]) -> DataLayerPage:
    """Read a listing page; ``isTruncated`` false (or no token) ends the listing.

    :param body: ``{"isTruncated": ..., "continuationToken": ..., "fileStatuses": [...]}``.
    """
    files = [parse_file(entry) for entry in body.get("fileStatuses") or []]
    token = body.get("continuationToken") if body.get("isTruncated") else None
    return DataLayerPage(files, token or None)


@dataclass(frozen=True)
class FailedUpload:
    """One failed upload.

    :param file: Tealium's path, ``/dle/{account}/{profile}/{id}.js``.
    :param datalayer_id: the id.
    :param file_type: from the extension.
    :param date: when it failed.
    """

    file: str
    datalayer_id: str
    file_type: FileType
    date: datetime


def parse_failed_uploads(body: Mapping[str, Any]) -> list[FailedUpload]:
    """Read the failed-uploads answer.

    :param body: ``{"account", "profile", "count", "failedUploads": [{"file", "date"}]}``.
    """
    result = []
    for entry in body.get("failedUploads") or []:
        path = str(entry["file"])
        datalayer_id, file_type = split_file(path)
        result.append(FailedUpload(path, datalayer_id, file_type, parse_date(entry["date"])))
    return result


# -- waiting for uploads to land (shared by the sensor and its trigger) ---------------------------------


def floor_second(value: datetime) -> datetime:
    """``value`` without its fraction of a second.

    Tealium reports ``lastModified`` to the second, so a file written 0.3 s after ``since`` may show a
    ``lastModified`` 0.7 s before it; comparing whole seconds avoids waiting forever for it.

    :param value: the time.
    """
    return value.replace(microsecond=0)


class PollStrategy(str, Enum):
    """How one poll reads the files' metadata."""

    PER_ID = "per_id"
    LIST = "list"


def choose_poll_strategy(pending: int, list_pages: int | None, per_id_threshold: int) -> PollStrategy:
    """Pick the cheaper way to read ``pending`` files' metadata.

    ``GET`` per id costs one request per pending id; the listing costs one request per 1,000 files in
    the profile, however many ids are awaited. So per-id wins for a handful of ids (and for the short
    tail of a bulk wait, as ids land and drop out), the listing for many. Before the first listing the
    profile's size is unknown; ``per_id_threshold`` is the guess until then.

    :param pending: ids not landed yet.
    :param list_pages: how many pages the last listing took, if one was made.
    :param per_id_threshold: at most this many pending ids always use per-id.
    """
    if pending <= max(per_id_threshold, list_pages or 0):
        return PollStrategy.PER_ID
    return PollStrategy.LIST


@dataclass
class LandingCheck:
    """What one poll found.

    :param landed: ids whose file is there with ``lastModified >= since`` (and the expected size).
    :param pending: ids still awaited, with why.
    :param failed: ids found in failed-uploads after ``since``, with the failure date.
    """

    landed: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def check_landing(
    ids: Iterable[str],
    files: Mapping[str, DataLayerFile | None],
    since: datetime | None,
    expected_sizes: Mapping[str, int] | None = None,
    failed_uploads: Iterable[FailedUpload] = (),
    file_type: FileType | None = None,
) -> LandingCheck:
    """Judge each id from the metadata one poll read.

    :param ids: the ids awaited.
    :param files: id -> its metadata (``None`` or absent: not there).
    :param since: the earliest acceptable ``lastModified`` (compared to the second).
    :param expected_sizes: id -> the size it must have, where known.
    :param failed_uploads: failed uploads of the profile (those before ``since`` are ignored).
    :param file_type: which kind of file is awaited (JSON vs JavaScript).
    """
    wanted = FileType.JSON if file_type is FileType.JSON else FileType.JAVASCRIPT
    threshold = floor_second(since) if since is not None else None
    failures = {
        f.datalayer_id: f.date.strftime(DATE_FORMAT)
        for f in failed_uploads
        if f.file_type is wanted and (threshold is None or f.date >= threshold)
    }
    sizes = expected_sizes or {}
    result = LandingCheck()
    for datalayer_id in ids:
        meta = files.get(datalayer_id)
        if datalayer_id in failures:
            result.failed[datalayer_id] = failures[datalayer_id]
        elif meta is None:
            result.pending[datalayer_id] = "not found yet"
        elif threshold is not None and meta.last_modified < threshold:
            result.pending[datalayer_id] = (
                f"lastModified {meta.last_modified.strftime(DATE_FORMAT)} is before {threshold.strftime(DATE_FORMAT)}"
            )
        elif datalayer_id in sizes and meta.size != sizes[datalayer_id]:
            result.pending[datalayer_id] = f"size {meta.size}, expected {sizes[datalayer_id]}"
        else:
            result.landed[datalayer_id] = meta.to_dict()
    return result


def failed_message(failed: Mapping[str, str]) -> str:
    """The fail-fast message naming the ids found in failed-uploads.

    :param failed: id -> failure date.
    """
    shown = ", ".join(f"{k} ({v})" for k, v in list(failed.items())[:20])
    more = f" and {len(failed) - 20} more" if len(failed) > 20 else ""
    return (
        f"{len(failed)} data layer upload(s) failed according to Tealium's failed-uploads: {shown}{more}. "
        "Upload them again."
    )
