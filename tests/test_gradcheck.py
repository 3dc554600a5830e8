"""Tests for helpers.gradcheck: the checker passes true gradients, catches wrong ones, and says where."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.gradcheck import GradCheckReport, gradient_check


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_quadratic_passes(rng):
    x = rng.normal(size=(4,))
    report = gradient_check(lambda v: float(np.sum(v**2)), x, 2 * x)
    assert isinstance(report, GradCheckReport)
    assert report.passed()
    assert report.max_rel_error < 1e-9
    assert report.shape == (4,)
    assert report.rel_errors.shape == (4,)


def test_sin_in_three_dimensions(rng):
    x = rng.normal(size=(2, 3, 2))
    report = gradient_check(lambda v: float(np.sum(np.sin(v))), x, np.cos(x), h=1e-5)
    assert report.passed(1e-8)
    assert report.shape == (2, 3, 2)


def test_matrix_product(rng):
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(5, 2))
    W = rng.normal(size=(4, 5))
    # f(W) = sum((A W B)^2), so df/dW = A^T (2 A W B) B^T
    f = lambda w: float(np.sum((A @ w @ B) ** 2))  # noqa: E731
    grad = A.T @ (2 * A @ W @ B) @ B.T
    assert gradient_check(f, W, grad).passed(1e-7)


def test_max_without_ties():
    x = np.array([0.3, -1.0, 2.5, 1.7])  # distinct entries: max is differentiable here
    report = gradient_check(lambda v: float(np.max(v)), x, np.array([0.0, 0.0, 1.0, 0.0]))
    assert report.passed()
    assert report.max_rel_error < 1e-10
    np.testing.assert_array_equal(report.rel_errors[[0, 1, 3]], 0.0)  # entries that are not the max: exactly 0


def test_scalar_point():
    report = gradient_check(lambda v: float(v**3), 2.0, 12.0, h=1e-4)
    assert report.shape == ()
    assert report.worst_index == ()
    # the central difference of x^3 is exactly 3x^2 + h^2
    assert report.worst_numeric == pytest.approx(12.0 + 1e-8, rel=1e-9)
    assert report.passed(1e-8)


def test_wrong_gradient_is_caught_and_located(rng):
    x = rng.normal(size=(3, 3))
    wrong = 2 * x
    wrong[1, 2] *= 1.5
    report = gradient_check(lambda v: float(np.sum(v**2)), x, wrong)
    assert not report.passed()
    assert report.worst_index == (1, 2)
    assert report.worst_analytic == pytest.approx(wrong[1, 2])
    assert report.worst_numeric == pytest.approx(2 * x[1, 2], rel=1e-8)
    assert report.max_rel_error == pytest.approx(1 / 3, rel=1e-6)
    text = str(report)
    assert "FAILED" in text and "(1, 2)" in text and "max relative error 3.3e-01" in text


def test_passed_respects_tolerance_and_default(rng):
    x = rng.normal(size=5)
    slightly_off = 2 * x * (1 + 1e-5)
    report = gradient_check(lambda v: float(np.sum(v**2)), x, slightly_off, tol=1e-4)
    assert report.passed()  # default tol given to gradient_check
    assert not report.passed(1e-7)
    assert "ok" in str(report) and "tol 1e-04" in str(report)


def test_x_is_not_modified_and_f_gets_copies(rng):
    x = rng.normal(size=(2, 2))
    before = x.copy()
    seen = []
    gradient_check(lambda v: seen.append(v is x) or float(np.sum(v)), x, np.ones_like(x))
    np.testing.assert_array_equal(x, before)
    assert not any(seen)


def test_both_zero_gives_zero_error_and_nan_fails():
    report = gradient_check(lambda v: 1.0, np.zeros(3), np.zeros(3))
    assert report.max_rel_error == 0.0 and report.passed()
    report = gradient_check(lambda v: float(np.sum(v)), np.zeros(2), np.array([1.0, np.nan]))
    assert not report.passed(1e9)
    assert report.worst_index == (1,)


def test_str_and_repr_are_readable(rng):
    x = rng.normal(size=3)
    report = gradient_check(lambda v: float(np.sum(v**2)), x, 2 * x, name="dL/dW1")
    assert str(report).startswith("dL/dW1 (shape (3,)): max relative error")
    assert "analytic" in str(report) and "numeric" in str(report)
    assert repr(report).startswith("GradCheckReport(name='dL/dW1'")


@pytest.mark.parametrize(
    ("kwargs", "exception", "named"),
    [
        ({"f": "not a function"}, TypeError, "f must"),
        ({"x": "abc"}, TypeError, "x must"),
        ({"analytic_grad": np.zeros(4)}, ValueError, "analytic_grad must"),
        ({"h": 0.0}, ValueError, "h must"),
        ({"h": -1e-5}, ValueError, "h must"),
        ({"f": lambda v: v}, ValueError, "f must return a single number"),
        ({"floor": -1.0}, ValueError, "floor must"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, exception, named):
    arguments = {"f": lambda v: float(np.sum(v)), "x": np.zeros(3), "analytic_grad": np.ones(3), "h": 1e-5}
    arguments.update(kwargs)
    with pytest.raises(exception, match=named):
        gradient_check(**arguments)
