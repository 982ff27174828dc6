"""Hosted Data Layer operators: upload (one or many, rate-limited) and delete, with a link to the published file."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_tealium.api.defaults import DLE_REQUESTS_PER_SECOND
from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID as DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError
from airflow_provider_tealium.links import TealiumDataLayerLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_tealium.hooks.rate_limit import TokenBucket
    from airflow_provider_tealium.hooks.tealium import TealiumHook


class _DataLayerOperatorBase(BaseOperator):
    """Connection, account and profile handling shared by the data layer operators."""

    def __init__(
        self,
        *,
        account: str | None = None,
        profile: str | None = None,
        file_type: str | None = None,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        request_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account = account
        self.profile = profile
        self.file_type = file_type
        self.tealium_conn_id = tealium_conn_id
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.request_timeout = request_timeout

    def _hook_kwargs(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "profile": self.profile,
            "max_retries": self.max_retries,
            "backoff_base": self.backoff_base,
            "backoff_max": self.backoff_max,
            "timeout": self.request_timeout,
        }

    @cached_property
    def hook(self) -> TealiumHook:
        """The sync hook (built on first use, never at DAG parse)."""
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        return TealiumHook(self.tealium_conn_id, **self._hook_kwargs())


class TealiumUploadDataLayerOperator(_DataLayerOperatorBase):
    """Upload one Hosted Data Layer or many, validated first, rate-limited, reporting exactly what landed.

    One: ``datalayer_id`` + ``data``. Many: ``datalayers``, a mapping id -> data, a path or
    ``ObjectStoragePath`` to a ``.json`` file (an object id -> data) or a ``.jsonl`` file (one
    ``{"datalayer_id": ..., "data": {...}}`` per line, streamed). Every item is validated before the
    first request and all invalid ones are reported together. Many are sent by ``max_workers``
    threads under a shared token bucket of ``requests_per_second``; each request is retried on 429,
    5xx and connection errors (uploads are idempotent).

    Returns (XCom) ``{"account", "profile", "file_type", "mode", "total", "landed": [ids],
    "failed": {id: error}, "started_at", "finished_at", "skipped", "complete"}``; the same value is
    pushed before the task fails when any upload failed, and a partial one (``"complete": false``) when
    the task is interrupted mid-run, so a rerun can pass it as ``retry_failed_from``.

    :param datalayer_id: the id of a single data layer.
    :param data: the single data layer (a JSON object).
    :param datalayers: many data layers (see above).
    :param mode: ``create`` (POST), ``update`` (PUT) or ``upsert`` (PUT, POST if Tealium does not know it).
    :param file_type: ``None`` (a JavaScript data layer object), ``json`` or ``javascript``.
    :param account: the account (default: the connection's).
    :param profile: the profile (default: the connection's).
    :param requests_per_second: client-side limit, default 50, at most 100 (Tealium's maximum).
    :param max_workers: concurrent requests (default: enough to keep ``requests_per_second`` with answers
        taking up to 250 ms, at least 8: 13 at 50/s, 25 at 100/s).
    :param only_ids: send only these ids from the source.
    :param retry_failed_from: a previous result (e.g. ``"{{ ti.xcom_pull('upload') }}"``); only its
        failed ids are sent, or, from an interrupted run's result (``"complete": false``), every id it did
        not land. If it is given but renders to nothing (the previous upload pushed no result), the task
        fails rather than silently sending everything.
    :param progress_interval: seconds between progress lines in the task log.
    :param tealium_conn_id: the ``tealium`` connection.
    :param max_retries: overrides the connection's retries per request.
    :param backoff_base: overrides the connection's first backoff (seconds).
    :param backoff_max: overrides the connection's backoff ceiling (seconds).
    :param request_timeout: overrides the connection's per-attempt timeout (seconds).
    """

    template_fields: Sequence[str] = (
        "datalayer_id",
        "data",
        "datalayers",
        "mode",
        "file_type",
        "account",
        "profile",
        "only_ids",
        "retry_failed_from",
        "tealium_conn_id",
    )
    template_fields_renderers = {"data": "json", "datalayers": "json", "retry_failed_from": "json"}
    operator_extra_links = (TealiumDataLayerLink(),)
    ui_color = "#2b7de9"

    def __init__(
        self,
        *,
        datalayer_id: str | None = None,
        data: Any = None,
        datalayers: Any = None,
        mode: str = "create",
        requests_per_second: float = DLE_REQUESTS_PER_SECOND,
        max_workers: int | None = None,
        only_ids: list[str] | None = None,
        retry_failed_from: Any = None,
        progress_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.datalayer_id = datalayer_id
        self.data = data
        self.datalayers = datalayers
        self.mode = mode
        self.requests_per_second = requests_per_second
        self.max_workers = max_workers
        self.only_ids = only_ids
        self.retry_failed_from = retry_failed_from
        self.progress_interval = progress_interval

    def _source(self) -> Any:
        single = self.datalayer_id is not None or self.data is not None
        if single == (self.datalayers is not None):
            raise TealiumValidationError(
                "datalayers", "pass either datalayer_id and data (one) or datalayers (many), not both"
            )
        if single:
            return {self.datalayer_id: self.data}
        return self.datalayers

    def _push_partial(self, context: Context, partial: Any) -> None:
        # Killed or timed out mid-run: leave what landed in XCom, so a rerun from it
        # (retry_failed_from) sends only what did not, instead of everything or nothing.
        if partial is None or partial.complete:
            return
        result = partial.to_dict()
        self.log.warning(
            "Interrupted after %d of %d data layers landed (%d failed so far); the partial result is in "
            "the task's XCom: a rerun with retry_failed_from set to it sends everything that did not land.",
            len(result["landed"]),
            result["total"],
            len(result["failed"]),
        )
        try:
            context["ti"].xcom_push(key="return_value", value=result)
        except Exception as exc:  # the interruption is what the task reports, not this
            self.log.warning("Could not keep the partial result: %s", exc)

    def _previous_result(self) -> Any:
        value = self.retry_failed_from
        if value is None:
            return None
        if isinstance(value, str):
            value = _parse_result(value) if value.strip() else None
        if value is None:
            # A rerun is asked for but there is nothing to rerun from: sending the whole source instead
            # would hide that the previous upload ended without a result (killed, timed out).
            raise TealiumValidationError(
                "retry_failed_from",
                "rendered to nothing: the previous upload left no result (was it killed before the end?). "
                "Pass only_ids, or leave retry_failed_from unset to send everything",
            )
        return value

    def _hook_factory(self, limiter: TokenBucket) -> TealiumHook:
        from airflow_provider_tealium.hooks.datalayers_bulk import RateLimitedTealiumHook

        # self.hook.config is read here, in the task's thread, before the workers start (see config=).
        return RateLimitedTealiumHook(
            self.tealium_conn_id, rate_limiter=limiter, config=self.hook.config, **self._hook_kwargs()
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate, upload, push the result; fail if any data layer failed after retries."""
        from airflow_provider_tealium.api import datalayers as dle
        from airflow_provider_tealium.hooks.datalayers_bulk import BulkUploader

        source = self._source()
        retry_from = self._previous_result()
        account, profile = self.hook.dle_account_profile(self.account, self.profile)
        uploader = BulkUploader(
            self._hook_factory,
            account=account,
            profile=profile,
            file_type=self.file_type,
            mode=self.mode,
            requests_per_second=self.requests_per_second,
            max_workers=self.max_workers,
            progress_interval=self.progress_interval,
            log=self.log,
        )
        try:
            result = uploader.upload(source, only_ids=self.only_ids, retry_failed_from=retry_from).to_dict()
        except BaseException:
            self._push_partial(context, uploader.partial)
            raise
        if result["landed"]:
            TealiumDataLayerLink().persist(
                context, dle.cdn_url(account, profile, result["landed"][0], self.file_type)
            )
        self.log.info("%d landed, %d failed", len(result["landed"]), len(result["failed"]))
        if result["failed"]:
            # Pushed before failing, so a rerun can take exactly the failed ids from it.
            context["ti"].xcom_push(key="return_value", value=result)
            shown = "; ".join(f"{k}: {v}" for k, v in list(result["failed"].items())[:10])
            more = f" (and {len(result['failed']) - 10} more)" if len(result["failed"]) > 10 else ""
            raise TealiumError(
                f"{len(result['failed'])} of {result['total']} data layer upload(s) failed: {shown}{more}. "
                f"{len(result['landed'])} landed. The task's XCom lists them; rerun with "
                "retry_failed_from set to it to send only the failed ones."
            )
        return result


class TealiumDeleteDataLayerOperator(_DataLayerOperatorBase):
    """Delete one Hosted Data Layer or many.

    Returns (XCom) ``{"deleted": [ids], "missing": [ids], "failed": {id: error}}``. The task fails
    when a deletion failed, or when an id was unknown to Tealium and ``missing_ok`` is false.

    :param datalayer_ids: one id or a list.
    :param missing_ok: treat ids Tealium does not know (404) as deleted (default true: deleting is
        then safe to repeat).
    :param file_type: ``None``, ``json`` or ``javascript``.
    :param account: the account (default: the connection's).
    :param profile: the profile (default: the connection's).
    :param requests_per_second: client-side limit for many ids, default 50, at most 100.
    :param tealium_conn_id: the ``tealium`` connection.
    """

    template_fields: Sequence[str] = ("datalayer_ids", "file_type", "account", "profile", "tealium_conn_id")

    def __init__(
        self,
        *,
        datalayer_ids: str | list[str],
        missing_ok: bool = True,
        requests_per_second: float = DLE_REQUESTS_PER_SECOND,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.datalayer_ids = datalayer_ids
        self.missing_ok = missing_ok
        self.requests_per_second = requests_per_second

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate every id, then delete them one by one at the rate limit."""
        from airflow_provider_tealium.api import datalayers as dle
        from airflow_provider_tealium.hooks.rate_limit import TokenBucket

        ids = [self.datalayer_ids] if isinstance(self.datalayer_ids, str) else list(self.datalayer_ids or [])
        if not ids:
            raise TealiumValidationError("datalayer_ids", "must name at least one data layer")
        kind = dle.parse_file_type(self.file_type)
        rate = dle.validate_rate(self.requests_per_second)
        account, profile = self.hook.dle_account_profile(self.account, self.profile)
        errors = [e for i in ids for e in dle.datalayer_id_errors(account, profile, i)]
        dle.raise_errors(errors)
        limiter = TokenBucket(rate, burst=1)
        result: dict[str, Any] = {"deleted": [], "missing": [], "failed": {}}
        for datalayer_id in ids:
            limiter.acquire()
            try:
                found = self.hook.delete_datalayer(
                    datalayer_id, account=account, profile=profile, file_type=kind
                )
            except TealiumError as exc:
                result["failed"][datalayer_id] = str(exc)
                continue
            result["deleted" if found else "missing"].append(datalayer_id)
        self.log.info(
            "Deleted %d, missing %d, failed %d",
            len(result["deleted"]),
            len(result["missing"]),
            len(result["failed"]),
        )
        problems = dict(result["failed"])
        if not self.missing_ok:
            problems.update(dict.fromkeys(result["missing"], "not found (404)"))
        if problems:
            context["ti"].xcom_push(key="return_value", value=result)
            shown = "; ".join(f"{k}: {v}" for k, v in list(problems.items())[:10])
            raise TealiumError(f"{len(problems)} data layer deletion(s) failed: {shown}")
        return result


def _parse_result(text: str) -> Any:
    """A previous result rendered by a template: JSON, or the Python repr Jinja gives a dict."""
    import ast
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise TealiumValidationError(
            "retry_failed_from", "must be a previous upload result (a dict)"
        ) from None
