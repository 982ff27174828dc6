"""Check a ``tealium`` connection end to end: mint v3 and v2 tokens and report the region host.

Run it against the local emulator with ``make demo DAG=example_tealium_connection`` or in your own
Airflow after creating the ``tealium_default`` connection.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="example_tealium_connection",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["tealium", "example"],
)
def example_tealium_connection() -> None:
    @task
    def check_connection() -> dict[str, str]:
        from airflow_provider_tealium.api.request import TokenFamily
        from airflow_provider_tealium.hooks.tealium import TealiumHook

        hook = TealiumHook()
        ok, message = hook.test_connection()
        if not ok:
            raise RuntimeError(message)
        # Minting through the cache (not test_connection) is what operators do; the second call is free.
        hook.get_token(TokenFamily.V2)
        hook.get_token(TokenFamily.V2)
        return {"status": "ok", "region_base_url": hook.region_base_url(), "message": message}

    check_connection()


dag = example_tealium_connection()

if __name__ == "__main__":
    dag.test()
