"""Tealium sensors, one module per API family."""
