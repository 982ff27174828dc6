"""A sensor that waits for a publish to reach every target."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.links import TealiumProfileLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_tealium.hooks.tealium import TealiumHook


def fail_now(message: str) -> Exception:
    """An error that fails the task without retries (a stopped publish will not start by itself).

    :param message: the message.
    """
    from airflow_provider_tealium._compat import AirflowFailException

    return AirflowFailException(message)


def read_publish(value: Any) -> tuple[str, list[str] | None, str | None]:
    """``(publish_id, targets, requested_at)`` from a publish id or from the result of an upstream
    :class:`~airflow_provider_tealium.operators.publish.TealiumPublishOperator`: a dict (``publish.output``,
    or a template rendered as native objects) or a template's rendering of one (JSON or Python repr).

    :param value: the sensor's ``publish_id`` argument, rendered.
    :raises TealiumValidationError: when it is neither.
    """
    from airflow_provider_tealium.exceptions import TealiumValidationError

    if isinstance(value, str) and value.lstrip().startswith("{"):
        import ast
        import json

        try:
            value = json.loads(value)
        except ValueError:
            try:
                value = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                raise TealiumValidationError(
                    "publish_id", "must be a publish id or a TealiumPublishOperator result", value=value
                ) from None
    if isinstance(value, Mapping):
        publish_id = value.get("publish_id")
        if not isinstance(publish_id, str | int) or not str(publish_id).strip():
            raise TealiumValidationError(
                "publish_id", "a publish result must carry a publish_id", value=dict(value)
            )
        targets = value.get("targets")
        requested_at = value.get("requested_at")
        return (
            str(publish_id),
            [str(t) for t in targets] if isinstance(targets, list | tuple) else None,
            requested_at if isinstance(requested_at, str) and requested_at else None,
        )
    if not isinstance(value, str | int) or not str(value).strip():
        raise TealiumValidationError("publish_id", "is required", value=value)
    return str(value), None, None


def handle_publish_event(event: dict[str, Any]) -> dict[str, Any]:
    """Turn a :class:`~airflow_provider_tealium.triggers.publish.TealiumPublishTrigger` event into the
    task's result, or raise.

    :param event: the event payload.
    """
    from airflow_provider_tealium.api.publish import published_result
    from airflow_provider_tealium.exceptions import TealiumError

    status = event.get("status")
    if status == "success":
        return published_result(
            str(event["publish_id"]),
            str(event.get("account")),
            str(event.get("profile")),
            event.get("target_states") or {},
            version_id=event.get("version_id"),
            requested_at=event.get("requested_at"),
        )
    if event.get("reason") == "stopped":
        raise fail_now(str(event["message"]))
    raise TealiumError(str(event.get("message") or f"publish wait ended with {status!r}"))


class TealiumPublishSensor(BaseSensorOperator):
    """Wait until a publish is ``published`` on every target; fail at once if one is ``stopped``.

    :param publish_id: the publish id, or the whole result of the upstream ``TealiumPublishOperator``
        (``publish.output``, or ``"{{ ti.xcom_pull(task_ids='publish') }}"``), which also gives
        ``targets`` and ``requested_at`` (templated).
    :param targets: the targets published, to read a single-state answer (optional).
    :param tealium_conn_id: the ``tealium`` connection.
    :param account: the account (default from the connection).
    :param profile: the profile (default from the connection).
    :param deferrable: hand the wait to the triggerer (not templated: Airflow reads it before rendering).
    :param poke_interval: seconds between polls; at least 1 (Tealium answers 429 to faster polling).
    :return: ``{"publish_id", "account", "profile", "targets", "target_states", "state": "published"}``,
        plus ``requested_at`` (ISO 8601 UTC, a baseline for
        :class:`~airflow_provider_tealium.sensors.revisions.TealiumRevisionSensor`) when ``publish_id``
        is an upstream result that carries it.
    """

    template_fields: Sequence[str] = ("tealium_conn_id", "publish_id", "targets", "account", "profile")
    operator_extra_links = (TealiumProfileLink(),)

    def __init__(
        self,
        *,
        publish_id: str | Mapping[str, Any],
        targets: Sequence[str] | None = None,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        account: str | None = None,
        profile: str | None = None,
        deferrable: bool = False,
        poke_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_tealium.api.publish import validate_poll_interval

        super().__init__(poke_interval=validate_poll_interval(poke_interval, "poke_interval"), **kwargs)
        self.publish_id = publish_id
        self.targets = targets
        self.tealium_conn_id = tealium_conn_id
        self.account = account
        self.profile = profile
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> TealiumHook:
        """The hook (built on first use)."""
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        return TealiumHook(self.tealium_conn_id, account=self.account, profile=self.profile)

    def _publish(self) -> tuple[str, list[str], str | None]:
        """The publish id, targets and request time, from the rendered arguments."""
        publish_id, targets, requested_at = read_publish(self.publish_id)
        return publish_id, list(self.targets or targets or []), requested_at

    def _resolve(self, context: Context) -> tuple[str, str]:
        """The account and profile polled; stores the task's link to them (before any deferral)."""
        account, profile = self.hook.account_profile(self.account, self.profile)
        TealiumProfileLink().persist_profile(context, account, profile)
        return account, profile

    def poke(self, context: Context) -> PokeReturnValue | bool:
        """One status poll."""
        from airflow_provider_tealium.api.publish import published_result

        publish_id, targets, requested_at = self._publish()
        account, profile = self._resolve(context)
        status = self.hook.get_publish_status(publish_id, account, profile, targets)
        if status.stopped:
            raise fail_now(
                f"Publish {publish_id} stopped for {', '.join(status.stopped)} ({status.summary()})"
            )
        self.log.info("Publish %s: %s", publish_id, status.summary())
        if not status.done:
            return False
        states = status.to_dict()["targets"]
        return PokeReturnValue(
            True, xcom_value=published_result(publish_id, account, profile, states, requested_at=requested_at)
        )

    def execute(self, context: Context) -> Any:
        """Poll here, or defer to the triggerer."""
        if not self.deferrable:
            return super().execute(context)
        from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger

        publish_id, targets, requested_at = self._publish()
        account, profile = self._resolve(context)
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else float(self.timeout)
        self.defer(
            trigger=TealiumPublishTrigger(
                publish_id=publish_id,
                account=account,
                profile=profile,
                targets=targets,
                end_time=time.time() + timeout,
                poll_interval=self.poke_interval
                if not isinstance(self.poke_interval, timedelta)
                else self.poke_interval.total_seconds(),
                tealium_conn_id=self.tealium_conn_id,
                requested_at=requested_at,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired.

        :param event: the trigger's event.
        """
        return handle_publish_event(event)
