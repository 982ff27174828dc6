"""Reading error answers: Tealium's ``returnCode``/``message`` and IQM's ``errorObjects``."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_tealium.api.request import ApiRequest, ApiResponse
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError

_MAX_MESSAGE = 500


def error_details(body: Any) -> list[dict[str, Any]]:
    """IQM's ``errorObjects`` as ``[{"error", "reason", "field"}]`` (absent keys ``None``); else ``[]``.

    :param body: a parsed error answer.
    """
    objects = body.get("errorObjects") if isinstance(body, dict) else None
    if not isinstance(objects, list):
        return []
    return [
        {"error": obj.get("error"), "reason": obj.get("reason"), "field": obj.get("field")}
        for obj in objects
        if isinstance(obj, dict)
    ]


def read_error(body: Any) -> tuple[int | str | None, str, list[dict[str, Any]]] | None:
    """``(code, message, details)`` of a parsed error answer; ``None`` when it is no known shape.

    For IQM the code is the first error's text (IQM has no codes) and the message lists every error
    with its field and reason.

    :param body: the parsed JSON answer.
    """
    if not isinstance(body, dict):
        return None
    details = error_details(body)
    if details:
        parts = []
        for obj in details:
            piece = str(obj["error"] or "")
            if obj["field"]:
                piece = f"{piece} (field {obj['field']})".lstrip()
            if obj["reason"]:
                piece = f"{piece}: {obj['reason']}" if piece else str(obj["reason"])
            parts.append(piece)
        return details[0]["error"], "; ".join(parts)[:_MAX_MESSAGE], details
    code = body.get("returnCode")
    message = body.get("message") or body.get("error") or body.get("detail")
    if message is not None or code is not None:
        return code, str(message or "")[:_MAX_MESSAGE], []
    return None


def parse_error(content: bytes) -> tuple[int | str | None, str, list[dict[str, Any]]]:
    """Pull ``(code, message, details)`` out of an error answer of any of the documented shapes.

    :param content: the raw body.
    """
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return None, "(empty answer)", []
    try:
        body: Any = json.loads(text)
    except ValueError:
        return None, text[:_MAX_MESSAGE], []
    return read_error(body) or (None, text[:_MAX_MESSAGE], [])


def parse_error_body(content: bytes) -> tuple[int | str | None, str]:
    """Pull ``(code, message)`` out of an error answer of any of the documented shapes.

    :param content: the raw body.
    """
    code, message, _ = parse_error(content)
    return code, message


def error_from_response(
    request: ApiRequest, response: ApiResponse, *, attempts: int = 1, hint: str | None = None
) -> TealiumApiError:
    """Build the provider's exception for a final error answer.

    :param request: what was sent (only method and path are reported).
    :param response: what came back.
    :param attempts: how many times it was sent.
    :param hint: a sentence telling the user what to do, when we know.
    """
    code, message, details = parse_error(response.content)
    cls = TealiumAuthError if response.status == 401 else TealiumApiError
    return cls(
        request.method,
        request.path,
        response.status,
        message,
        return_code=code,
        attempts=attempts,
        hint=hint,
        details=details,
    )
