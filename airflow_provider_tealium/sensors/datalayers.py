"""Sensor waiting until Hosted Data Layer uploads have landed (sync pokes or deferred to the triggerer)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_tealium._compat import AirflowFailException, AirflowSensorTimeout
from airflow_provider_tealium.api.defaults import DLE_PER_ID_THRESHOLD as DEFAULT_PER_ID_THRESHOLD
from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_tealium.hooks.tealium import TealiumHook
    from airflow_provider_tealium.triggers.landing import LandingPoller

# api.datalayers and the trigger module (airflow.triggers.base) are imported where used, not here:
# DAG files import this module at every parse.


class TealiumDataLayerSensor(BaseSensorOperator):
    """Wait until data layers have landed: GET metadata answers 200 with ``lastModified >= since``.

    Give the ids and ``since`` directly, or ``upload_task_id``: the ids that landed in that
    :class:`~airflow_provider_tealium.operators.datalayers.TealiumUploadDataLayerOperator`'s result,
    ``since`` its ``started_at``, and its account, profile and file type. ``lastModified`` is
    reported to the second, so ``since`` is compared to the second too.

    Fails at once (no retries), naming the ids, when one of them appears in Tealium's failed-uploads
    after ``since``: waiting longer would not help, the upload must be repeated. With
    ``deferrable=True`` the wait runs in the triggerer with async HTTP; one trigger polls any number
    of ids in a bounded number of requests per poll.

    Returns (XCom) ``{"landed": [ids]}``.

    :param datalayer_ids: one id or a list (default: the upload result's ``landed``).
    :param upload_task_id: task id (or ids: an upload and its rerun of failed ids) of the upload
        operator whose result supplies the defaults; with several, the ids landed by any of them and
        the earliest ``started_at``. A task that did not run (skipped) is ignored.
    :param since: ISO 8601 time or datetime (default: the upload result's ``started_at``; without
        either, any existing file counts and failed-uploads is not checked).
    :param expected_size: a size in bytes every file must have, or a mapping id -> size.
    :param fail_on_failed_uploads: fail fast on failed uploads after ``since`` (default true).
    :param file_type: ``None``, ``json`` or ``javascript`` (default: the upload result's).
    :param account: the account (default: the upload result's, else the connection's).
    :param profile: the profile (default: the upload result's, else the connection's).
    :param deferrable: wait in the triggerer.
    :param per_id_threshold: at most this many pending ids are read one by one; more use the listing.
    :param batch_window: deferred only: seconds the trigger's polls wait for other data-layer waits in
        the triggerer on the same profile, to read Tealium once for all of them (default 1 s, at most a
        quarter of ``poke_interval``; ``0`` polls alone).
    :param tealium_conn_id: the ``tealium`` connection.
    :param max_retries: overrides the connection's retries per request.
    :param backoff_base: overrides the connection's first backoff (seconds).
    """

    template_fields: Sequence[str] = (
        "datalayer_ids",
        "upload_task_id",
        "since",
        "expected_size",
        "file_type",
        "account",
        "profile",
        "tealium_conn_id",
    )

    def __init__(
        self,
        *,
        datalayer_ids: str | list[str] | None = None,
        upload_task_id: str | list[str] | None = None,
        since: Any = None,
        expected_size: int | Mapping[str, int] | None = None,
        fail_on_failed_uploads: bool = True,
        file_type: str | None = None,
        account: str | None = None,
        profile: str | None = None,
        deferrable: bool = False,
        per_id_threshold: int = DEFAULT_PER_ID_THRESHOLD,
        batch_window: float | None = None,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.datalayer_ids = datalayer_ids
        self.upload_task_id = upload_task_id
        self.since = since
        self.expected_size = expected_size
        self.fail_on_failed_uploads = fail_on_failed_uploads
        self.file_type = file_type
        self.account = account
        self.profile = profile
        self.deferrable = deferrable
        self.per_id_threshold = per_id_threshold
        self.batch_window = batch_window
        self.tealium_conn_id = tealium_conn_id
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self._poller: LandingPoller | None = None

    def _hook_params(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {"max_retries": self.max_retries, "backoff_base": self.backoff_base}.items()
            if v is not None
        }

    @cached_property
    def hook(self) -> TealiumHook:
        """The sync hook (built on first use, never at DAG parse)."""
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        return TealiumHook(self.tealium_conn_id, **self._hook_params())

    def _resolve(self, context: Context) -> None:
        """Fill the defaults from the upload task's result and check the arguments."""
        from airflow_provider_tealium.api import datalayers as dle

        if self.upload_task_id:
            task_ids = (
                [self.upload_task_id] if isinstance(self.upload_task_id, str) else list(self.upload_task_id)
            )
            results = [context["ti"].xcom_pull(task_ids=task_id) for task_id in task_ids]
            found = [r for r in results if isinstance(r, Mapping)]
            if not found:
                raise TealiumValidationError(
                    "upload_task_id", f"task(s) {', '.join(task_ids)} left no upload result in XCom"
                )
            if self.datalayer_ids is None:
                self.datalayer_ids = list(dict.fromkeys(i for r in found for i in r.get("landed") or []))
            starts = [dle.to_datetime(r["started_at"]) for r in found if r.get("started_at")]
            if not self.since and starts:
                self.since = min(starts).isoformat()
            first = found[0]
            self.file_type = self.file_type or first.get("file_type")
            self.account = self.account or first.get("account")
            self.profile = self.profile or first.get("profile")
        ids = [self.datalayer_ids] if isinstance(self.datalayer_ids, str) else list(self.datalayer_ids or [])
        if not ids:
            raise TealiumValidationError(
                "datalayer_ids", "must name at least one data layer (or upload_task_id)"
            )
        self.datalayer_ids = ids
        dle.parse_file_type(self.file_type)
        if self.since is not None and self.since != "":
            self.since = dle.to_datetime(self.since).isoformat()
        else:
            self.since = None

    def _expected_sizes(self) -> dict[str, int]:
        assert isinstance(self.datalayer_ids, list)
        if self.expected_size is None or self.expected_size == "":
            return {}
        if isinstance(self.expected_size, Mapping):
            return {str(k): int(v) for k, v in self.expected_size.items()}
        try:
            size = int(self.expected_size)
        except (TypeError, ValueError):
            raise TealiumValidationError(
                "expected_size",
                "must be a number of bytes or a mapping id -> bytes",
                value=self.expected_size,
            ) from None
        return dict.fromkeys(self.datalayer_ids, size)

    def execute(self, context: Context) -> Any:
        """Resolve the arguments, then poke here or defer to the trigger."""
        from airflow_provider_tealium.triggers.datalayers import TealiumDataLayerTrigger

        self._resolve(context)
        if not self.deferrable:
            return super().execute(context)
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else float(self.timeout)
        assert isinstance(self.datalayer_ids, list)
        self.defer(
            trigger=TealiumDataLayerTrigger(
                datalayer_ids=self.datalayer_ids,
                since=self.since,
                deadline=time.time() + timeout,
                expected_sizes=self._expected_sizes(),
                file_type=self.file_type,
                account=self.account,
                profile=self.profile,
                fail_on_failed_uploads=self.fail_on_failed_uploads,
                poll_interval=self.poke_interval
                if not isinstance(self.poke_interval, timedelta)
                else self.poke_interval.total_seconds(),
                per_id_threshold=self.per_id_threshold,
                tealium_conn_id=self.tealium_conn_id,
                hook_params=self._hook_params(),
                batch_window=self.batch_window,
            ),
            method_name="execute_complete",
            # The trigger enforces the deadline itself and says which ids were missing.
            timeout=None,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """One poll; fails fast on failed uploads."""
        from airflow_provider_tealium.api import datalayers as dle
        from airflow_provider_tealium.triggers.landing import LandingPoller

        if self._poller is None:
            assert isinstance(self.datalayer_ids, list)
            self._poller = LandingPoller(
                self.datalayer_ids,
                dle.to_datetime(self.since) if self.since else None,
                self._expected_sizes(),
                dle.parse_file_type(self.file_type),
                self.account,
                self.profile,
                self.fail_on_failed_uploads,
                self.per_id_threshold,
            )
        check = self._poller.poll(self.hook)
        if check.failed:
            raise AirflowFailException(dle.failed_message(check.failed))
        landed, total = len(self._poller.landed), len(self._poller.ids)
        self.log.info(
            "%d/%d data layers landed (%d request(s))", landed, total, self._poller.last_reads.requests
        )
        if self._poller.pending:
            sample = ", ".join(f"{k} ({v})" for k, v in list(self._poller.pending.items())[:5])
            self.log.info("Still waiting for %s%s", sample, " ..." if len(self._poller.pending) > 5 else "")
            return False
        return PokeReturnValue(is_done=True, xcom_value={"landed": sorted(self._poller.landed)})

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Act on the trigger's event.

        :param context: the task context.
        :param event: the trigger's payload.
        """
        status = event.get("status")
        if status == "success":
            landed = sorted(event.get("landed") or {})
            self.log.info("All %d data layers landed", len(landed))
            return {"landed": landed}
        if status == "timeout":
            raise AirflowSensorTimeout(event.get("message", "timed out"))
        if event.get("failed"):
            raise AirflowFailException(event.get("message", "data layer uploads failed"))
        raise TealiumError(event.get("message", f"unexpected trigger event {event!r}"))
