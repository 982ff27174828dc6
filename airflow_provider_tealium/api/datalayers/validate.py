"""The documented rules of one upload (id and body), checked before anything is sent."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_tealium.api.checks import depth_error
from airflow_provider_tealium.api.datalayers.wire import (
    MAX_BODY_BYTES,
    MAX_COMBINED_LENGTH,
    RESTRICTED_CHARACTERS,
)
from airflow_provider_tealium.api.paths import validate_name
from airflow_provider_tealium.exceptions import TealiumValidationError, TealiumValidationErrors, shown


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
