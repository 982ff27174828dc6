"""Test helpers for the Tealium provider: a local HTTP emulator of Tealium's APIs and a pytest plugin.

Nothing heavy is imported here, so the pytest plugin (an entry point loaded in every pytest run)
stays cheap; import :mod:`airflow_provider_tealium.testing.emulator` to use the emulator.
"""
