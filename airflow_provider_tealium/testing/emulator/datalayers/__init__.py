"""Hosted Data Layer v2 (``/v2/dle/...``): documented rules, backend, responses, URL table."""
