"""Decimals as JSON numbers. A leaf: ``runninghub history`` prints its amounts with it
without loading the domain types."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["json_number"]


def json_number(value: Decimal) -> int | float | None:
    """A Decimal as a JSON number: an ``int`` when it is whole (exact at any size), else the
    ``float`` nearest to it.

    Why a float is safe here: JSON writes a float as its shortest ``repr``, and any decimal of
    up to 15 significant digits comes back from that as the very digits the service sent
    (``0.1`` stays ``0.1``, ``99.900`` prints ``99.9``), which covers every coin and money
    figure RunningHub reports. NaN and infinities, which JSON cannot carry, become None.
    """
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)
