"""What the Hosted Data Layer API refuses, written from its documents alone (never from the client).

The seed "Hosted data layer API endpoints" answers every one of these with 400 ``{"returnCode": 1400,
"message": "Invalid request submission. Please check supplied parameters or request body."}``:
the JSON key contains a period; account + profile + datalayer_id exceed 250 characters; the
datalayer_id contains restricted characters; the request body is empty; bad or invalid JSON; JSON data
exceeds 1MB; the file-type parameter holds a value other than "json" or "javascript". API-NOTES lists the
restricted characters: whitespace and ``/ : ? # [ ] @ ! $ & ' ( ) \\ + , ; = % . "``.

Each check returns the problems it finds as ``"field: rule"`` strings; the emulator appends them to
Tealium's message, which says only "invalid request", to help whoever reads the answer.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error

INVALID_REQUEST_MESSAGE = "Invalid request submission. Please check supplied parameters or request body."
NO_PERMISSION_MESSAGE = (
    "although the user is authenticated, the request is denied because of a lack of proper permissions"
)
NOT_FOUND_MESSAGE = "Could not locate data layer identified by {datalayer_id}"

RESTRICTED_CHARACTERS = "/:?#[]@!$&'()\\+,;=%.\""
MAX_COMBINED_LENGTH = 250
MAX_BODY_BYTES = 1_000_000
""""1MB": the stricter reading (10^6 bytes), so a body the emulator takes is one Tealium takes."""
FILE_TYPES = {"json": "json", "javascript": "js"}
"""The documented ``file-type`` values and the extension each publishes (absent: a JavaScript object)."""


def datalayer_id_problems(account: str, profile: str, datalayer_id: str) -> list[str]:
    """What is wrong with a data layer id in a URL.

    :param account: the account (counts towards the 250 characters).
    :param profile: the profile (counts too).
    :param datalayer_id: the id, as decoded from the path.
    """
    if not datalayer_id:
        return ["datalayer_id: must not be empty"]
    problems = []
    if any(ch.isspace() for ch in datalayer_id):
        problems.append("datalayer_id: must not contain whitespace")
    found = sorted({ch for ch in datalayer_id if ch in RESTRICTED_CHARACTERS})
    if found:
        problems.append(
            f"datalayer_id: must not contain any of {' '.join(RESTRICTED_CHARACTERS)} (found {' '.join(found)})"
        )
    total = len(account) + len(profile) + len(datalayer_id)
    if total > MAX_COMBINED_LENGTH:
        problems.append(
            f"datalayer_id: account + profile + datalayer_id must be at most {MAX_COMBINED_LENGTH} "
            f"characters (got {total})"
        )
    return problems


def file_type_problems(value: str | None) -> list[str]:
    """What is wrong with a ``file-type`` query parameter (absent is fine).

    :param value: the parameter, ``None`` when absent.
    """
    if value is None or value in FILE_TYPES:
        return []
    return [f"file_type: must be absent, 'json' or 'javascript' (got {value[:40]!r})"]


def extension(file_type: str | None) -> str:
    """The extension a valid ``file-type`` publishes: ``json`` or ``js``.

    :param file_type: the parameter, ``None`` when absent.
    """
    return "js" if file_type is None else FILE_TYPES[file_type]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def body_problems(raw: bytes) -> list[str]:
    """What is wrong with an upload body.

    :param raw: the body as received.
    """
    if not raw.strip():
        return ["body: must not be empty"]
    if len(raw) > MAX_BODY_BYTES:
        return [f"body: must be at most {MAX_BODY_BYTES} bytes (got {len(raw)} bytes)"]
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return ["body: must be valid JSON"]
    if not isinstance(data, dict):
        return [f"body: must be a JSON object (got a JSON {type(data).__name__})"]
    if not data:
        # Tealium's "request body is empty": an empty object holds nothing to publish either.
        return ["body: must not be empty"]
    return [f"{path}: keys must not contain a period" for path in _keys_with_a_period(data)]


def _keys_with_a_period(data: dict[str, Any]) -> list[str]:
    """Dotted paths of every key holding a period, at any depth (walked without recursion)."""
    found = []
    pending: list[tuple[str, Any]] = [("data", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, sub in value.items():
                where = f"{path}.{key}"
                if "." in key:
                    found.append(where)
                pending.append((where, sub))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", sub) for i, sub in enumerate(value))
    return sorted(found)


def invalid_request(problems: list[str] | None = None) -> EmulatorHTTPError:
    """The documented 400 ``1400``, with the problems found appended (Tealium's says only "invalid").

    :param problems: ``"field: rule"`` strings.
    """
    detail = f" ({'; '.join(problems)})" if problems else ""
    return tealium_error(400, 1400, INVALID_REQUEST_MESSAGE + detail)


def not_found(datalayer_id: str) -> EmulatorHTTPError:
    """The documented 404 ``1404`` for an unknown id.

    :param datalayer_id: the id.
    """
    return tealium_error(404, 1404, NOT_FOUND_MESSAGE.format(datalayer_id=datalayer_id))
