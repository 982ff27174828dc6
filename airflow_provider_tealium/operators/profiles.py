"""Operators for iQ Profiles: read a profile, PATCH it, and sync it to a desired state kept in git."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_tealium.api.arguments import check_unless_templated, flag_arg, seconds_arg
from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.links import TealiumProfileLink

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_tealium.api.profiles import Operation, ProfileVersion
    from airflow_provider_tealium.hooks.tealium import TealiumHook

DEFAULT_INCLUDES = ("loadRules", "variables", "extensions", "versionIds")
DEFAULT_LOCK_TIMEOUT = 180.0
MAX_RESENDS = 3
# Answers from a proxy in front of Tealium: the PATCH may or may not have been applied.
GATEWAY_STATUSES = frozenset({502, 504})


def utc_now_iso() -> str:
    """The current time as an ISO 8601 UTC string (``2026-01-01T12:00:00.123456+00:00``), the form
    results carry so a downstream sensor can use them as a baseline."""
    return datetime.now(timezone.utc).isoformat()


class TealiumProfileBaseOperator(BaseOperator):
    """What the iQ Profiles operators share: the connection, the profile, the hook and the link.

    :param tealium_conn_id: the ``tealium`` connection.
    :param account: the account (default from the connection).
    :param profile: the profile (default from the connection).
    """

    operator_extra_links = (TealiumProfileLink(),)
    template_fields: Sequence[str] = ("tealium_conn_id", "account", "profile")

    def __init__(
        self,
        *,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        account: str | None = None,
        profile: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tealium_conn_id = tealium_conn_id
        self.account = account
        self.profile = profile

    @cached_property
    def hook(self) -> TealiumHook:
        """The hook (built on first use, never at DAG parse)."""
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        return TealiumHook(self.tealium_conn_id, account=self.account, profile=self.profile)

    def _resolve(self, context: Context) -> tuple[str, str]:
        """The account and profile the task works on; stores the task's link to them."""
        account, profile = self.hook.account_profile(self.account, self.profile)
        TealiumProfileLink().persist_profile(context, account, profile)
        return account, profile


class TealiumGetProfileOperator(TealiumProfileBaseOperator):
    """Read a profile (the latest version, or ``publish_version``) with the components named in ``includes``.

    :param includes: components to include: ``loadRules``, ``tags``, ``tags.templateList``,
        ``tags.template``, ``extensions``, ``variables``, ``events``, ``versionIds``.
    :param publish_version: a version id (``yyyyMMddHHmm``); the latest when omitted.
    :param output_path: write the profile as JSON to this file or :class:`~airflow.sdk.ObjectStoragePath`
        (``s3://...``) instead of returning it (profiles can be large for XCom).
    :return: the profile; with ``output_path``, ``{"path", "version_id", "version_title", "bytes"}``.
    """

    template_fields: Sequence[str] = (
        "tealium_conn_id",
        "account",
        "profile",
        "includes",
        "publish_version",
        "output_path",
    )

    def __init__(
        self,
        *,
        includes: Sequence[str] = DEFAULT_INCLUDES,
        publish_version: str | None = None,
        output_path: str | ObjectStoragePath | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.includes = list(includes)
        self.publish_version = publish_version
        self.output_path = output_path

    def execute(self, context: Context) -> Any:
        """Read the profile."""
        from airflow_provider_tealium.api.profiles import parse_version

        account, profile = self._resolve(context)
        data = self.hook.get_profile(
            account, profile, includes=self.includes, publish_version=self.publish_version or None
        )
        version = parse_version(data)
        self.log.info("Read %s/%s version %s (%r)", account, profile, version.version_id, version.title)
        if self.output_path is None:
            return data
        from airflow.sdk import ObjectStoragePath

        target = (
            self.output_path
            if isinstance(self.output_path, ObjectStoragePath)
            else ObjectStoragePath(str(self.output_path))
        )
        payload = json.dumps(data, indent=2, sort_keys=True).encode()
        if target.parent and not target.parent.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        from airflow_provider_tealium.outputs import write_atomically

        write_atomically(target, payload)  # whole or not at all
        self.log.info("Wrote %d bytes to %s", len(payload), target)
        return {
            "path": str(target),
            "version_id": version.version_id,
            "version_title": version.title,
            "bytes": len(payload),
        }


def run_token(context: Context | Mapping[str, Any]) -> str:
    """A marker unique to this dag/task/run/try, written into the version's notes so an unanswered PATCH
    can be recognised later.

    :param context: the task context.
    """
    ti = context.get("ti")
    if ti is not None and getattr(ti, "run_id", None):
        map_index = getattr(ti, "map_index", -1)
        mapped = f"[{map_index}]" if map_index is not None and map_index >= 0 else ""
        return f"airflow:{ti.dag_id}.{ti.task_id}{mapped}/{ti.run_id}/try{ti.try_number}"
    return f"airflow:{uuid.uuid4().hex}"


class _ProfileWriter(TealiumProfileBaseOperator):
    """Sends one PATCH safely: waits out the profile lock, and never duplicates a change whose answer
    was lost (it looks for its marked version and resends only if the version is not there).

    :param notes: the saved version's notes (required by Tealium, must not be empty). A marker unique
        to the task instance is appended, so the version can be recognised.
    :param version_title: the saved version's title (Tealium's default: ``API | {TIMESTAMP}``).
    :param save_type: ``saveAs`` (a new version, default) or ``save`` (change the latest version).
    :param lock_timeout: seconds to keep waiting while the profile is locked (users viewing it, or
        the 15 seconds after an update).
    :param lock_backoff: first wait between lock retries in seconds; doubles up to ``lock_backoff_max``.
    :param lock_backoff_max: longest wait between lock retries in seconds.

    The numbers may be templates; they are checked at DAG parse when given as numbers, once rendered
    otherwise.
    """

    _LOCK_ARGS = (("lock_timeout", False), ("lock_backoff", True), ("lock_backoff_max", True))

    def __init__(
        self,
        *,
        notes: str | None = None,
        version_title: str | None = None,
        save_type: str = "saveAs",
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        lock_backoff: float = 2.0,
        lock_backoff_max: float = 15.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.notes = notes
        self.version_title = version_title
        self.save_type = save_type
        self.lock_timeout = lock_timeout
        self.lock_backoff = lock_backoff
        self.lock_backoff_max = lock_backoff_max
        for name, positive in self._LOCK_ARGS:
            if not isinstance(getattr(self, name), str):
                seconds_arg(getattr(self, name), name, positive=positive)

    def _render_lock_args(self) -> None:
        """Turn the rendered lock arguments into numbers, before any request (a template gives strings)."""
        for name, positive in self._LOCK_ARGS:
            setattr(self, name, seconds_arg(getattr(self, name), name, positive=positive))

    def _find_version(
        self, account: str, profile: str, token: str, before: set[str]
    ) -> ProfileVersion | None:
        """The version carrying ``token`` in its notes or title, among the latest and any new since ``before``."""
        from airflow_provider_tealium.api.profiles import parse_version

        latest = parse_version(self.hook.get_profile(account, profile, includes=["versionIds"]))
        candidates = [v for v in reversed(latest.version_ids) if v not in before]
        if latest.version_id and latest.version_id not in candidates:
            candidates.insert(0, latest.version_id)
        for version_id in candidates:
            version = (
                latest
                if version_id == latest.version_id
                else parse_version(self.hook.get_profile(account, profile, publish_version=version_id))
            )
            if token in (version.notes or "") or token in (version.title or ""):
                return version
        return None

    def _save(self, context: Context, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH ``body`` once, whatever the lock or the network does; return the saved version.

        The caller has called :meth:`_render_lock_args`.
        """
        from airflow_provider_tealium.api.profiles import is_lock_error, parse_version, validate_patch
        from airflow_provider_tealium.exceptions import (
            TealiumAmbiguousResultError,
            TealiumApiError,
            TealiumError,
        )

        # All rules, before anything is sent, on the user's own notes: with the marker appended, empty
        # notes would pass.
        validated = validate_patch(body)
        account, profile = self._resolve(context)
        token = run_token(context)
        send = dict(validated.body, notes=f"{validated.body['notes'].strip()} [{token}]")
        # Logged once here, not by the hook: the same body may be sent several times (lock, lost answer).
        for warning in validated.warnings:
            self.log.warning("%s", warning)
        before = set(
            parse_version(self.hook.get_profile(account, profile, includes=["versionIds"])).version_ids
        )
        deadline = time.monotonic() + self.lock_timeout
        wait = self.lock_backoff
        resends = 0
        operations = len(validated.body["operationList"])
        while True:
            # Taken before each send: the version that lands is the last one sent, saved after this.
            sent_at = utc_now_iso()
            try:
                try:
                    self.hook.patch_profile(send, account, profile, log_warnings=False)
                except TealiumApiError as exc:
                    if exc.status in GATEWAY_STATUSES:
                        # A gateway's 502/504 does not say whether Tealium applied the PATCH behind it.
                        raise TealiumAmbiguousResultError(
                            exc.method, exc.path, exc.status, exc.api_message, attempts=exc.attempts
                        ) from exc
                    raise
                break
            except TealiumAmbiguousResultError:
                # The PATCH may have landed: resending blindly would save the change twice.
                found = self._find_version(account, profile, token, before)
                if found is not None:
                    self.log.warning(
                        "The PATCH answer was lost, but version %s carries this task's marker: it was applied; "
                        "not resending",
                        found.version_id,
                    )
                    return self._result(account, profile, found, operations, sent_at)
                resends += 1
                if resends > MAX_RESENDS:
                    raise
                self.log.warning("The PATCH answer was lost and no version carries its marker; resending")
            except TealiumApiError as exc:
                if not is_lock_error(exc.status, exc.api_message):
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TealiumError(
                        f"{account}/{profile} was still locked after {self.lock_timeout:g} s "
                        f"(lock_timeout): {exc.api_message}"
                    ) from exc
                delay = min(wait, remaining)
                self.log.info(
                    "Profile %s/%s is locked (%s); retrying in %.1f s",
                    account,
                    profile,
                    exc.api_message,
                    delay,
                )
                time.sleep(delay)
                wait = min(wait * 2, self.lock_backoff_max)
        found = self._find_version(account, profile, token, before)
        if found is None:  # should not happen: the save answered 200
            found = parse_version(self.hook.get_profile(account, profile, includes=["versionIds"]))
        self.log.info("Saved %s/%s version %s (%r)", account, profile, found.version_id, found.title)
        return self._result(account, profile, found, operations, sent_at)

    def _result(
        self, account: str, profile: str, version: ProfileVersion, operations: int, saved_at: str
    ) -> dict[str, Any]:
        return {
            "account": account,
            "profile": profile,
            "version_id": version.version_id,
            "version_title": version.title,
            "save_type": self.save_type,
            "operations": operations,
            "saved_at": saved_at,
        }

    def _envelope(self, operations: list[Any], default_notes: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.version_title:
            body["versionTitle"] = self.version_title
        body["saveType"] = self.save_type
        # Blank notes count as none: the default, if the operator has one, else validation refuses them.
        given = self.notes if isinstance(self.notes, str) and self.notes.strip() else None
        body["notes"] = given or default_notes
        body["operationList"] = operations
        return body


class TealiumPatchProfileOperator(_ProfileWriter):
    """Apply a list of operations to a profile in one PATCH, so as one saved version.

    Every operation is validated before anything is sent; the profile lock is waited out up to
    ``lock_timeout``; a PATCH whose answer was lost is looked for (by a marker in its notes) and resent
    only if it did not land.

    :param operations: :class:`~airflow_provider_tealium.api.profiles.Operation` objects or plain dicts
        ``{"op", "path", "value"}``.
    :param notes: the version's notes (required, not blank).
    :return: ``{"account", "profile", "version_id", "version_title", "save_type", "operations",
        "saved_at"}``; ``saved_at`` is the ISO 8601 UTC time taken just before the PATCH that saved
        the version was sent (a baseline for
        :class:`~airflow_provider_tealium.sensors.revisions.TealiumRevisionSensor`).
    """

    template_fields: Sequence[str] = (
        "tealium_conn_id",
        "account",
        "profile",
        "operations",
        "notes",
        "version_title",
        "save_type",
        "lock_timeout",
        "lock_backoff",
        "lock_backoff_max",
    )

    def __init__(
        self, *, operations: Sequence[Operation | Mapping[str, Any]], notes: str, **kwargs: Any
    ) -> None:
        super().__init__(notes=notes, **kwargs)
        self.operations = operations

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate and save."""
        from airflow_provider_tealium.api.profiles import Operation

        self._render_lock_args()
        operations = [op.to_json() if isinstance(op, Operation) else op for op in self.operations]
        return self._save(context, self._envelope(operations, ""))


class TealiumSyncProfileOperator(_ProfileWriter):
    """Make a profile's load rules, variables and extensions match a desired state, in one PATCH.

    The desired state is a mapping (or a YAML/JSON file, relative paths resolved next to the DAG file)::

        loadRules:
          - name: Checkout pages
            status: active
            loadRuleCondition: [[{variable: udo.page_type, operator: equals, value: checkout}]]
        variables:
          - {name: page_type, type: udo, alias: Page type}
        extensions:
          - {name: Lower-case page type, scope: Before Load Rules, code: "b.x = 1;"}

    Components are matched by name; only the fields the file gives are compared. Missing ones are
    added, changed ones replaced, and with ``prune=True`` those a listed section no longer names are
    removed (an absent section is not managed). When nothing differs no PATCH is sent.

    :param desired_state: the mapping, or a path to a ``.yaml``/``.yml``/``.json`` file.
    :param prune: remove components absent from a managed section (templated: ``"true"``/``"false"``).
    :param dry_run: log the plan and return it without saving (templated as ``plan_only``, the
        attribute that holds it).
    :return: ``{"changed", "dry_run", "plan", "version_id", "version_title", ...}``; ``plan`` lists
        ``{"op", "object", "name", "id", "changes": {field: {"from", "to"}}}``. When a PATCH was sent,
        also ``saved_at``, the ISO 8601 UTC time taken just before it was sent.
    """

    template_fields: Sequence[str] = (
        "tealium_conn_id",
        "account",
        "profile",
        "desired_state",
        "notes",
        "version_title",
        "save_type",
        "prune",
        "plan_only",
        "lock_timeout",
        "lock_backoff",
        "lock_backoff_max",
    )

    def __init__(
        self,
        *,
        desired_state: str | Mapping[str, Any],
        prune: bool = False,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_unless_templated(prune, flag_arg, "prune")
        check_unless_templated(dry_run, flag_arg, "dry_run")
        self.desired_state = desired_state
        self.prune = prune
        # Not ``self.dry_run``: BaseOperator has a ``dry_run()`` method.
        self.plan_only = dry_run

    def _load_spec(self, context: Context) -> tuple[Any, str]:
        if not isinstance(self.desired_state, str):
            return self.desired_state, "desired_state"
        path = Path(self.desired_state)
        if not path.is_absolute():
            dag = context.get("dag")
            fileloc = getattr(dag, "fileloc", None)
            if fileloc:
                path = Path(fileloc).parent / path
        from airflow_provider_tealium.exceptions import TealiumValidationError

        if not path.is_file():
            raise TealiumValidationError("desired_state", "file not found", value=str(path))
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return json.loads(text), path.name
        import yaml  # PyYAML ships with Airflow; imported only when a YAML file is used

        return yaml.safe_load(text), path.name

    def execute(self, context: Context) -> dict[str, Any]:
        """Plan, then save the plan (or report it)."""
        from airflow_provider_tealium.api.profiles import (
            SPEC_SECTIONS,
            parse_desired_state,
            parse_version,
            plan_sync,
        )

        self.prune = flag_arg(self.prune, "prune")
        self.plan_only = flag_arg(self.plan_only, "dry_run")
        self._render_lock_args()
        spec, where = self._load_spec(context)
        desired = parse_desired_state(spec, where)
        account, profile = self._resolve(context)
        sections = [s for s, kind in SPEC_SECTIONS.items() if kind in desired]
        current = self.hook.get_profile(account, profile, includes=[*sections, "versionIds"])
        plan = plan_sync(current, desired, prune=self.prune)
        version = parse_version(current)
        summary = {
            "account": account,
            "profile": profile,
            "dry_run": self.plan_only,
            "plan": [change.to_dict() for change in plan],
        }
        if not plan:
            self.log.info("%s/%s already matches %s: no changes", account, profile, where)
            return {**summary, "changed": False, **version.to_dict()}
        self.log.info(
            "Plan for %s/%s (%d change(s)):\n%s",
            account,
            profile,
            len(plan),
            "\n".join(c.describe() for c in plan),
        )
        if self.plan_only:
            self.log.info("dry_run=True: nothing saved")
            return {**summary, "changed": False, **version.to_dict()}
        body = self._envelope([c.operation() for c in plan], f"Sync from {where}: {len(plan)} change(s)")
        saved = self._save(context, body)
        return {
            **summary,
            "changed": True,
            "version_id": saved["version_id"],
            "version_title": saved["version_title"],
            "saved_at": saved["saved_at"],
        }
