"""Injected faults: error statuses, latency, and connections cut before or after a handler runs."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class FaultRule:
    """One injected fault.

    :param method: an HTTP verb, or ``"*"`` for any.
    :param path: an :mod:`fnmatch` glob matched against the request path (``/v3/auth/*``).
    :param times: how many matching requests it applies to; ``None`` for every one.
    :param status: answer this status without running the handler.
    :param body: the body of a ``status`` answer; default ``{"returnCode": status, "message": "Injected fault"}``.
    :param headers: headers of a ``status`` answer (``Retry-After``).
    :param latency: seconds to wait before handling; combinable with the other effects.
    :param reset: abort the connection without answering, before the handler runs.
    :param drop_after_apply: run the handler (its change is applied), discard its answer, abort the connection.
    :param id: assigned by :meth:`FaultInjector.add`.
    :param applied: how many requests it has applied to so far.
    """

    method: str = "*"
    path: str = "*"
    times: int | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    latency: float = 0.0
    reset: bool = False
    drop_after_apply: bool = False
    id: int = 0
    applied: int = 0

    def __post_init__(self) -> None:
        effects = sum([self.status is not None, self.reset, self.drop_after_apply])
        if effects > 1:
            raise ValueError("a fault rule has at most one of status, reset, drop_after_apply")
        if effects == 0 and not self.latency:
            raise ValueError("a fault rule needs an effect: status, latency, reset or drop_after_apply")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for forever)")
        if self.latency < 0:
            raise ValueError("latency must not be negative")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """Build a rule from JSON fields, refusing unknown names (a typo would silently do nothing).

        :param data: the rule's fields.
        """
        known = {f.name for f in fields(cls)} - {"id", "applied"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        return cls(**data)

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule covers the request, ignoring how many uses it has left.

        :param method: the request's verb.
        :param path: the request's path.
        """
        method_ok = self.method == "*" or self.method.upper() == method.upper()
        return method_ok and fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        """Whether it has used up its ``times``."""
        return self.times is not None and self.applied >= self.times

    def response_body(self) -> Any:
        """The body of a ``status`` answer."""
        if self.body is not None:
            return self.body
        return {"returnCode": self.status, "message": "Injected fault"}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable fields, for the stats."""
        return asdict(self)


class FaultInjector:
    """The active fault rules; the first matching rule with uses left applies."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, rule: FaultRule | None = None, **fields_: Any) -> FaultRule:
        """Add a rule, given as a :class:`FaultRule` or as its fields.

        :param rule: a ready rule.
        :param fields_: the fields of a new rule, when ``rule`` is not given.
        """
        if rule is None:
            rule = FaultRule.from_dict(fields_)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def match(self, method: str, path: str) -> FaultRule | None:
        """The rule that applies to this request, consuming one of its uses.

        :param method: the request's verb.
        :param path: the request's path.
        """
        with self._lock:
            for rule in self._rules:
                if not rule.exhausted and rule.matches(method, path):
                    rule.applied += 1
                    return rule
        return None

    @property
    def rules(self) -> list[FaultRule]:
        """A copy of the rules, in matching order."""
        with self._lock:
            return list(self._rules)

    @property
    def applied(self) -> dict[int, int]:
        """How many requests each rule (by id) has applied to."""
        with self._lock:
            return {rule.id: rule.applied for rule in self._rules}
