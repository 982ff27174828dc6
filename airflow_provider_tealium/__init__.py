"""Apache Airflow provider for Tealium iQ, Tealium Hosted Data Layer and IQM reporting."""

from __future__ import annotations

__version__ = "0.1.0"
