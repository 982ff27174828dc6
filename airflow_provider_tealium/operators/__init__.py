"""Tealium operators, one module per API family."""
