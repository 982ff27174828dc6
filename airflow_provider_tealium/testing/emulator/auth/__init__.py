"""Tealium's authentication calls (v3, v2, the v1 login): backend, responses, URL table."""
