"""Publish a profile version to dev, qa and/or prod, and optionally wait for it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_tealium.api.arguments import check_unless_templated, flag_arg, seconds_arg
from airflow_provider_tealium.operators.profiles import TealiumProfileBaseOperator, utc_now_iso

if TYPE_CHECKING:
    from airflow.sdk import Context

DEFAULT_TIMEOUT = 3600.0


class TealiumPublishOperator(TealiumProfileBaseOperator):
    """Publish a profile version (``POST .../publish``).

    The publish call is not idempotent: if its answer is lost the task fails with
    :class:`~airflow_provider_tealium.exceptions.TealiumAmbiguousResultError` rather than publishing twice.

    :param targets: ``dev``, ``qa`` and/or ``prod`` (a list, or one name).
    :param version_id: the version to publish (templated, e.g. from a sync or patch task's XCom);
        the profile's latest version when omitted.
    :param title: the publish title, at most 128 characters (default: DAG, task and run).
    :param notes: publish notes.
    :param operator_email: the publishing user's email (default: the connection's login).
    :param wait_for_completion: wait until every target is ``published`` (fails at once on ``stopped``).
    :param deferrable: wait in the triggerer instead of a worker slot (not templated: Airflow reads it
        before rendering).
    :param poll_interval: seconds between status polls (at least 1).
    :param timeout_seconds: how long to wait for completion.
    :return: ``{"publish_id", "account", "profile", "version_id", "targets", "state", "requested_at"}``;
        ``state`` is ``"published"`` (with ``target_states``) after a wait, ``"started"`` otherwise;
        ``requested_at`` is the ISO 8601 UTC time taken just before the publish request was sent (a
        baseline for :class:`~airflow_provider_tealium.sensors.revisions.TealiumRevisionSensor`).

    Every argument but ``deferrable`` is templated; numbers and flags given as templates are checked
    once rendered, before any request.
    """

    template_fields: Sequence[str] = (
        "tealium_conn_id",
        "account",
        "profile",
        "targets",
        "version_id",
        "title",
        "notes",
        "operator_email",
        "wait_for_completion",
        "poll_interval",
        "timeout_seconds",
    )

    def __init__(
        self,
        *,
        targets: Sequence[str] | str,
        version_id: str | None = None,
        title: str | None = None,
        notes: str = "",
        operator_email: str | None = None,
        wait_for_completion: bool = False,
        deferrable: bool = False,
        poll_interval: float = 5.0,
        timeout_seconds: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_tealium.api.publish import validate_poll_interval

        super().__init__(**kwargs)
        check_unless_templated(wait_for_completion, flag_arg, "wait_for_completion")
        check_unless_templated(poll_interval, validate_poll_interval, "poll_interval")
        check_unless_templated(timeout_seconds, _timeout_arg, "timeout_seconds")
        self.targets = targets
        self.version_id = version_id
        self.title = title
        self.notes = notes
        self.operator_email = operator_email
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout_seconds = timeout_seconds

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate, publish, and wait if asked."""
        from airflow_provider_tealium.api.profiles import parse_version
        from airflow_provider_tealium.api.publish import validate_poll_interval, validate_publish

        # Rendered templates give strings: numbers and flags are read here, before any request.
        self.wait_for_completion = flag_arg(self.wait_for_completion, "wait_for_completion")
        self.poll_interval = validate_poll_interval(self.poll_interval)
        self.timeout_seconds = _timeout_arg(self.timeout_seconds, "timeout_seconds")
        account, profile = self._resolve(context)
        ti = context.get("ti")
        default_title = (
            f"Airflow {getattr(ti, 'dag_id', self.dag_id)}.{self.task_id} {getattr(ti, 'run_id', '')}"
        )
        title = self.title or default_title.strip()[:128]
        version_id = self.version_id
        if not version_id:
            version_id = parse_version(self.hook.get_profile(account, profile)).version_id
        publish = validate_publish(
            version_id=version_id,
            targets=self.targets,
            title=title,
            notes=self.notes,
            operator_id=self.operator_email or self.hook.config.email,
        )
        requested_at = utc_now_iso()
        publish_id = self.hook.publish_profile(publish, account, profile)
        self.log.info(
            "Publishing %s/%s version %s to %s: publish id %s",
            account,
            profile,
            publish.version_id,
            ", ".join(publish.targets),
            publish_id,
        )
        result = {
            "publish_id": publish_id,
            "account": account,
            "profile": profile,
            "version_id": publish.version_id,
            "targets": list(publish.targets),
            "state": "started",
            "requested_at": requested_at,
        }
        if not self.wait_for_completion:
            return result
        if self.deferrable:
            from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger

            self.defer(
                trigger=TealiumPublishTrigger(
                    publish_id=publish_id,
                    account=account,
                    profile=profile,
                    targets=list(publish.targets),
                    end_time=time.time() + self.timeout_seconds,
                    poll_interval=self.poll_interval,
                    tealium_conn_id=self.tealium_conn_id,
                    version_id=publish.version_id,
                    requested_at=requested_at,
                ),
                method_name="execute_complete",
            )
        return self._wait(result)

    def _wait(self, result: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_tealium.api.publish import published_result
        from airflow_provider_tealium.exceptions import TealiumError
        from airflow_provider_tealium.sensors.publish import fail_now

        deadline = time.monotonic() + self.timeout_seconds
        while True:
            status = self.hook.get_publish_status(
                result["publish_id"], result["account"], result["profile"], result["targets"]
            )
            if status.stopped:
                raise fail_now(
                    f"Publish {result['publish_id']} stopped for {', '.join(status.stopped)} ({status.summary()})"
                )
            if status.done:
                return published_result(
                    result["publish_id"],
                    result["account"],
                    result["profile"],
                    status.to_dict()["targets"],
                    version_id=result["version_id"],
                    requested_at=result["requested_at"],
                )
            if time.monotonic() + self.poll_interval > deadline:
                raise TealiumError(
                    f"Publish {result['publish_id']} not finished after {self.timeout_seconds:g} s ({status.summary()})"
                )
            self.log.info("Publish %s: %s", result["publish_id"], status.summary())
            time.sleep(self.poll_interval)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired.

        :param event: the trigger's event.
        """
        from airflow_provider_tealium.sensors.publish import handle_publish_event

        return handle_publish_event(event)


def _timeout_arg(value: Any, name: str) -> float:
    return seconds_arg(value, name, positive=True)
