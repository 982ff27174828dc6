"""Verifying a revision bundle (a zip) against the revision's checksums, safely. Pure: no I/O but the
in-memory zip.

A bundle comes from the network, so it is read as hostile: its size, its number of entries, each
entry's and the total uncompressed size and each entry's compression ratio are capped (a zip bomb of
a few hundred kilobytes can expand to gigabytes); every entry is hashed in streamed chunks, never read
whole; and entries whose names repeat, are absolute or climb out with ``..`` are refused (a zip whose
first ``utag.js`` is bad and last is good must not verify, and no name may point outside a folder).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError

BUNDLE_CHECKSUM = "bundle.zip"
"""The checksums entry that holds the SHA-256 of the zip itself rather than of a file inside it."""

MiB = 1024 * 1024
_CHUNK = 64 * 1024
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


class TealiumBundleVerificationError(TealiumError):
    """A downloaded bundle is not exactly what the revision's details describe (nothing was written)."""


@dataclass(frozen=True)
class BundleLimits:
    """Caps on a bundle; a real one (``utag.js`` and a few hundred tag files) stays far below each.

    :param max_download_bytes: the zip itself.
    :param max_entries: entries in the zip.
    :param max_entry_bytes: one entry, uncompressed.
    :param max_total_bytes: every entry together, uncompressed.
    :param max_ratio: one entry's uncompressed size over its compressed size...
    :param ratio_floor: ...checked for entries larger than this (uncompressed), as a small file of
        repeated characters compresses far better than any bomb needs and harms nothing.
    """

    max_download_bytes: int = 64 * MiB
    max_entries: int = 10_000
    max_entry_bytes: int = 32 * MiB
    max_total_bytes: int = 256 * MiB
    max_ratio: float = 100.0
    ratio_floor: int = 1 * MiB


DEFAULT_LIMITS = BundleLimits()


def is_javascript(name: str) -> bool:
    """Whether a bundle file is JavaScript, which Tealium's checksums cover (every published ``.js`` file).

    Other files a bundle may hold (``mobile.html``) need not be listed.

    :param name: the file's name in the zip.
    """
    return name.lower().endswith(".js")


def is_unsafe_name(name: str) -> bool:
    """Whether a zip entry's name is absolute, names a drive, climbs with ``..`` or holds a NUL.

    :param name: the entry's name.
    """
    if not name or name.startswith(("/", "\\")) or _DRIVE_RE.match(name) or "\x00" in name:
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


@dataclass(frozen=True)
class BundleVerification:
    """What :func:`verify_bundle` found.

    Every method taking ``allow_unlisted`` reads it the same way: ``None`` (the default) tolerates files
    without a checksum unless they are JavaScript, ``True`` tolerates every one, ``False`` none.

    :param verified: files whose SHA-256 matched, sorted (``bundle.zip`` included when checked).
    :param mismatched: files whose SHA-256 differed.
    :param missing: files the checksums list but the zip lacks.
    :param unlisted: files in the zip that the checksums do not list.
    :param bundle_sha256: the SHA-256 of the zip.
    :param duplicates: names that occur more than once in the zip (never verified).
    :param unsafe: absolute names, drive names and names with ``..`` (never verified).
    """

    verified: list[str]
    mismatched: list[str]
    missing: list[str]
    unlisted: list[str]
    bundle_sha256: str
    duplicates: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)

    def refused_unlisted(self, allow_unlisted: bool | None = None) -> list[str]:
        """The files without a checksum that fail the check.

        :param allow_unlisted: ``None``: the JavaScript ones; ``True``: none; ``False``: all.
        """
        if allow_unlisted is None:
            return [name for name in self.unlisted if is_javascript(name)]
        return [] if allow_unlisted else list(self.unlisted)

    def unverified(self, allow_unlisted: bool | None = None) -> list[str]:
        """The files without a checksum that are tolerated: kept in the bundle, but nothing proves them.

        :param allow_unlisted: see :meth:`refused_unlisted`.
        """
        refused = set(self.refused_unlisted(allow_unlisted))
        return [name for name in self.unlisted if name not in refused]

    def ok(self, allow_unlisted: bool | None = None) -> bool:
        """Whether the bundle is what the details describe: nothing changed, missing, repeated or
        unsafely named, and no file without a checksum beyond what ``allow_unlisted`` tolerates.

        :param allow_unlisted: see :meth:`refused_unlisted`.
        """
        return not (
            self.mismatched
            or self.missing
            or self.duplicates
            or self.unsafe
            or self.refused_unlisted(allow_unlisted)
        )

    def problems(self, allow_unlisted: bool | None = None) -> str:
        """A sentence naming every failed file.

        :param allow_unlisted: see :meth:`refused_unlisted`.
        """
        parts = []
        if self.duplicates:
            parts.append(f"entries repeated in the zip: {', '.join(self.duplicates)}")
        if self.unsafe:
            parts.append(f"entries with an absolute or '..' name: {', '.join(map(repr, self.unsafe))}")
        if self.mismatched:
            parts.append(f"SHA-256 mismatch: {', '.join(self.mismatched)}")
        if self.missing:
            parts.append(f"missing from the zip: {', '.join(self.missing)}")
        refused = self.refused_unlisted(allow_unlisted)
        if refused:
            why = " (every JavaScript file must have one)" if allow_unlisted is None else ""
            parts.append(f"in the zip without a checksum{why}: {', '.join(refused)}")
        return "; ".join(parts)


def _too_big(what: str) -> TealiumBundleVerificationError:
    return TealiumBundleVerificationError(f"The bundle was refused: {what}; nothing was written")


def _check_declared(infos: list[zipfile.ZipInfo], limits: BundleLimits) -> None:
    """Refuse a bomb from the sizes its directory declares, before decompressing anything."""
    if len(infos) > limits.max_entries:
        raise _too_big(f"{len(infos)} entries (at most {limits.max_entries})")
    total = 0
    for info in infos:
        size = info.file_size
        if size > limits.max_entry_bytes:
            raise _too_big(
                f"entry {info.filename!r} expands to {size} bytes (at most {limits.max_entry_bytes})"
            )
        ratio = size / max(info.compress_size, 1)
        if size > limits.ratio_floor and ratio > limits.max_ratio:
            raise _too_big(
                f"entry {info.filename!r} is compressed {ratio:.0f}:1 (at most {limits.max_ratio:.0f}:1 "
                f"for entries over {limits.ratio_floor} bytes): a zip bomb"
            )
        total += size
        if total > limits.max_total_bytes:
            raise _too_big(f"the entries expand to more than {limits.max_total_bytes} bytes")


def _hash_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: BundleLimits, budget: int
) -> tuple[str, int]:
    """SHA-256 of one entry, read in chunks; stops at the caps whatever the directory declared."""
    digest = hashlib.sha256()
    read = 0
    cap = min(limits.max_entry_bytes, budget)
    with archive.open(info) as entry:
        while chunk := entry.read(_CHUNK):
            read += len(chunk)
            if read > cap:
                raise _too_big(f"entry {info.filename!r} expands beyond {cap} bytes")
            digest.update(chunk)
    return digest.hexdigest(), read


def verify_bundle(
    data: bytes, checksums: dict[str, str], limits: BundleLimits = DEFAULT_LIMITS
) -> BundleVerification:
    """Check the zip's own SHA-256 (when ``bundle.zip`` is listed) and that of every file in it.

    :param data: the zip's bytes.
    :param checksums: file name -> expected SHA-256, for one target.
    :param limits: the caps (:class:`BundleLimits`).
    :raises TealiumValidationError: the data is not a readable zip.
    :raises TealiumBundleVerificationError: the zip breaks a cap (a zip bomb); nothing is decompressed
        beyond the cap.
    """
    if len(data) > limits.max_download_bytes:
        raise _too_big(f"the zip is {len(data)} bytes (at most {limits.max_download_bytes})")
    bundle_sha = hashlib.sha256(data).hexdigest()
    expected = {name: value.lower() for name, value in checksums.items()}
    verified: list[str] = []
    mismatched: list[str] = []
    actual: dict[str, str] = {}
    seen: set[str] = set()
    duplicates: set[str] = set()
    unsafe: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            _check_declared(infos, limits)
            for info in infos:
                name = info.filename
                if name in seen:
                    duplicates.add(name)
                seen.add(name)
                if is_unsafe_name(name):
                    unsafe.append(name)
            budget = limits.max_total_bytes
            for info in infos:
                if info.filename in duplicates or info.filename in unsafe:
                    continue  # never verified: which of the copies would a server serve?
                actual[info.filename], used = _hash_entry(archive, info, limits, budget)
                budget -= used
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ) as exc:
        raise TealiumValidationError("bundle", f"is not a readable zip ({exc})", show_value=False) from None
    if BUNDLE_CHECKSUM in expected:
        (verified if expected.pop(BUNDLE_CHECKSUM) == bundle_sha else mismatched).append(BUNDLE_CHECKSUM)
    for name, sha in expected.items():
        if name in actual:
            (verified if actual[name] == sha else mismatched).append(name)
    refused = duplicates | set(unsafe)
    missing = sorted(name for name in expected if name not in actual and name not in refused)
    unlisted = sorted(name for name in actual if name not in expected)
    return BundleVerification(
        sorted(verified),
        sorted(mismatched),
        missing,
        unlisted,
        bundle_sha,
        sorted(duplicates),
        sorted(unsafe),
    )
