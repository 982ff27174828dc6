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
            "description": "Default Tealium account for operators that do not name one (e.g. my-account).",
            "schema": {"type": ["string", "null"]},
        },
        "profile": {
            "label": "Profile",
            "description": "Default Tealium profile for operators that do not name one (e.g. main).",
            "schema": {"type": ["string", "null"]},
        },
        "v1_password": {
            "label": "v1 password",
            "description": "The user's password, needed only by the v1 revisions API (not the API key).",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "revisions_api": {
            "label": "Revisions API",
            "description": "v1 (the documented API; needs the v1 password) or v2 (the manifest API; the API key).",
            "schema": {"type": ["string", "null"], "enum": ["v1", "v2", None], "default": "v1"},
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
    # Airflow 3.2+'s form applies these to its standard fields only (host, port, schema, login, password,
    # description): placeholders of conn-fields are ignored there, hence examples in their descriptions.
    "ui-field-behaviour": {
        "hidden-fields": ["host", "port", "schema"],
        "relabeling": {"login": "Email", "password": "API key"},
        "placeholders": {"login": "user@example.com"},
    },
}


_IQM_CONNECTION: dict[str, Any] = {
    "connection-type": "iqm",
    "hook-class-name": "airflow_provider_tealium.hooks.iqm.IQMHook",
    "hook-name": "IQM",
    "conn-fields": {
        "client_id": {
            "label": "Client ID",
            "description": "The API client id IQM issued (ask integrations@iqm.com).",
            "schema": {"type": ["string", "null"]},
        },
        "client_secret": {
            "label": "Client secret",
            "description": "The API client secret issued with the client id.",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "workspace_host": {
            "label": "Workspace host",
            "description": "Your IQM workspace host, sent as X-IAA-HOST when logging in (e.g. app.iqm.com).",
            "schema": {"type": ["string", "null"]},
        },
        "base_url": {
            "label": "API URL",
            "description": "Base URL of the IQM API. Override for the emulator.",
            "schema": {"type": ["string", "null"], "default": "https://api.iqm.com"},
        },
        "login_flow": {
            "label": "Login flow",
            "description": "oauth: POST /api/v3/ua/oauth/token (default); login: POST /api/v3/ua/login (older docs).",
            "schema": {"type": ["string", "null"], "enum": ["oauth", "login", None], "default": "oauth"},
        },
        "requests_per_minute": {
            "label": "Requests per minute",
            "description": "Client-side limit shared by every task in a process (IQM allows 20; default 20).",
            "schema": {"type": ["integer", "null"], "minimum": 1},
        },
        **_RETRY_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["host", "port", "schema"],
        "relabeling": {"login": "Email", "password": "Password"},
        "placeholders": {"login": "user@example.com"},
    },
}


_PACKAGE = "airflow_provider_tealium"


def _modules(kind: str, *names: str) -> list[str]:
    return [f"{_PACKAGE}.{kind}.{name}" for name in names]


def _by_integration(kind: str, tealium: tuple[str, ...], iqm: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    entries = [{"integration-name": "Tealium", "python-modules": _modules(kind, *tealium)}]
    if iqm:
        entries.append({"integration-name": "IQM", "python-modules": _modules(kind, *iqm)})
    return entries


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
            {"integration-name": "IQM", "tags": ["service"]},
        ],
        "hooks": _by_integration("hooks", ("tealium", "profiles", "datalayers", "revisions"), ("iqm",)),
        "operators": _by_integration(
            "operators", ("profiles", "publish", "datalayers", "revisions"), ("iqm",)
        ),
        "sensors": _by_integration("sensors", ("publish", "datalayers", "revisions")),
        "triggers": _by_integration("triggers", ("publish", "datalayers", "revisions")),
        "extra-links": [
            f"{_PACKAGE}.links.TealiumProfileLink",
            f"{_PACKAGE}.links.TealiumDataLayerLink",
        ],
        "connection-types": [_TEALIUM_CONNECTION, _IQM_CONNECTION],
    }
