"""Shared by every test module: tests/course.py importable, matplotlib drawing off-screen, figures closed,
and one store of reference records for every throw-away course the tests grade in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The tests grade each lesson in several throw-away courses made from the same solutions/: its reference
# records (keyed by the solution notebook's hash, built under a lock) are recorded once and shared.
os.environ.setdefault("COURSE_REFERENCE_CACHE", str(Path(__file__).resolve().parents[1] / ".grading" / "test-reference"))


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test left open, so figures do not pile up across tests."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
