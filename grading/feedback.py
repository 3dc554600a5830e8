"""Feedback pages show a hidden test only as its verdict: its code is removed before the page is made.

The autograded notebook keeps the full test cells (the instructor's formgrader shows them); the feedback
page a student receives is made from it by ``nbgrader generate_feedback``, with :class:`HideHiddenTests`
among its preprocessors (see ``nbgrader_config.py``). A test cell's output there is the grader's verdict
(:mod:`grading.judge`), which names a failed hidden test and its hint, never its code or expected values.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

__all__ = ["HideHiddenTests"]


class HideHiddenTests(ClearHiddenTests):
    """Remove the hidden-test region of every test cell; leave the student's own cells as they wrote them."""

    def preprocess_cell(self, cell, resources, cell_index):
        if utils.is_grade(cell) and not utils.is_solution(cell):
            self._remove_hidden_test_region(cell)
        return cell, resources
