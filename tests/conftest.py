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
# The suite runs several graded kernels at once on few cores (xdist workers, the class command's own workers):
# one BLAS/OpenMP thread per process, or PyTorch's threads spin against each other (a lesson-8 run took 41 s
# instead of 35 s, three at once on two cores). The kernels inherit it (grading.sandbox keeps these variables).
for _threads in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")


# xdist (``--dist loadscope --no-loadscope-reorder``) hands each worker a whole scope (a class, or a module without
# classes) in this order. Scopes that grade notebooks or start servers take minutes each: they go first, the largest
# first, and the many quick unit-test scopes come last and fill the gaps, so that no long scope starts while the
# other worker has nothing left to do.
LONG_SCOPES = ("tests/test_hub.py", "tests/test_grading.py", "tests/test_adversarial.py", "tests/test_cluster.py",
               "tests/test_instructor_path.py", "tests/test_gradebook.py", "solutions/", "tests/test_browser.py",
               "tests/test_sandbox.py", "tests/test_variants.py")


def _scope(nodeid: str) -> str:
    """The scope loadscope gives a test: its class if it has one, else its module."""
    parts = nodeid.split("::")
    return "::".join(parts[:2]) if len(parts) > 2 else parts[0]


def pytest_collection_modifyitems(items):
    sizes: dict[str, int] = {}
    for item in items:
        sizes[_scope(item.nodeid)] = sizes.get(_scope(item.nodeid), 0) + 1

    def rank(item) -> tuple[int, int]:
        long = next((i for i, prefix in enumerate(LONG_SCOPES) if item.nodeid.startswith(prefix)), len(LONG_SCOPES))
        return long, -sizes[_scope(item.nodeid)]

    items.sort(key=rank)  # stable: a scope's tests keep their order


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test left open, so figures do not pile up across tests."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
