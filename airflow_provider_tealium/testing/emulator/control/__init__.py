"""The emulator's own calls: control (``/_emulator/``: reset, stats, faults, settings, users) and the
diagnostics Tealium does not have (``whoami``, a non-idempotent counter)."""
