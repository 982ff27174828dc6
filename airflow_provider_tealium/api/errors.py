"""Reading error answers: Tealium's ``returnCode``/``message`` and IQM's ``errorObjects``."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_tealium.api.request import ApiRequest, ApiResponse
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError

_MAX_MESSAGE = 500


def parse_error_body(content: bytes) -> tuple[int | str | None, str]:
    """Pull ``(code, message)`` out of an error answer of any of the documented shapes.

    :param content: the raw body.
    """
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return None, "(empty answer)"
    try:
        body: Any = json.loads(text)
    except ValueError:
        return None, text[:_MAX_MESSAGE]
    if isinstance(body, dict):
        objects = body.get("errorObjects")
        if isinstance(objects, list) and objects:
            parts = []
            for obj in objects:
                if not isinstance(obj, dict):
                    continue
                piece = str(obj.get("error") or "")
                if obj.get("field"):
                    piece += f" (field {obj['field']})"
                if obj.get("reason"):
                    piece += f": {obj['reason']}"
                parts.append(piece)
            first = objects[0] if isinstance(objects[0], dict) else {}
            return first.get("error"), "; ".join(parts)[:_MAX_MESSAGE]
        code = body.get("returnCode")
        message = body.get("message") or body.get("error") or body.get("detail")
        if message is not None or code is not None:
            return code, str(message or "")[:_MAX_MESSAGE]
    return None, text[:_MAX_MESSAGE]


def error_from_response(
    request: ApiRequest, response: ApiResponse, *, attempts: int = 1, hint: str | None = None
) -> TealiumApiError:
    """Build the provider's exception for a final error answer.

    :param request: what was sent (only method and path are reported).
    :param response: what came back.
    :param attempts: how many times it was sent.
    :param hint: a sentence telling the user what to do, when we know.
    """
    code, message = parse_error_body(response.content)
    cls = TealiumAuthError if response.status == 401 else TealiumApiError
    return cls(
        request.method,
        request.path,
        response.status,
        message,
        return_code=code,
        attempts=attempts,
        hint=hint,
    )
