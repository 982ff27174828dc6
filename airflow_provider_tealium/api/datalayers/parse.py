"""Hosted Data Layer answers read into typed values (file metadata, listing pages, failed uploads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_tealium.api.datalayers.calls import to_datetime
from airflow_provider_tealium.api.datalayers.options import FileType
from airflow_provider_tealium.api.datalayers.wire import DATE_FORMAT


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
