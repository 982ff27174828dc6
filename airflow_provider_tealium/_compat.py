"""The few places where Airflow 3.0 and later 3.x releases differ; everything else imports ``airflow.sdk``."""

from __future__ import annotations

import sys
import threading
from contextlib import suppress
from typing import TYPE_CHECKING, Any

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0: the Task SDK did not export BaseHook yet
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

if TYPE_CHECKING:
    from airflow.sdk import Connection

try:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
except ImportError:  # Airflow 3.0 defines them only in core (deprecated there from 3.1)
    from airflow.exceptions import (  # type: ignore[no-redef,unused-ignore]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "TaskDeferred",
    "aget_connection",
    "amask_secret",
    "mask_secret",
]

try:
    from airflow.sdk.log import mask_secret as _mask_secret
except ImportError:  # Airflow 3.0 kept it under the execution-time package
    from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
        mask_secret as _mask_secret,
    )

try:  # Airflow 3.3+: masks locally and tells the supervisor through the async channel
    from airflow.sdk.log import amask_secret as _amask_secret
except ImportError:
    _amask_secret = None  # type: ignore[assignment]


_MASKED: set[str] = set()
_MASK_LOCK = threading.Lock()


def _mask_key(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def mask_secret(value: Any) -> None:
    """Register ``value`` with Airflow's secrets masker so it is redacted from logs and rendered fields.

    For threads only: coroutines use :func:`amask_secret`. Each value is registered once per process,
    under a lock. Registering also tells the task's supervisor, and Airflow's supervisor channel is not
    thread-safe: a bulk upload's worker threads may mint a token, and concurrent registrations could leave
    the task without its channel (on Airflow 3.0 the task's own XCom push then failed with "cannot import
    name 'SUPERVISOR_COMMS'"). For the same reason worker threads never look the connection up themselves
    (see ``RateLimitedTealiumHook``).

    :param value: the secret; empty values are ignored (masking "" would redact nothing useful).
    """
    if not value:
        return
    with _MASK_LOCK:
        key = _mask_key(value)
        if key in _MASKED:
            return
        _mask_secret(value)
        _MASKED.add(key)


async def amask_secret(value: Any) -> None:
    """:func:`mask_secret` for coroutines (triggers): never blocks the event loop.

    No lock: in the 3.3 triggerer a sync supervisor call is re-entered into the loop through
    ``greenback``, which runs other coroutines mid-call; a ``threading.Lock`` held across it deadlocked
    the loop as soon as a second trigger asked for it. The value is marked before the first ``await``,
    so two coroutines never both register it. On 3.0, which has no async variant, the value is added to
    this process's masker and sent over the channel's async side; in a task process (``dag.test()``
    runs triggers there) the channel is the task's own, which is synchronous.

    :param value: the secret; empty values are ignored.
    """
    if not value:
        return
    key = _mask_key(value)
    if key in _MASKED:
        return
    _MASKED.add(key)
    if _amask_secret is not None:
        await _amask_secret(value)
        return
    _mask_secret_locally_30(value)
    # Only modules the running process has loaded already: importing on the event loop is not allowed.
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    comms_module = sys.modules.get("airflow.sdk.execution_time.comms")
    comms = getattr(runner, "SUPERVISOR_COMMS", None)
    if comms is None or comms_module is None:
        return
    message = comms_module.MaskSecret(value=value, name=None)
    with suppress(Exception):  # as Airflow's own maskers do: masking must never fail the caller
        asend = getattr(comms, "asend", None)
        if asend is not None:
            await asend(message)
        else:
            comms.send(message)


def _mask_secret_locally_30(value: Any) -> None:
    """Airflow 3.0: add ``value`` to this process's masker without telling the supervisor."""
    from airflow.sdk.execution_time.secrets_masker import _secrets_masker

    with suppress(RuntimeError):  # no masker configured (a bare interpreter): nothing to redact
        _secrets_masker().add_mask(value, None)


if hasattr(BaseHook, "aget_connection"):  # Airflow 3.1+

    async def aget_connection(conn_id: str) -> Connection:
        """Look a connection up without blocking the event loop (Airflow's async lookup).

        :param conn_id: the connection id.
        """
        return await BaseHook.aget_connection(conn_id)  # type: ignore[attr-defined,no-any-return,unused-ignore]

else:  # Airflow 3.0: the sync lookup in a worker thread, whose channel calls come back to the loop
    from asgiref.sync import sync_to_async

    async def aget_connection(conn_id: str) -> Connection:
        """Look a connection up without blocking the event loop (the sync lookup in a worker thread).

        :param conn_id: the connection id.
        """
        return await sync_to_async(BaseHook.get_connection)(conn_id)  # type: ignore[no-any-return,unused-ignore]
