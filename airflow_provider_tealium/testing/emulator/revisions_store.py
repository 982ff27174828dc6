"""The emulator's revisions: what a publish leaves behind (ids, details, per-target bundles, checksums).

The publish feature calls :func:`record_publish` when a publish completes; tests call it directly to
create revisions without publishing. Everything is deterministic for a given revision, so a bundle
served twice is byte-identical and its SHA-256 matches the details.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_tealium.testing.emulator.state import EmulatorState

COMPONENT = "revisions"
ID_FORMAT = "%Y%m%d%H%M%S"
# A fixed zip entry time keeps bundles byte-identical across builds (zip stores mtimes).
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass
class StoredRevision:
    """One revision as the emulator keeps it.

    :param details: the JSON answer of the details endpoint.
    :param bundles: target -> zip bytes.
    """

    details: dict[str, Any]
    bundles: dict[str, bytes] = field(default_factory=dict)


@dataclass
class RevisionsStore:
    """The ``revisions`` component: revisions per ``(account, profile)`` plus emulator-only knobs.

    :param revisions: ``(account, profile)`` -> revision id -> revision.
    :param last_id: the newest id handed out, so ids are unique and increasing even within a second.
    :param corrupt: ``(revision_id or "*", target or "*")`` -> how to corrupt the served bundle:
        ``"checksum"`` (a file's bytes changed), ``"missing"`` (a file left out of the zip) or
        ``"zip"`` (the zip itself altered after building).
    :param latest_only: as the real API, serve a target's bundle only for the newest revision published
        to that target (older ones answer 1270); ``False`` serves every bundle.
    :param unknown_accounts: accounts answered with 1240 (every other account exists).
    :param unknown_profiles: ``(account, profile)`` pairs answered with 1250.
    :param armed: publishes that complete ``delay`` seconds after the next list call of their profile
        (a publish that lands while a sensor is already waiting), as ``record_publish`` keyword arguments.
    """

    revisions: dict[tuple[str, str], dict[str, StoredRevision]] = field(default_factory=dict)
    last_id: str = ""
    corrupt: dict[tuple[str, str], str] = field(default_factory=dict)
    latest_only: bool = True
    unknown_accounts: set[str] = field(default_factory=set)
    unknown_profiles: set[tuple[str, str]] = field(default_factory=set)
    armed: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


def store(state: EmulatorState) -> RevisionsStore:
    """The revisions component of this emulator.

    :param state: the emulator's state.
    """
    return state.component(COMPONENT, RevisionsStore)


def _next_id(current: RevisionsStore, now: datetime | None) -> str:
    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    candidate = moment.strftime(ID_FORMAT)
    if current.last_id and candidate <= current.last_id:
        # Same second (or a clock step back): the next free second keeps ids unique and increasing.
        candidate = (datetime.strptime(current.last_id, ID_FORMAT) + timedelta(seconds=1)).strftime(ID_FORMAT)
    current.last_id = candidate
    return candidate


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``.

    :param data: the bytes.
    """
    return hashlib.sha256(data).hexdigest()


def _files(account: str, profile: str, revision_id: str, target: str, name: str) -> dict[str, bytes]:
    # Two vendor tags: enough for utag.N.js handling; content depends on everything that identifies the build.
    header = f"/* Tealium iQ {account}/{profile} revision {revision_id} target {target} ({name}) */\n"
    return {
        "utag.js": (header + f"var utag_cfg={{v:'{revision_id}',env:'{target}'}};\n").encode(),
        "utag.1.js": (header + "/* tag 1: analytics */\n").encode(),
        "utag.2.js": (header + "/* tag 2: marketing */\n").encode(),
        "utag.sync.js": (header + "/* sync loader */\n").encode(),
    }


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


def _time_created(revision_id: str) -> str:
    moment = datetime.strptime(revision_id, ID_FORMAT)
    return moment.strftime("%a %Y.%m.%d %H:%M GMT")


def record_publish(
    state: EmulatorState,
    *,
    account: str,
    profile: str,
    name: str,
    comment: str,
    created_by: str,
    targets: list[str],
    now: datetime | None = None,
) -> str:
    """Store the revision a completed publish creates and return its id (``YYYYMMDDHHMMSS``).

    Builds, per target, the files, their ``manifest.json`` (the details minus the bundle's SHA-256),
    the zip, and the checksums of each file and of ``bundle.zip``.

    :param state: the emulator's state.
    :param account: the account published.
    :param profile: the profile published.
    :param name: the version's name.
    :param comment: the publish comment.
    :param created_by: the publishing user's email.
    :param targets: the environments published (``["prod"]``, ``["dev", "qa"]``).
    :param now: the publish time (tests); default the current UTC time.
    """
    with state.lock:
        current = store(state)
        revision_id = _next_id(current, now)
        base: dict[str, Any] = {
            "account": account,
            "profile": profile,
            "name": name,
            "time_created": _time_created(revision_id),
            "revision_id": revision_id,
            "comment": comment,
            "created_by": created_by,
            "targets_published": list(targets),
        }
        checksums: dict[str, dict[str, str]] = {}
        bundles: dict[str, bytes] = {}
        for target in targets:
            files = _files(account, profile, revision_id, target, name)
            file_sums = {file_name: sha256(content) for file_name, content in files.items()}
            manifest = dict(base, checksums={target: dict(sorted(file_sums.items()))})
            files["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=2).encode()
            bundle = build_zip(files)
            sums = {file_name: sha256(content) for file_name, content in files.items()}
            sums["bundle.zip"] = sha256(bundle)
            checksums[target] = dict(sorted(sums.items()))
            bundles[target] = bundle
        details = dict(base, checksums=checksums)
        current.revisions.setdefault((account, profile), {})[revision_id] = StoredRevision(details, bundles)
        return revision_id


def corrupt_bundle(
    state: EmulatorState, *, revision_id: str = "*", target: str = "*", mode: str = "checksum"
) -> None:
    """Serve a damaged bundle from now on (until reset).

    :param state: the emulator's state.
    :param revision_id: the revision whose bundle is damaged, or ``"*"`` for every one.
    :param target: the target whose bundle is damaged, or ``"*"``.
    :param mode: ``"checksum"`` (``utag.js`` content changed), ``"missing"`` (``utag.1.js`` left out)
        or ``"zip"`` (the zip's bytes differ from ``bundle.zip`` while every file still matches).
    """
    if mode not in ("checksum", "missing", "zip"):
        raise ValueError(f"unknown corruption mode {mode!r}: use checksum, missing or zip")
    with state.lock:
        store(state).corrupt[(revision_id, target)] = mode


def revision_ids(state: EmulatorState, account: str, profile: str) -> list[str]:
    """Revision ids of a profile, newest first.

    :param state: the emulator's state.
    :param account: the account.
    :param profile: the profile.
    """
    with state.lock:
        return sorted(store(state).revisions.get((account, profile), {}), reverse=True)


def details(state: EmulatorState, account: str, profile: str, revision_id: str) -> dict[str, Any] | None:
    """A copy of a revision's details, or ``None``.

    :param state: the emulator's state.
    :param account: the account.
    :param profile: the profile.
    :param revision_id: the revision.
    """
    with state.lock:
        revision = store(state).revisions.get((account, profile), {}).get(revision_id)
        return json.loads(json.dumps(revision.details)) if revision else None


def bundle(state: EmulatorState, account: str, profile: str, revision_id: str, target: str) -> bytes | None:
    """The zip served for a revision and target (damaged if a corruption applies), or ``None``.

    :param state: the emulator's state.
    :param account: the account.
    :param profile: the profile.
    :param revision_id: the revision.
    :param target: the target environment.
    """
    with state.lock:
        current = store(state)
        revision = current.revisions.get((account, profile), {}).get(revision_id)
        if revision is None or target not in revision.bundles:
            return None
        data = revision.bundles[target]
        mode = None
        for key in ((revision_id, target), (revision_id, "*"), ("*", target), ("*", "*")):
            if key in current.corrupt:
                mode = current.corrupt[key]
                break
    if mode is None:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    if mode == "checksum":
        files["utag.js"] = files["utag.js"] + b"/* tampered */\n"
    elif mode == "missing":
        files.pop("utag.1.js", None)
    else:
        # Same files, different archive bytes: only the bundle.zip checksum can catch it.
        return build_zip(files, comment=b"tampered")
    return build_zip(files)


def arm_publish(state: EmulatorState, *, delay: float = 1.0, **publish: Any) -> None:
    """Make a publish complete ``delay`` seconds after the next revision list call of its profile.

    A sensor resolves its baseline before its first list call, so the revision is reliably newer than
    the baseline however long Airflow took to start: demos and end-to-end tests use this.

    :param state: the emulator's state.
    :param delay: seconds between that list call and the revision appearing.
    :param publish: :func:`record_publish` keyword arguments (``account``, ``profile``, ``name``,
        ``comment``, ``created_by``, ``targets``).
    """
    with state.lock:
        store(state).armed.append((delay, dict(publish)))


def fire_armed(state: EmulatorState, account: str, profile: str) -> None:
    """Start the publishes armed for this profile (called by the list routes).

    :param state: the emulator's state.
    :param account: the listed account.
    :param profile: the listed profile.
    """
    with state.lock:
        current = store(state)
        due = [(d, p) for d, p in current.armed if (p["account"], p["profile"]) == (account, profile)]
        current.armed = [item for item in current.armed if item not in due]
    for delay, publish in due:
        timer = threading.Timer(delay, lambda publish=publish: record_publish(state, **publish))
        timer.daemon = True
        timer.start()


DEMO_DAG_ID = "example_tealium_revision_audit"


def stage_demo(state: EmulatorState, dag_id: str) -> str | None:
    """Stage what happens outside Airflow in a demo of ``dag_id``: for the revision audit (which publishes
    to prod itself), yesterday's prod revision, which its sensor must not take for the new one. Returns a
    line for the demo to print, if any.

    :param state: the emulator's state.
    :param dag_id: the DAG the demo runs.
    """
    if dag_id != DEMO_DAG_ID:
        return None
    record_publish(
        state,
        account="demo",
        profile="main",
        name="Yesterday's release",
        comment="published before the DAG ran",
        created_by="user@example.com",
        targets=["dev", "prod"],
        now=datetime.now(timezone.utc) - timedelta(days=1),
    )
    return "Emulator:            yesterday's prod revision exists; the DAG's own publish creates the one it audits"
