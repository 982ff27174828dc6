"""Hosted Data Layer arguments: file type, upload mode and the client-side request rate."""

from __future__ import annotations

import math
from enum import Enum

from airflow_provider_tealium.api.datalayers.wire import MAX_REQUESTS_PER_SECOND
from airflow_provider_tealium.exceptions import TealiumValidationError


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
