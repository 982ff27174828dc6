"""Bulk Hosted Data Layer uploads: validate everything, then send with bounded concurrency under a rate limit.

Used by :class:`~airflow_provider_tealium.operators.datalayers.TealiumUploadDataLayerOperator`; usable
on its own. Sources are read twice (once to validate, once to send), never held whole in memory, so a
JSON Lines file of a million data layers costs the memory of the ids only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pendulum

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.api.request import ApiRequest
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError, TealiumValidationErrors
from airflow_provider_tealium.hooks.rate_limit import TokenBucket
from airflow_provider_tealium.hooks.tealium import TealiumHook

JSONL_SUFFIXES = (".jsonl", ".ndjson")
Source = Any
"""A mapping id -> data, a path (``str``/``Path``/``ObjectStoragePath``) to JSON or JSON Lines, or an
iterable of ``(id, data)`` pairs that can be iterated twice."""


class RateLimitedTealiumHook(TealiumHook):
    """A :class:`TealiumHook` whose every attempt (retries included) first takes a token from a shared bucket.

    Each worker thread builds its own (``requests.Session`` is not thread-safe); they share the bucket
    and, through the process-wide token cache, one v2 token. Pass ``config=`` (the settings the task's
    own thread read): worker threads must not look the connection up themselves. Inside a task a lookup
    goes through Airflow's supervisor channel, which is not thread-safe; on Airflow 3.0, concurrent
    lookups left the task unable to push its XCom.

    :param rate_limiter: the shared bucket.
    """

    def __init__(self, *args: Any, rate_limiter: TokenBucket | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rate_limiter = rate_limiter
        self.stop: threading.Event | None = None  # set by BulkUploader: the run was interrupted

    def _transport_before_send(self, request: ApiRequest) -> None:
        if self.stop is not None and self.stop.is_set():
            raise UploadStopped(f"{request.description}: not sent, the upload was interrupted")
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()


class UploadStopped(TealiumError):
    """An upload not (re)sent because its run was interrupted: it did not land, nor did it fail."""


def _open_text(source: Any) -> IO[str]:
    if isinstance(source, str):
        return open(source, encoding="utf-8")
    # Path, ObjectStoragePath and anything path-like: their own open(). Some ObjectStoragePath versions
    # subclass pathlib.Path, and str() of those is a URL the builtin open() cannot read.
    return source.open("r", encoding="utf-8")


def _is_path(source: Any) -> bool:
    return isinstance(source, (str, Path)) or (hasattr(source, "open") and hasattr(source, "name"))


def iter_source(source: Source) -> Iterator[tuple[Any, Any]]:
    """Yield ``(datalayer_id, data)`` pairs from a source, streaming JSON Lines.

    JSON Lines (``.jsonl``/``.ndjson``): one ``{"datalayer_id": ..., "data": {...}}`` per line (blank
    lines skipped). A ``.json`` file: one object mapping ids to data layers (parsed whole: prefer JSON
    Lines for large inputs).

    :param source: see :data:`Source`.
    :raises TealiumValidationError: for unreadable lines, naming the line.
    """
    if isinstance(source, Mapping):
        yield from source.items()
        return
    if not _is_path(source):
        yield from source
        return
    name = str(getattr(source, "name", source))
    with _open_text(source) as handle:
        if not name.endswith(JSONL_SUFFIXES):
            try:
                body = json.load(handle)
            except ValueError as exc:
                raise TealiumValidationError(f"datalayers ({name})", f"must be valid JSON: {exc}") from None
            if not isinstance(body, dict):
                raise TealiumValidationError(
                    f"datalayers ({name})", "a .json source must be an object mapping ids to data layers"
                )
            yield from body.items()
            return
        # readline, not iteration: Airflow 3.0's ObjectStoragePath file wrapper does not implement __iter__.
        for number, line in enumerate(iter(handle.readline, ""), start=1):
            if not line.strip():
                continue
            where = f"datalayers ({name} line {number})"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise TealiumValidationError(where, f"must be valid JSON: {exc}") from None
            if not isinstance(record, dict) or "datalayer_id" not in record or "data" not in record:
                raise TealiumValidationError(where, 'must be {"datalayer_id": ..., "data": {...}}')
            yield record["datalayer_id"], record["data"]


@dataclass(frozen=True)
class Selection:
    """Which ids of the source a run sends.

    :param include: only these (``None``: every id of the source).
    :param exclude: never these (those an interrupted run had already landed).
    """

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    def wants(self, datalayer_id: Any) -> bool:
        """Whether ``datalayer_id`` is sent.

        :param datalayer_id: an id of the source.
        """
        if not isinstance(datalayer_id, str):
            # Not an id at all (validation reports it): never in a set of ids, so only an unlimited run has it.
            return self.include is None
        return datalayer_id not in self.exclude and (self.include is None or datalayer_id in self.include)


def selected_ids(only_ids: Iterable[str] | None, retry_failed_from: Mapping[str, Any] | None) -> Selection:
    """The ids a rerun sends: ``only_ids``, plus what a previous result says did not land.

    A complete previous result names every id that failed: those are sent. An interrupted one (killed,
    timed out: ``"complete": false``) cannot name the ids it never reached, so everything it did not
    land is sent again (uploads of the same content are idempotent).

    :param only_ids: ids to send.
    :param retry_failed_from: a previous :class:`BulkResult` as a dict.
    """
    if only_ids is None and retry_failed_from is None:
        return Selection()
    chosen = {str(i) for i in only_ids or ()}
    if retry_failed_from is None:
        return Selection(frozenset(chosen))
    if not isinstance(retry_failed_from, Mapping) or not isinstance(retry_failed_from.get("failed"), Mapping):
        raise TealiumValidationError(
            "retry_failed_from", "must be a previous upload result (a dict with a 'failed' mapping)"
        )
    if retry_failed_from.get("complete", True) is False:
        landed = frozenset(str(i) for i in retry_failed_from.get("landed") or ())
        return Selection(frozenset(chosen) if only_ids is not None else None, landed)
    chosen.update(str(k) for k in retry_failed_from["failed"])
    return Selection(frozenset(chosen))


@dataclass
class BulkResult:
    """What a bulk upload did, exactly.

    :param account: the account.
    :param profile: the profile.
    :param file_type: the file type (``None``: JavaScript object).
    :param mode: create, update or upsert.
    :param total: data layers sent.
    :param landed: ids Tealium accepted.
    :param failed: id -> the final error.
    :param started_at: when sending began (ISO 8601, UTC): the sensor's default ``since``.
    :param finished_at: when the last answer came.
    :param skipped: source items not sent because a rerun was limited to other ids.
    :param complete: false when the run was interrupted (killed, timed out) before every item was sent:
        ``failed`` then lists only the failures seen so far, and a rerun from this result sends
        everything not in ``landed``.
    """

    account: str
    profile: str
    file_type: str | None
    mode: str
    total: int = 0
    landed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    skipped: int = 0
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, for XCom."""
        return {
            "account": self.account,
            "profile": self.profile,
            "file_type": self.file_type,
            "mode": self.mode,
            "total": self.total,
            "landed": list(self.landed),
            "failed": dict(self.failed),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "skipped": self.skipped,
            "complete": self.complete,
        }


class BulkUploader:
    """Validate every item, then upload them with ``max_workers`` threads at ``requests_per_second``.

    :param hook_factory: builds one hook per worker thread, given the shared rate limiter.
    :param account: the account.
    :param profile: the profile.
    :param file_type: ``None``, ``json`` or ``javascript``.
    :param mode: ``create``, ``update`` or ``upsert``.
    :param requests_per_second: the client-side limit (default 50, at most 100).
    :param max_workers: concurrent requests (default: enough to keep the rate with 250 ms answers,
        at least 8; see :func:`~airflow_provider_tealium.api.datalayers.default_workers`).
    :param progress_interval: seconds between progress lines.
    :param log: where progress goes.
    """

    def __init__(
        self,
        hook_factory: Callable[[TokenBucket], TealiumHook],
        *,
        account: str,
        profile: str,
        file_type: dle.FileType | str | None = None,
        mode: dle.UploadMode | str = dle.UploadMode.CREATE,
        requests_per_second: float = dle.DEFAULT_REQUESTS_PER_SECOND,
        max_workers: int | None = None,
        progress_interval: float = 5.0,
        log: Any = None,
    ) -> None:
        self.account = account
        self.profile = profile
        self.file_type = dle.parse_file_type(file_type)
        self.mode = dle.parse_mode(mode)
        self.rate = dle.validate_rate(requests_per_second)
        if max_workers is None:
            max_workers = dle.default_workers(self.rate)
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise TealiumValidationError("max_workers", "must be an integer >= 1", value=max_workers)
        self.max_workers = max_workers
        self.progress_interval = progress_interval
        self.hook_factory = hook_factory
        self.log = log
        self._local = threading.local()
        self._hooks: list[TealiumHook] = []
        self._hooks_lock = threading.Lock()
        self._stop = threading.Event()
        self.partial: BulkResult | None = None

    # -- validation -------------------------------------------------------------------------------------

    def validate(self, source: Source, only: Selection | None = None) -> tuple[int, int]:
        """Check every (selected) item without sending; returns ``(to send, skipped)``.

        :param source: the items.
        :param only: which ids to send (a rerun); default all.
        :raises TealiumValidationErrors: listing every invalid item (and duplicate or unknown ids).
        """
        only = only or Selection()
        errors: list[TealiumValidationError] = []
        seen: set[str] = set()
        count = skipped = 0
        for datalayer_id, data in iter_source(source):
            if not only.wants(datalayer_id):
                skipped += 1
                continue
            if isinstance(datalayer_id, str) and datalayer_id in seen:
                errors.append(
                    TealiumValidationError(
                        dle.item_field(datalayer_id, "datalayer_id"), "appears more than once"
                    )
                )
                continue
            item_errors, _ = dle.upload_errors(self.account, self.profile, datalayer_id, data)
            errors.extend(item_errors)
            if isinstance(datalayer_id, str):
                seen.add(datalayer_id)
            count += 1
        if only.include is not None:
            missing = sorted(only.include - seen - only.exclude)
            if missing:
                errors.append(
                    TealiumValidationError(
                        "only_ids", "names ids that are not in the source", value=missing[:20]
                    )
                )
        if count == 0 and not errors:
            errors.append(TealiumValidationError("datalayers", "has nothing to upload"))
        if errors:
            raise errors[0] if len(errors) == 1 else TealiumValidationErrors(errors)
        return count, skipped

    # -- sending ----------------------------------------------------------------------------------------

    def _hook(self, limiter: TokenBucket) -> TealiumHook:
        hook = getattr(self._local, "hook", None)
        if hook is None:
            hook = self.hook_factory(limiter)
            if isinstance(hook, RateLimitedTealiumHook):
                hook.stop = self._stop
            self._local.hook = hook
            with self._hooks_lock:
                self._hooks.append(hook)
        return hook

    def _send(self, limiter: TokenBucket, upload: dle.PreparedUpload) -> None:
        self._hook(limiter).upload_prepared_datalayer(
            upload, account=self.account, profile=self.profile, file_type=self.file_type, mode=self.mode
        )

    @contextmanager
    def _executor(self) -> Iterator[ThreadPoolExecutor]:
        executor = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="tealium-dle")
        try:
            yield executor
        except BaseException:
            # Killed or timed out: uploads in flight stop at their next attempt instead of retrying on.
            self._stop.set()
            raise
        finally:
            # On an error or a kill, queued uploads are dropped rather than sent after the task ended.
            executor.shutdown(wait=True, cancel_futures=True)
            with self._hooks_lock:
                for hook in self._hooks:
                    hook.close()
                self._hooks.clear()

    def _progress(self, done: int, failed: int, total: int, started: float) -> None:
        if self.log is None:
            return
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else float("inf")
        self.log.info(
            "Data layers: %d/%d done (%d failed), %.1f/s, ETA %s",
            done,
            total,
            failed,
            rate,
            f"{eta:.0f} s" if eta != float("inf") else "unknown",
        )

    def upload(
        self,
        source: Source,
        *,
        only_ids: Iterable[str] | None = None,
        retry_failed_from: Mapping[str, Any] | None = None,
    ) -> BulkResult:
        """Validate everything, then send; never raises for failed items (see ``result.failed``).

        :param source: the items.
        :param only_ids: send only these ids.
        :param retry_failed_from: a previous result; its failed ids are sent.
        :raises TealiumValidationErrors: before any request, if any item is invalid.
        """
        only = selected_ids(only_ids, retry_failed_from)
        total, skipped = self.validate(source, only)
        result = BulkResult(
            self.account,
            self.profile,
            None if self.file_type is None else self.file_type.value,
            self.mode.value,
            total=total,
            skipped=skipped,
        )
        # A tenth of a second's worth at once at most, however many workers: any one-second window then
        # sees at most 1.1 x rate (Tealium recommends at most 100 requests a second).
        limiter = TokenBucket(self.rate, burst=max(1.0, self.rate / 10))
        result.started_at = pendulum.now("UTC").isoformat()
        started = time.monotonic()
        if self.log is not None:
            self.log.info(
                "Uploading %d data layers to %s/%s at up to %g requests/s with %d workers",
                total,
                self.account,
                self.profile,
                self.rate,
                self.max_workers,
            )
        in_flight: dict[Future[None], str] = {}
        last_log = started
        done = 0
        self.partial = result

        def collect(finished: Iterable[Future[None]]) -> None:
            nonlocal done
            for future in finished:
                datalayer_id = in_flight.pop(future)
                exc = None if future.cancelled() else future.exception()
                if future.cancelled() or isinstance(exc, UploadStopped):
                    continue  # never sent, or stopped before its answer: not landed, not failed
                if exc is None:
                    result.landed.append(datalayer_id)
                else:
                    result.failed[datalayer_id] = str(exc) if isinstance(exc, TealiumError) else repr(exc)
                done += 1

        def maybe_log(force: bool = False) -> None:
            nonlocal last_log
            now = time.monotonic()
            if force or now - last_log >= self.progress_interval:
                last_log = now
                self._progress(done, len(result.failed), total, started)

        try:
            self._send_all(source, only, limiter, in_flight, collect, maybe_log)
        except BaseException:
            # Interrupted (task killed, execution_timeout, an error reading the source): what is known
            # goes into the result, which the caller can still push; see BulkResult.complete.
            collect([future for future in list(in_flight) if future.done()])
            result.complete = False
            result.finished_at = pendulum.now("UTC").isoformat()
            raise
        result.finished_at = pendulum.now("UTC").isoformat()
        maybe_log(force=True)
        return result

    def _send_all(
        self,
        source: Source,
        only: Selection,
        limiter: TokenBucket,
        in_flight: dict[Future[None], str],
        collect: Callable[[Iterable[Future[None]]], None],
        maybe_log: Callable[[], None],
    ) -> None:
        with self._executor() as executor:
            for datalayer_id, data in iter_source(source):
                if not only.wants(datalayer_id):
                    continue
                # Validated in the first pass; prepared again here so bodies are never all held at once.
                upload = dle.prepare_upload(self.account, self.profile, datalayer_id, data)
                # Bounded queue: at most two uploads per worker wait, so memory stays flat.
                while len(in_flight) >= 2 * self.max_workers:
                    finished, _ = wait(
                        list(in_flight), timeout=self.progress_interval, return_when=FIRST_COMPLETED
                    )
                    collect(finished)
                    maybe_log()
                in_flight[executor.submit(self._send, limiter, upload)] = upload.datalayer_id
            while in_flight:
                finished, _ = wait(
                    list(in_flight), timeout=self.progress_interval, return_when=FIRST_COMPLETED
                )
                collect(finished)
                maybe_log()
