"""Hosted Data Layer request builders (pure: each returns an :class:`ApiRequest`)."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote

import pendulum

from airflow_provider_tealium.api.datalayers.options import FileType, parse_file_type
from airflow_provider_tealium.api.datalayers.validate import PreparedUpload, validate_datalayer_id
from airflow_provider_tealium.api.datalayers.wire import (
    CDN_URL,
    CONTINUATION_PARAM,
    DATALAYER_PATH,
    DATALAYERS_PATH,
    DATE_FORMAT,
    END_DATE_PARAM,
    FAILED_UPLOADS_PATH,
    FILE_TYPE_PARAM,
    START_DATE_PARAM,
)
from airflow_provider_tealium.api.paths import name_segment, segment
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumValidationError


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
