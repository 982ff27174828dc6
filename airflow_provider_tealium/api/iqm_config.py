"""Reading an ``iqm`` connection into plain settings (pure: no Airflow lookups, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from airflow_provider_tealium.api.config import _extra_value, _number, parse_extra, retry_policy
from airflow_provider_tealium.api.defaults import IQM_CONN_ID
from airflow_provider_tealium.api.retry import RetryPolicy
from airflow_provider_tealium.api.urls import base_url_problem
from airflow_provider_tealium.exceptions import TealiumValidationError

CONN_TYPE = "iqm"
DEFAULT_CONN_ID = IQM_CONN_ID
DEFAULT_BASE_URL = "https://api.iqm.com"

# The documented limit is 20 requests a minute per client.
DEFAULT_REQUESTS_PER_MINUTE = 20
MAX_REQUESTS_PER_MINUTE = 1_000_000
"""The largest client-side limit (in effect none: tests and benchmarks use it to switch pacing off)."""

# Names of the extras (the connection form's ``conn-fields`` use the same names).
EXTRA_CLIENT_ID = "client_id"
EXTRA_CLIENT_SECRET = "client_secret"
EXTRA_WORKSPACE_HOST = "workspace_host"
EXTRA_BASE_URL = "base_url"
EXTRA_LOGIN_FLOW = "login_flow"
EXTRA_REQUESTS_PER_MINUTE = "requests_per_minute"


class LoginFlow(str, Enum):
    """The two documented ways to log in; both answer the same tokens."""

    OAUTH = "oauth"
    """``POST /api/v3/ua/oauth/token``, form-encoded ``grant_type=password`` (the newer docs; default)."""
    LOGIN = "login"
    """``POST /api/v3/ua/login``, JSON ``{"grantType": "password", ...}`` (the older docs)."""


@dataclass(frozen=True)
class IQMConfig:
    """Everything an IQM hook needs from its connection.

    :param conn_id: the connection id (for messages).
    :param email: the IQM user's email (connection login).
    :param password: the user's password (connection password). Secret.
    :param client_id: the API client id IQM issued.
    :param client_secret: the API client secret. Secret.
    :param workspace_host: the workspace host sent as ``X-IAA-HOST`` when logging in.
    :param base_url: the API base URL.
    :param login_flow: which login call to use.
    :param requests_per_minute: the client-side rate limit.
    :param retry: the retry policy.
    """

    conn_id: str
    email: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    workspace_host: str
    base_url: str = DEFAULT_BASE_URL
    login_flow: LoginFlow = LoginFlow.OAUTH
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def config_from_connection(
    conn_id: str,
    login: str | None,
    password: str | None,
    extra: str | Mapping[str, Any] | None,
    *,
    retry_overrides: Mapping[str, Any] | None = None,
    requests_per_minute: int | None = None,
) -> IQMConfig:
    """Build :class:`IQMConfig` from a connection's fields, with errors that name the field.

    :param conn_id: the connection id.
    :param login: the user's email.
    :param password: the user's password.
    :param extra: the extras.
    :param retry_overrides: hook arguments overriding the retry extras.
    :param requests_per_minute: a hook argument overriding the ``requests_per_minute`` extra.
    """
    if not login or not isinstance(login, str):
        raise TealiumValidationError(f"{conn_id}.login", "must be the IQM user's email")
    if not password or not isinstance(password, str):
        raise TealiumValidationError(
            f"{conn_id}.password", "must be the IQM user's password", show_value=False
        )
    ex = parse_extra(extra)
    client_id = _extra_value(ex, EXTRA_CLIENT_ID, CONN_TYPE)
    client_secret = _extra_value(ex, EXTRA_CLIENT_SECRET, CONN_TYPE)
    workspace_host = _extra_value(ex, EXTRA_WORKSPACE_HOST, CONN_TYPE)
    for name, value in (
        (EXTRA_CLIENT_ID, client_id),
        (EXTRA_CLIENT_SECRET, client_secret),
        (EXTRA_WORKSPACE_HOST, workspace_host),
    ):
        if value is not None and not isinstance(value, str | int):
            raise TealiumValidationError(f"{conn_id}.{name}", "must be a string", show_value=False)
    if not client_id:
        raise TealiumValidationError(f"{conn_id}.{EXTRA_CLIENT_ID}", "is required (IQM issues it on request)")
    if not client_secret:
        raise TealiumValidationError(
            f"{conn_id}.{EXTRA_CLIENT_SECRET}", "is required (IQM issues it with the client id)"
        )
    if not workspace_host:
        raise TealiumValidationError(
            f"{conn_id}.{EXTRA_WORKSPACE_HOST}", "is required (the workspace host, e.g. app.iqm.com)"
        )
    base_url = _extra_value(ex, EXTRA_BASE_URL, CONN_TYPE) or DEFAULT_BASE_URL
    problem = base_url_problem(base_url)
    if problem is not None:
        raise TealiumValidationError(f"{conn_id}.{EXTRA_BASE_URL}", problem, value=base_url)
    flow_raw = _extra_value(ex, EXTRA_LOGIN_FLOW, CONN_TYPE) or LoginFlow.OAUTH.value
    try:
        flow = LoginFlow(flow_raw.lower() if isinstance(flow_raw, str) else flow_raw)
    except ValueError:
        raise TealiumValidationError(
            f"{conn_id}.{EXTRA_LOGIN_FLOW}",
            f"must be one of {[f.value for f in LoginFlow]}",
            value=flow_raw,
        ) from None
    rpm_raw: Any = requests_per_minute
    if rpm_raw is None:
        rpm_raw = _extra_value(ex, EXTRA_REQUESTS_PER_MINUTE, CONN_TYPE)
    if rpm_raw is None:
        rpm_raw = DEFAULT_REQUESTS_PER_MINUTE
    rpm = _number(rpm_raw, whole=True)
    if rpm is None or not 1 <= rpm <= MAX_REQUESTS_PER_MINUTE:
        raise TealiumValidationError(
            f"{conn_id}.{EXTRA_REQUESTS_PER_MINUTE}",
            f"must be a whole number from 1 to {MAX_REQUESTS_PER_MINUTE}",
            value=rpm_raw,
        )
    return IQMConfig(
        conn_id=conn_id,
        email=login,
        password=password,
        client_id=str(client_id),
        client_secret=str(client_secret),
        workspace_host=str(workspace_host),
        base_url=base_url.rstrip("/"),
        login_flow=flow,
        requests_per_minute=int(rpm),
        retry=retry_policy(ex, retry_overrides or {}, CONN_TYPE, conn_id),
    )
