"""``present(x)``: a value a test knows is there, checked, with its ``None`` taken out of its type."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None, what: str = "value") -> T:
    """``value``, failing the test if it is None (``find()`` found nothing)."""
    assert value is not None, f"expected a {what}, found none"
    return value
