"""Reading a ``tealium`` connection into plain settings (pure: no Airflow lookups, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_tealium.api.auth import DEFAULT_API_BASE_URL, DEFAULT_PLATFORM_BASE_URL
from airflow_provider_tealium.api.checks import loads, mapping_keys_problem
from airflow_provider_tealium.api.defaults import TEALIUM_CONN_ID
from airflow_provider_tealium.api.paths import validate_name
from airflow_provider_tealium.api.request import Host
from airflow_provider_tealium.api.retry import RetryPolicy, policy_value_problem
from airflow_provider_tealium.api.urls import base_url_problem
from airflow_provider_tealium.exceptions import TealiumValidationError

CONN_TYPE = "tealium"
DEFAULT_CONN_ID = TEALIUM_CONN_ID

# Names of the extras (the connection form's ``conn-fields`` use the same names).
EXTRA_ACCOUNT = "account"
EXTRA_PROFILE = "profile"
EXTRA_V1_PASSWORD = "v1_password"
EXTRA_PLATFORM_BASE_URL = "platform_base_url"
EXTRA_API_BASE_URL = "api_base_url"
RETRY_EXTRAS = ("max_retries", "backoff_base", "backoff_max", "timeout")


@dataclass(frozen=True)
class TealiumConfig:
    """Everything a hook needs from its connection.

    :param conn_id: the connection id (for messages).
    :param email: the user's email (connection login).
    :param api_key: the API key (connection password). Secret.
    :param account: default account, if set.
    :param profile: default profile, if set.
    :param v1_password: the user's password for the v1 revisions API. Secret.
    :param platform_base_url: the v3 platform base URL.
    :param api_base_url: the v1/v2 base URL.
    :param retry: the retry policy.
    """

    conn_id: str
    email: str
    api_key: str = field(repr=False)
    account: str | None = None
    profile: str | None = None
    v1_password: str | None = field(default=None, repr=False)
    platform_base_url: str = DEFAULT_PLATFORM_BASE_URL
    api_base_url: str = DEFAULT_API_BASE_URL
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def base_url(self, host: Host) -> str:
        """The configured base URL of a fixed host (the region host comes from the token).

        :param host: which host.
        """
        if host is Host.PLATFORM:
            return self.platform_base_url
        if host is Host.API:
            return self.api_base_url
        raise ValueError(f"{host.value} host is not configured by a tealium connection")

    def account_profile(self, account: str | None, profile: str | None) -> tuple[str, str]:
        """Resolve an (account, profile) pair from call arguments, falling back to the connection's.

        :param account: the call's account, or ``None`` for the connection default.
        :param profile: the call's profile, or ``None`` for the connection default.
        """
        acc = account or self.account
        prof = profile or self.profile
        if not acc:
            raise TealiumValidationError(
                "account", f"is required: pass it or set the '{EXTRA_ACCOUNT}' extra on '{self.conn_id}'"
            )
        if not prof:
            raise TealiumValidationError(
                "profile", f"is required: pass it or set the '{EXTRA_PROFILE}' extra on '{self.conn_id}'"
            )
        # Checked here, before any call (a login included): "." or ".." would collapse the path.
        validate_name(acc, "account" if account else f"{self.conn_id}.{EXTRA_ACCOUNT}")
        validate_name(prof, "profile" if profile else f"{self.conn_id}.{EXTRA_PROFILE}")
        return acc, prof


def _extra_value(extra: Mapping[str, Any], name: str, conn_type: str) -> Any:
    # Connections saved by older UIs prefix form fields with ``extra__{conn_type}__``.
    value = extra.get(name)
    if value is None or (isinstance(value, str) and value == ""):
        value = extra.get(f"extra__{conn_type}__{name}")
    return None if isinstance(value, str) and value == "" else value


def parse_extra(extra: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The connection's extra as a dict, with a clear error for malformed JSON.

    :param extra: the extra as stored (a JSON string) or already parsed.
    """
    if extra is None or (isinstance(extra, str | bytes | Mapping) and not extra):
        return {}
    if isinstance(extra, Mapping):
        value: Any = dict(extra)
    elif isinstance(extra, str | bytes):
        value = loads(extra, "extra", "must be a JSON object")
    else:
        raise TealiumValidationError("extra", "must be a JSON object", show_value=False)
    if not isinstance(value, dict):
        raise TealiumValidationError("extra", "must be a JSON object", show_value=False)
    problem = mapping_keys_problem(value)
    if problem is not None:
        raise TealiumValidationError("extra", problem, show_value=False)
    return value


def retry_policy(
    extra: Mapping[str, Any], overrides: Mapping[str, Any], conn_type: str, conn_id: str
) -> RetryPolicy:
    """The retry policy: hook arguments win over connection extras, which win over defaults.

    :param extra: the connection's extras.
    :param overrides: hook arguments (``None`` means not given).
    :param conn_type: the connection type (for legacy prefixed extras).
    :param conn_id: the connection id (for messages).
    """
    values: dict[str, Any] = {}
    for name in RETRY_EXTRAS:
        raw = overrides.get(name)
        if raw is None:
            raw = _extra_value(extra, name, conn_type)
        if raw is None:
            continue
        number = _number(raw, whole=name == "max_retries")
        problem = "must be a number" if number is None else policy_value_problem(name, number)
        if problem is not None:
            raise TealiumValidationError(f"{conn_id}.{name}", problem, value=raw)
        values[name] = number
    return RetryPolicy(**values)


def _number(raw: Any, *, whole: bool) -> int | float | None:
    """A number from an extra (JSON gives numbers, the form and env vars strings), else ``None``.

    :param raw: the value.
    :param whole: an integer is wanted (``5`` and ``5.0`` are, ``5.5`` is not).
    """
    if isinstance(raw, bool):
        return None
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    if whole:
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return None
        return int(value)
    return float(value)


def config_from_connection(
    conn_id: str,
    login: str | None,
    password: str | None,
    extra: str | Mapping[str, Any] | None,
    *,
    account: str | None = None,
    profile: str | None = None,
    retry_overrides: Mapping[str, Any] | None = None,
) -> TealiumConfig:
    """Build :class:`TealiumConfig` from a connection's fields, with errors that name the field.

    :param conn_id: the connection id.
    :param login: the user's email.
    :param password: the API key.
    :param extra: the extras.
    :param account: overrides the ``account`` extra.
    :param profile: overrides the ``profile`` extra.
    :param retry_overrides: hook arguments overriding the retry extras.
    """
    if not login or not isinstance(login, str):
        raise TealiumValidationError(f"{conn_id}.login", "must be the Tealium user's email")
    if not password or not isinstance(password, str):
        raise TealiumValidationError(f"{conn_id}.password", "must be the Tealium API key", show_value=False)
    ex = parse_extra(extra)
    for name in (EXTRA_ACCOUNT, EXTRA_PROFILE, EXTRA_V1_PASSWORD):
        if not isinstance(_extra_value(ex, name, CONN_TYPE), str | None):
            raise TealiumValidationError(f"{conn_id}.{name}", "must be a string", show_value=False)
    platform = _extra_value(ex, EXTRA_PLATFORM_BASE_URL, CONN_TYPE) or DEFAULT_PLATFORM_BASE_URL
    api = _extra_value(ex, EXTRA_API_BASE_URL, CONN_TYPE) or DEFAULT_API_BASE_URL
    for name, url in ((EXTRA_PLATFORM_BASE_URL, platform), (EXTRA_API_BASE_URL, api)):
        problem = base_url_problem(url)
        if problem is not None:
            # The value is quoted without its userinfo (TealiumValidationError strips it).
            raise TealiumValidationError(f"{conn_id}.{name}", problem, value=url)
    return TealiumConfig(
        conn_id=conn_id,
        email=login,
        api_key=password,
        account=account or _extra_value(ex, EXTRA_ACCOUNT, CONN_TYPE),
        profile=profile or _extra_value(ex, EXTRA_PROFILE, CONN_TYPE),
        v1_password=_extra_value(ex, EXTRA_V1_PASSWORD, CONN_TYPE),
        platform_base_url=str(platform).rstrip("/"),
        api_base_url=str(api).rstrip("/"),
        retry=retry_policy(ex, retry_overrides or {}, CONN_TYPE, conn_id),
    )
