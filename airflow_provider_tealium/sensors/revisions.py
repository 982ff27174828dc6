"""Sensor: a new iQ revision has appeared (after a publish)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_tealium.api.revisions import Baseline
    from airflow_provider_tealium.hooks.tealium import TealiumHook


class TealiumRevisionSensor(BaseSensorOperator):
    """Wait for a revision newer than a baseline, optionally published to a target and matching a pattern.

    The baseline is, in order: ``baseline`` (a revision id ``YYYYMMDDHHMM[SS]``, a ``datetime`` or an ISO
    8601 time); the XCom of ``baseline_task_id`` (a revision id, a time, or a dict with ``revision_id``,
    ``published_at``, ``requested_at``, ``saved_at`` or ``time``: the result of
    :class:`~airflow_provider_tealium.operators.publish.TealiumPublishOperator`,
    :class:`~airflow_provider_tealium.sensors.publish.TealiumPublishSensor` or
    :class:`~airflow_provider_tealium.operators.profiles.TealiumPatchProfileOperator` works as it is);
    the run's data interval start; the time the run was triggered. ``requested_at`` and ``saved_at`` are
    taken just before the request, so a revision in that same second counts.
    Each poke is one list call plus a details call for each newer id not examined before.

    :param baseline: what "newer" is measured against.
    :param baseline_task_id: an upstream task (a publish, a PATCH) whose result is the baseline.
    :param target: an environment the revision must have been published to (``prod``).
    :param match: a regular expression searched in the revision's name and comment.
    :param account: the account (default: the connection's).
    :param profile: the profile (default: the connection's).
    :param revisions_api: ``"v1"`` or ``"v2"`` (default: the connection's ``revisions_api`` extra, else v1).
    :param deferrable: wait in the triggerer instead of occupying a worker slot.
    :param tealium_conn_id: the ``tealium`` connection.
    :return: the details of the newest matching revision (as :class:`TealiumGetRevisionOperator` returns).
    """

    template_fields: Sequence[str] = (
        "baseline",
        "baseline_task_id",
        "target",
        "match",
        "account",
        "profile",
        "revisions_api",
        "tealium_conn_id",
    )
    ui_color = "#e8f4fb"

    def __init__(
        self,
        *,
        baseline: Any = None,
        baseline_task_id: str | None = None,
        target: str | None = None,
        match: str | None = None,
        account: str | None = None,
        profile: str | None = None,
        revisions_api: str | None = None,
        deferrable: bool = False,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.baseline = baseline
        self.baseline_task_id = baseline_task_id
        self.target = target
        self.match = match
        self.account = account
        self.profile = profile
        self.revisions_api = revisions_api
        self.deferrable = deferrable
        self.tealium_conn_id = tealium_conn_id
        self._resolved: Baseline | None = None
        self._seen: set[str] = set()

    @cached_property
    def hook(self) -> TealiumHook:
        """The Tealium hook (the connection is read on first use, never at DAG parse)."""
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        return TealiumHook(self.tealium_conn_id)

    def _validate(self) -> None:
        from airflow_provider_tealium.api import revisions as rev

        if self.target:
            rev.validate_target(self.target)
        rev.validate_pattern(self.match)
        rev.revisions_api(self.revisions_api)

    def resolve_baseline(self, context: Context) -> Baseline:
        """The baseline of this run (see the class docstring for the order).

        :param context: the task context.
        """
        from airflow_provider_tealium.api import revisions as rev

        if self._resolved is not None:
            return self._resolved
        if self.baseline not in (None, ""):
            resolved = rev.parse_baseline(self.baseline)
        elif self.baseline_task_id:
            value = context["ti"].xcom_pull(task_ids=self.baseline_task_id)
            if value in (None, ""):
                raise TealiumValidationError(
                    "baseline_task_id",
                    "the task returned nothing to use as a baseline",
                    value=self.baseline_task_id,
                )
            resolved = rev.parse_baseline(value, f"xcom of {self.baseline_task_id}")
        else:
            start = context.get("data_interval_start")
            dag_run = context.get("dag_run")
            moment = start or getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None)
            if moment is None:
                raise TealiumValidationError(
                    "baseline", "is required: this run has no data interval or trigger time to default to"
                )
            resolved = rev.parse_baseline(moment)
        self._resolved = resolved
        return resolved

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_tealium.api import revisions as rev

        self._validate()
        baseline = self.resolve_baseline(context)
        api = self.revisions_api or None
        ids = self.hook.list_revision_ids(self.account, self.profile, revisions_api=api)
        for revision_id in rev.new_revision_ids(ids, baseline, self._seen):
            details = self.hook.get_revision(revision_id, self.account, self.profile, revisions_api=api)
            self._seen.add(revision_id)
            if details.matches(self.target, self.match):
                self.log.info("Revision %s (%s) is %s", revision_id, details.name, baseline.describe())
                return PokeReturnValue(is_done=True, xcom_value=details.to_dict())
        self.log.info("No matching revision %s yet", baseline.describe())
        return PokeReturnValue(is_done=False)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        from airflow_provider_tealium.triggers.revisions import TealiumRevisionTrigger

        self._validate()
        baseline = self.resolve_baseline(context)
        # A first poke in the worker: when the revision is already there, no deferral round trip.
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        timeout = (
            self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else float(self.timeout or 0)
        )
        interval = (
            self.poke_interval.total_seconds()
            if isinstance(self.poke_interval, timedelta)
            else float(self.poke_interval)
        )
        self.defer(
            trigger=TealiumRevisionTrigger(
                baseline=baseline.to_string(),
                end_time=time.time() + timeout,
                poll_interval=interval,
                target=self.target,
                match=self.match,
                account=self.account,
                profile=self.profile,
                revisions_api=self.revisions_api or None,
                tealium_conn_id=self.tealium_conn_id,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Read the trigger's event: the details on success, else fail with its message.

        :param context: the task context.
        :param event: the trigger's payload.
        """
        from airflow_provider_tealium._compat import AirflowSensorTimeout

        status = event.get("status")
        if status == "success":
            revision: dict[str, Any] = event["revision"]
            self.log.info("Revision %s appeared", revision.get("revision_id"))
            return revision
        if status == "timeout":
            raise AirflowSensorTimeout(event.get("message", "timed out waiting for a new revision"))
        raise TealiumError(event.get("message", f"the revision trigger failed: {event!r}"))
