"""One benchmark measurement, compared with its baseline and its target."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Result:
    """A measured figure.

    :param bench: which benchmark.
    :param metric: what was measured.
    :param value: the provider's figure.
    :param unit: its unit.
    :param baseline: the baseline's figure in the same run, if there is one.
    :param target: the target, in words.
    :param met: whether the target is met.
    """

    bench: str
    metric: str
    value: float
    unit: str
    baseline: float | None
    target: str
    met: bool

    @property
    def ratio(self) -> float | None:
        """Baseline over value for costs, as a multiplier (``None`` without a baseline)."""
        if self.baseline is None or self.value == 0:
            return None
        return self.baseline / self.value

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**asdict(self), "ratio": self.ratio}
