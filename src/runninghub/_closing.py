"""The ``with`` block of everything the package closes: the object itself, closed at the end."""

from __future__ import annotations

from typing import Self

__all__ = ["ClosedOnExit"]


class ClosedOnExit:
    """``with obj:`` hands back ``obj`` and calls its ``close()`` when the block ends, however
    it ends (exceptions pass through)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
