"""Small checks every validation entry point shares, so that any input at all gets the provider's
validation error naming the field, never a TypeError, an AttributeError or a RecursionError.

Nesting is bounded (:data:`MAX_DEPTH`) before anything recursive (``json.dumps``, ``json.loads``, a
walk over a data layer) touches a value: Python's recursion limit would otherwise turn a deeply
nested condition, dimension or data layer into a RecursionError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_tealium.exceptions import TealiumValidationError

MAX_DEPTH = 32
"""The deepest nesting of lists and objects any input may have (a real one needs fewer than 8)."""
_CONTAINERS = (Mapping, list, tuple, set, frozenset)


MAX_NODES = 2_000_000
"""The most values a walk visits: a structure sharing sub-objects can be exponentially large."""


def structure_problem(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why ``value`` is too deep (or, made of shared parts, too large) to walk, or ``None``.

    Iterative, so it is safe on any depth; a cycle is reported as too deep.

    :param value: the value.
    :param limit: the deepest nesting of lists, tuples, sets and mappings allowed.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    visited = 0
    while stack:
        item, depth = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            return f"is too large (more than {MAX_NODES} values)"
        if not isinstance(item, _CONTAINERS):
            continue
        if depth > limit:
            return f"nests deeper than {limit} levels"
        try:
            children = list(item.values() if isinstance(item, Mapping) else item)
        except Exception:
            return "cannot be read (its items raised an error)"
        stack.extend((child, depth + 1) for child in children)
    return None


def check_depth(value: Any, field: str, limit: int = MAX_DEPTH) -> None:
    """Raise when ``value`` is too deep or too large (:func:`structure_problem`).

    :param value: the value.
    :param field: the field to name.
    :param limit: the deepest nesting allowed.
    """
    error = depth_error(value, field, limit)
    if error is not None:
        raise error


def depth_error(value: Any, field: str, limit: int = MAX_DEPTH) -> TealiumValidationError | None:
    """:func:`check_depth` as a returned error, for validators that collect every failure.

    :param value: the value.
    :param field: the field to name.
    :param limit: the deepest nesting allowed.
    """
    problem = structure_problem(value, limit)
    return None if problem is None else TealiumValidationError(field, problem, show_value=False)


def loads(text: str | bytes, field: str, rule: str) -> Any:
    """``json.loads`` whose every failure (bad JSON, bad UTF-8, too deep) is the validation error.

    :param text: the JSON text.
    :param field: the field to name.
    :param rule: the rule to state (``must be a JSON object``).
    """
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        detail = getattr(exc, "msg", None) or "too deeply nested or not text"
        raise TealiumValidationError(field, f"{rule} ({detail})", show_value=False) from None
    check_depth(value, field)
    return value


def mapping_keys_problem(value: Mapping[Any, Any]) -> str | None:
    """Why a mapping's keys cannot be an API object's field names, or ``None``.

    :param value: the mapping.
    """
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        return f"keys must be strings (got a {type(bad[0]).__name__} key)"
    return None


def key_name(key: str) -> str:
    """A user's key as a field name: as is when it reads as a name, else quoted (``''``, ``'a b'``).

    :param key: the key.
    """
    return key if key.isidentifier() else repr(key[:100])


def sorted_names(names: Any) -> list[str]:
    """Names sorted for a message, whatever their types.

    :param names: any iterable of keys.
    """
    return sorted(str(name) for name in names)
