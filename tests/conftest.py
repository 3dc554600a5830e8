"""Shared by every test module: tests/course.py importable, matplotlib drawing off-screen, figures closed."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test left open, so figures do not pile up across tests."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
