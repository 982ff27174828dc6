"""Tealium triggers, one module per API family."""
