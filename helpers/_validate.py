"""Argument checks shared by the helpers: clear errors that name the argument at fault."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_float_array(name: str, value: Any, *, ndim: int | None = None, shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Return ``value`` as a float numpy array, or raise a ``TypeError``/``ValueError`` naming ``name``.

    ``shape`` may contain ``None`` for "any length" in that position.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}: {error}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if shape is not None:
        if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
            expected = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    return array


def same_length(**arrays: np.ndarray) -> None:
    """Raise ``ValueError`` if the first axes of the named arrays differ in length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"arguments must have the same length: {described}")
