"""Benchmarks backing the provider's performance claims; run them with ``make bench``."""
