"""Judging whether uploads have landed (shared by the sensor and its trigger)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from airflow_provider_tealium.api.datalayers.options import FileType
from airflow_provider_tealium.api.datalayers.parse import DataLayerFile, FailedUpload
from airflow_provider_tealium.api.datalayers.wire import DATE_FORMAT


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
