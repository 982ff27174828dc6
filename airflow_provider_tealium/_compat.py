"""The few places where Airflow 3.0 and later 3.x releases differ; everything else imports ``airflow.sdk``."""

from __future__ import annotations

import threading
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
    "mask_secret",
]

try:
    from airflow.sdk.log import mask_secret as _mask_secret
except ImportError:  # Airflow 3.0 kept it under the execution-time package
    from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
        mask_secret as _mask_secret,
    )


_MASKED: set[str] = set()
_MASK_LOCK = threading.Lock()


def mask_secret(value: Any) -> None:
    """Register ``value`` with Airflow's secrets masker so it is redacted from logs and rendered fields.

    Each value is registered once per process, under a lock. Registering also tells the task's supervisor,
    and Airflow's supervisor channel is not thread-safe: a bulk upload's worker threads may mint a token,
    and concurrent registrations could leave the task without its channel (on Airflow 3.0 the task's own
    XCom push then failed with "cannot import name 'SUPERVISOR_COMMS'"). For the same reason worker
    threads never look the connection up themselves (see ``RateLimitedTealiumHook``).

    :param value: the secret; empty values are ignored (masking "" would redact nothing useful).
    """
    if not value:
        return
    with _MASK_LOCK:
        key = value if isinstance(value, str) else repr(value)
        if key in _MASKED:
            return
        _mask_secret(value)
        _MASKED.add(key)


async def aget_connection(conn_id: str) -> Connection:
    """Look a connection up without blocking the event loop.

    Airflow 3.1+ has ``BaseHook.aget_connection``; on 3.0 the sync lookup runs in a worker thread.

    :param conn_id: the connection id.
    """
    aget = getattr(BaseHook, "aget_connection", None)
    if aget is not None:
        return await aget(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)
