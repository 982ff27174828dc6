"""What each Tealium / IQM call looks like, as plain data built by pure functions (no I/O).

The sync hook, the async hook and the emulator all read paths, shapes and rules from here.
"""
