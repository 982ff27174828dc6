"""Streaming a file from a presigned URL (IQM's report download) with the connection's retry policy.

No credential of the provider is ever sent to such a URL: its query string is its signature. Redirects
are followed only within the URL's origin, by the same rule as every other call
(:func:`~airflow_provider_tealium.hooks.transport.redirect_target`).
"""

from __future__ import annotations

import time
from typing import IO, Any

import requests

from airflow_provider_tealium._compat import mask_secret
from airflow_provider_tealium.api.errors import error_from_response
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, Host, TokenFamily
from airflow_provider_tealium.api.retry import RetryPolicy, Step, decide_on_answer, decide_on_failure
from airflow_provider_tealium.api.urls import safe_url
from airflow_provider_tealium.exceptions import TealiumApiError
from airflow_provider_tealium.hooks.transport import (
    MAX_REDIRECTS,
    answer_from,
    no_answer_error,
    redirect_target,
    too_many_redirects,
)
from airflow_provider_tealium.hooks.transport_sync import requests_failure

DOWNLOAD_CHUNK = 64 * 1024


def _get(
    url: str, request: ApiRequest, timeout: float, out: IO[bytes]
) -> int | ApiResponse | TealiumApiError:
    """One attempt: the bytes written, the error answer, or the error of a redirect not followed."""
    for _ in range(MAX_REDIRECTS + 1):
        with requests.get(url, stream=True, timeout=timeout, allow_redirects=False) as resp:
            if resp.status_code == 200:
                out.seek(0)
                out.truncate()
                written = 0
                for chunk in resp.iter_content(DOWNLOAD_CHUNK):
                    out.write(chunk)
                    written += len(chunk)
                return written
            answer = answer_from(resp.status_code, resp.headers, resp.content)
        target = redirect_target(request, url, answer)
        if target is None or isinstance(target, TealiumApiError):
            return answer if target is None else target
        url = target
    return too_many_redirects(request, answer.status)


def fetch_to(url: str, out: IO[bytes], policy: RetryPolicy, log: Any) -> int:
    """Stream ``url`` into ``out``; returns the bytes written. Transient failures restart the file.

    :param url: the presigned file URL.
    :param out: a binary file open for writing (truncated on a retry).
    :param policy: the retry policy.
    :param log: where retries are logged.
    :raises TealiumApiError: naming the URL without its query string (the signature) or userinfo.
    """
    shown = safe_url(url)
    if "?" in url:
        # A presigned URL's query string is its signature: keep it out of any log (urllib3 logs URLs).
        mask_secret(url.split("?", 1)[1])
    retries = 0
    request = ApiRequest("GET", shown, TokenFamily.NONE, Host.IQM)
    while True:
        try:
            outcome = _get(url, request, policy.timeout, out)
        except requests.RequestException as exc:
            failure = requests_failure(exc)
            decision = decide_on_failure(policy, kind=failure, idempotent=True, retries_used=retries)
            if decision.step is not Step.RETRY:
                raise no_answer_error(request, type(exc).__name__, retries + 1, failure) from None
        else:
            if isinstance(outcome, int):
                return outcome
            if isinstance(outcome, TealiumApiError):
                raise outcome
            decision = decide_on_answer(
                policy,
                status=outcome.status,
                retry_after=outcome.headers.get("retry-after"),
                ok=False,
                idempotent=True,
                uses_token=False,
                refreshed=False,
                retries_used=retries,
            )
            if decision.step is not Step.RETRY:
                raise error_from_response(request, outcome, attempts=retries + 1)
        retries += 1
        log.warning(
            "%s: %s; retry %d/%d in %.1f s",
            request.description,
            decision.reason,
            retries,
            policy.max_retries,
            decision.delay,
        )
        time.sleep(decision.delay)
