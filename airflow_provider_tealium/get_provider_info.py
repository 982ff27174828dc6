"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``).

Kept free of imports beyond the standard library: Airflow calls it in every process that lists providers.
"""

from __future__ import annotations

from typing import Any

_RETRY_FIELDS: dict[str, Any] = {
    "max_retries": {
        "label": "Max retries",
        "description": "Resends of a call that failed with 429, 5xx or a connection error (default 5).",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "backoff_base": {
        "label": "Backoff base (s)",
        "description": "First wait between retries in seconds; doubles per retry, with jitter (default 1).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "backoff_max": {
        "label": "Backoff ceiling (s)",
        "description": "Longest wait between two retries in seconds (default 60).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "timeout": {
        "label": "Timeout (s)",
        "description": "Seconds to wait for an answer to one attempt (default 30).",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
}

_TEALIUM_CONNECTION: dict[str, Any] = {
    "connection-type": "tealium",
    "hook-class-name": "airflow_provider_tealium.hooks.tealium.TealiumHook",
    "hook-name": "Tealium",
    "conn-fields": {
        "account": {
            "label": "Account",
            "description": "Default Tealium account for operators that do not name one.",
            "schema": {"type": ["string", "null"]},
        },
        "profile": {
            "label": "Profile",
            "description": "Default Tealium profile for operators that do not name one.",
            "schema": {"type": ["string", "null"]},
        },
        "v1_password": {
            "label": "v1 password",
            "description": "The user's password, needed only by the v1 revisions API (not the API key).",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "platform_base_url": {
            "label": "v3 platform URL",
            "description": "Base URL of the v3 platform host (iQ Profiles, publish). Override for the emulator.",
            "schema": {"type": ["string", "null"], "default": "https://platform.tealiumapis.com"},
        },
        "api_base_url": {
            "label": "v1/v2 API URL",
            "description": "Base URL of the v1/v2 host (Hosted Data Layer, revisions). Override for the emulator.",
            "schema": {"type": ["string", "null"], "default": "https://api.tealiumiq.com"},
        },
        **_RETRY_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["host", "port", "schema", "extra"],
        "relabeling": {"login": "Email", "password": "API key"},
        "placeholders": {"login": "user@example.com", "account": "my-account", "profile": "main"},
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata (validated against Airflow's ``provider_info.schema.json`` in tests)."""
    return {
        "package-name": "airflow-provider-tealium",
        "name": "Tealium",
        "description": "Tealium iQ tag management, Hosted Data Layer, revisions and IQM reporting for Airflow.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "Tealium",
                "external-doc-url": "https://docs.tealium.com/",
                "tags": ["service"],
            },
        ],
        "hooks": [
            {
                "integration-name": "Tealium",
                "python-modules": ["airflow_provider_tealium.hooks.tealium"],
            },
        ],
        "connection-types": [_TEALIUM_CONNECTION],
    }
