"""Operator arguments given as Python values or rendered from templates (then strings), read one way.

A rendered template is a string: ``"30"`` for a number, ``"False"`` for a flag, and a non-empty string
is truthy. These read both forms, or refuse with an error naming the argument and the rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from airflow_provider_tealium.exceptions import TealiumValidationError

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def seconds_arg(value: Any, name: str, *, positive: bool = False) -> float:
    """A number-of-seconds argument, given as a number or rendered from a template (then a string).

    :param value: the value.
    :param name: the argument's name, for the message.
    :param positive: refuse 0 as well as negative numbers.
    :raises TealiumValidationError: naming the argument and the rule.
    """
    number = value
    if isinstance(number, str):
        try:
            number = float(number.strip())
        except ValueError:
            number = None
    # A bool is an int to Python but never meant as seconds; NaN and infinity are no deadline, and an
    # int too large for a float (10**400) is none either.
    try:
        valid = (
            isinstance(number, int | float)
            and not isinstance(number, bool)
            and math.isfinite(number)
            and (number > 0 if positive else number >= 0)
        )
    except OverflowError:
        valid = False
    if not valid:
        rule = "a positive number" if positive else "a number (0 or more)"
        raise TealiumValidationError(name, f"must be {rule} of seconds", value=value)
    return float(number)


def flag_arg(value: Any, name: str) -> bool:
    """A true/false argument, given as a bool or rendered from a template (then ``"True"``, ``"false"``...).

    A rendered ``"False"`` is a non-empty string, so truthy: taking it as is would prune or save when
    the user asked not to. Only the spellings below are accepted.

    :param value: the value.
    :param name: the argument's name, for the message.
    :raises TealiumValidationError: naming the argument, for anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise TealiumValidationError(name, "must be true or false", value=value)


def check_unless_templated(value: Any, check: Callable[[Any, str], object], name: str) -> None:
    """Check an argument at DAG parse when it is given as is; a string may be a template and is checked
    once rendered, in ``execute``.

    :param value: the value.
    :param check: :func:`seconds_arg`, :func:`flag_arg` or alike.
    :param name: the argument's name.
    """
    if not isinstance(value, str):
        check(value, name)
