"""Numbers from user code, made safe for JSON and for arithmetic (used on both sides)."""

from __future__ import annotations

import math


def clean_number(value) -> float | None:
    """A JSON-safe float: NaN, infinities and non-numbers become None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def integral(value) -> int | None:
    """`value` as an int when it is a whole number (10 or 10.0), else None (12.5, "x", None)."""
    number = clean_number(value)
    return int(number) if number is not None and number.is_integer() else None


def positive_integral(value) -> int | None:
    number = integral(value)
    return number if number is not None and number > 0 else None
