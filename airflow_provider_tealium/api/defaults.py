"""Defaults that operator and sensor signatures need when their class is defined; imports nothing.

DAG files import the operator and sensor modules at every parse, so those modules take their default
arguments from here instead of from :mod:`~airflow_provider_tealium.api.config` and friends, whose
imports are what the task needs at run time, not what the DAG processor needs at parse time. The
modules that own these values re-export them under their usual names.
"""

from __future__ import annotations

TEALIUM_CONN_ID = "tealium_default"
"""The default ``tealium`` connection id (``api.config.DEFAULT_CONN_ID``)."""

IQM_CONN_ID = "iqm_default"
"""The default ``iqm`` connection id (``api.iqm_config.DEFAULT_CONN_ID``)."""

DLE_REQUESTS_PER_SECOND = 50.0
"""The default client-side Hosted Data Layer rate (``api.datalayers.DEFAULT_REQUESTS_PER_SECOND``)."""

DLE_PER_ID_THRESHOLD = 25
"""At most this many pending data layers are polled one by one (``triggers.datalayers.DEFAULT_PER_ID_THRESHOLD``)."""

DLE_BATCH_WINDOW = 1.0
"""Seconds a shared round of data-layer reads stays open for the triggers of one event loop to join
(``TealiumDataLayerTrigger(batch_window=...)``; at most a quarter of the poll interval)."""
