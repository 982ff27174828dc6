"""Files that appear whole or not at all: written to a temporary sibling, moved into place on success.

Operators that write results (IQM report rows, revision bundles, profile exports) open their output
with :func:`atomic_output`. A failed run (an API error on page 7, a killed worker before the move)
leaves the final path as it was: absent, or the previous run's complete file. The sibling lives in
the same folder, so the move is a rename on the same filesystem (atomic for local paths; for object
storage a server-side move of a complete object).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

TEMP_MARKER = ".tmp-"


def is_local(target: Any) -> bool:
    """Whether ``target`` is a plain local :class:`~pathlib.Path` (not an ``ObjectStoragePath``, which
    subclasses ``pathlib.Path`` under Airflow 3.0 but holds ``file://`` URLs the ``os`` functions cannot use).

    :param target: the path.
    """
    return isinstance(target, Path) and not hasattr(target, "protocol")


def temporary_sibling(target: Any) -> Any:
    """A hidden, unique sibling of ``target`` (a :class:`~pathlib.Path` or an ``ObjectStoragePath``).

    :param target: the final path.
    """
    name = f".{target.name}{TEMP_MARKER}{uuid.uuid4().hex[:12]}"
    # ``parent / name``, not ``with_name``: the older universal-pathlib under Airflow 3.0 builds a
    # sibling from ``with_name`` that its own ``rename`` cannot find.
    return target.with_name(name) if is_local(target) else target.parent / name


def _discard(path: Any) -> None:
    with contextlib.suppress(Exception):  # best effort: the failure being raised matters more
        if path.exists():
            path.unlink()


@contextlib.contextmanager
def atomic_output(target: Any) -> Iterator[IO[bytes]]:
    """Open a temporary sibling of ``target`` for binary writing; on a clean exit move it to ``target``
    (replacing what was there), on any exception delete it and leave ``target`` untouched.

    :param target: a local :class:`~pathlib.Path` or an :class:`~airflow.sdk.ObjectStoragePath`; its
        folder must exist.
    """
    temp = temporary_sibling(target)
    try:
        with temp.open("wb") as handle:
            yield handle
            if is_local(target):
                handle.flush()
                os.fsync(handle.fileno())
        if is_local(target):
            os.replace(temp, target)
        else:
            temp.rename(target)
    except BaseException:
        _discard(temp)
        raise


def write_atomically(target: Any, data: bytes) -> None:
    """Write ``data`` to ``target`` through :func:`atomic_output`.

    :param target: a local path or an ``ObjectStoragePath``.
    :param data: the whole content.
    """
    with atomic_output(target) as handle:
        handle.write(data)
