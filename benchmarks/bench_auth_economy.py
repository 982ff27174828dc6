"""Benchmark 1: auth economy.

1,000 mixed calls in one process (v3 calls on two profiles, v2 calls; many hook instances, 8 threads) ->
the token mints the emulator sees. Baseline: a plain client that authenticates before every call.
Target: one mint per token family and (account, profile) per token lifetime.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmarks._result import Result

CALLS = 1000


def run() -> list[Result]:
    """Run the benchmark; returns its results."""
    from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
    from airflow_provider_tealium.hooks.tealium import TealiumHook
    from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE
    from airflow_provider_tealium.testing.emulator import TealiumEmulator

    plan = [("demo", "main", TokenFamily.V3), ("demo", "other", TokenFamily.V3), (None, None, TokenFamily.V2)]

    def request(account: str | None, profile: str | None, family: TokenFamily) -> ApiRequest:
        if family is TokenFamily.V3:
            path = f"/v3/emulator/accounts/{account}/profiles/{profile}/whoami"
            return ApiRequest("GET", path, family, Host.REGION)
        return ApiRequest("GET", "/v2/emulator/whoami", family, Host.API)

    with TealiumEmulator() as emulator:
        os.environ["AIRFLOW_CONN_TEALIUM_DEFAULT"] = emulator.connection_json()
        TOKEN_CACHE.clear()

        def provider_call(i: int) -> None:
            account, profile, family = plan[i % len(plan)]
            TealiumHook().get_json(request(account, profile, family), account=account, profile=profile)

        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(provider_call, range(CALLS)))
        provider_seconds = time.perf_counter() - start
        provider_mints = sum(emulator.state.mints.values())
        families = len(plan)

        emulator.reset()
        session = requests.Session()
        base, region = emulator.base_url, f"http://{emulator.region_host}"
        form = {"username": emulator.email, "key": emulator.api_key}

        def plain_call(i: int) -> None:
            account, profile, family = plan[i % len(plan)]
            if family is TokenFamily.V3:
                auth = session.post(f"{base}/v3/auth/accounts/{account}/profiles/{profile}", data=form).json()
                url = region + request(account, profile, family).path
            else:
                auth = session.post(f"{base}/v2/auth", data=form).json()
                url = base + request(account, profile, family).path
            session.get(url, headers={"Authorization": f"Bearer {auth['token']}"}).raise_for_status()

        start = time.perf_counter()
        for i in range(CALLS):
            plain_call(i)
        plain_seconds = time.perf_counter() - start
        plain_mints = sum(emulator.state.mints.values())

    return [
        Result(
            "auth economy",
            f"token mints for {CALLS} calls",
            provider_mints,
            "mints",
            plain_mints,
            f"{families} (one per family and profile per lifetime)",
            provider_mints == families,
        ),
        Result(
            "auth economy",
            f"wall time for {CALLS} calls",
            round(provider_seconds, 3),
            "s",
            round(plain_seconds, 3),
            "informational",
            True,
        ),
    ]
