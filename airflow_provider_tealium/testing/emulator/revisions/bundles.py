"""The files of a revision bundle, the zip, its checksums, and the ways a test can damage one.

Everything is deterministic for a given revision, so a bundle served twice is byte-identical and its
SHA-256 matches the details (the seed: ``checksums`` holds each file's SHA-256 and ``bundle.zip``'s;
``manifest.json`` is the details minus the bundle's SHA-256).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from typing import Any

ID_FORMAT = "%Y%m%d%H%M%S"
CORRUPTIONS = ("checksum", "missing", "zip")
# A fixed zip entry time keeps bundles byte-identical across builds (zip stores mtimes).
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``.

    :param data: the bytes.
    """
    return hashlib.sha256(data).hexdigest()


def build_zip(files: dict[str, bytes], comment: bytes = b"") -> bytes:
    """A deterministic zip of ``files`` (sorted names, fixed entry times).

    :param files: name -> content.
    :param comment: the archive comment (a different comment changes only the zip's own bytes).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.comment = comment
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def time_created(revision_id: str) -> str:
    """The seed's ``time_created`` of a revision id: ``"Tue 2016.12.13 19:54 GMT"``.

    :param revision_id: ``YYYYMMDDHHMMSS``.
    """
    return datetime.strptime(revision_id, ID_FORMAT).strftime("%a %Y.%m.%d %H:%M GMT")


def _files(account: str, profile: str, revision_id: str, target: str, name: str) -> dict[str, bytes]:
    # Two vendor tags: enough for utag.N.js handling; content depends on everything that identifies the build.
    header = f"/* Tealium iQ {account}/{profile} revision {revision_id} target {target} ({name}) */\n"
    return {
        "utag.js": (header + f"var utag_cfg={{v:'{revision_id}',env:'{target}'}};\n").encode(),
        "utag.1.js": (header + "/* tag 1: analytics */\n").encode(),
        "utag.2.js": (header + "/* tag 2: marketing */\n").encode(),
        "utag.sync.js": (header + "/* sync loader */\n").encode(),
    }


def build_target(base: dict[str, Any], target: str) -> tuple[bytes, dict[str, str]]:
    """One target's bundle and its checksums (every file's, and ``bundle.zip``'s).

    :param base: the revision's details without checksums.
    :param target: the environment.
    """
    files = _files(base["account"], base["profile"], base["revision_id"], target, base["name"])
    file_sums = {file_name: sha256(content) for file_name, content in files.items()}
    manifest = dict(base, checksums={target: dict(sorted(file_sums.items()))})
    files["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=2).encode()
    bundle = build_zip(files)
    sums = {file_name: sha256(content) for file_name, content in files.items()}
    sums["bundle.zip"] = sha256(bundle)
    return bundle, dict(sorted(sums.items()))


def damage(data: bytes, mode: str) -> bytes:
    """A damaged copy of a bundle.

    :param data: the bundle.
    :param mode: ``checksum`` (``utag.js`` changed), ``missing`` (``utag.1.js`` left out) or ``zip`` (the
        same files in different archive bytes: only the ``bundle.zip`` checksum can catch it).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    if mode == "checksum":
        files["utag.js"] = files["utag.js"] + b"/* tampered */\n"
    elif mode == "missing":
        files.pop("utag.1.js", None)
    else:
        return build_zip(files, comment=b"tampered")
    return build_zip(files)
