"""Shared test set-up: make tests/course.py importable, and keep each notebook on one xdist worker."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_collection_modifyitems(items):
    # nbval runs a notebook's cells in order in one kernel: all of them must go to the same worker.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(str(item.path)))
