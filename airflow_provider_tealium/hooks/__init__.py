"""Hooks: authentication, token caching and the one request path (sync and async)."""
