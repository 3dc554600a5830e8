"""The class at a glance: a summary plot of a graded lesson, written with the reports.

Left, the distribution of the students' code scores; right, for each test cell, the share of students who
did not get its full points, so that an instructor sees which exercise the class did not understand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # written to a file by a command-line tool: never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = ["ClassResults", "class_results", "summary_figure", "write_summary_plot"]


@dataclass(frozen=True)
class ClassResults:
    """Per-cell scores of a lesson's students: ``scores[student][cell]``, and each cell's points."""

    lesson: str
    scores: dict[str, dict[str, float]]
    points: dict[str, float]  # test cell -> max score, in the notebook's order

    @property
    def totals(self) -> np.ndarray:
        """Each student's code score, shape (n_students,)."""
        return np.array([sum(cells.get(c, 0.0) for c in self.points) for cells in self.scores.values()])

    def failed_share(self) -> dict[str, float]:
        """For each test cell, the share of students who did not get its full points (0 without students)."""
        n = len(self.scores)
        return {cell: (sum(cells.get(cell, 0.0) < points for cells in self.scores.values()) / n if n else 0.0)
                for cell, points in self.points.items()}


def class_results(db_url: str, lesson: str) -> ClassResults:
    """Read the lesson's autograded test cells from the gradebook at ``db_url``."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            assignment = gb.find_assignment(lesson)
        except MissingEntry:
            return ClassResults(lesson, {}, {})
        points = {cell.name: float(cell.max_score) for nb in assignment.notebooks for cell in nb.grade_cells
                  if cell.cell_type == "code"}
        scores = {}
        for submission in gb.assignment_submissions(lesson):
            scores[submission.student.id] = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades
                                             if g.name in points}
    return ClassResults(lesson, scores, points)


def summary_figure(results: ClassResults) -> Figure:
    """Two panels: the histogram of code scores, and the share of students who failed each test cell."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    total = sum(results.points.values())
    n = len(results.scores)
    bins = np.arange(0, total + 2) - 0.5 if total else np.array([-0.5, 0.5])
    left.hist(results.totals, bins=bins, color="#0072B2", edgecolor="white")
    left.set(title=f"{results.lesson}: code scores of {n} students", xlabel=f"code score (points, out of {total:g})",
             ylabel="students")
    left.yaxis.set_major_locator(MaxNLocator(integer=True))  # students are counted in whole numbers
    share = results.failed_share()
    names = [cell.removeprefix("test_") for cell in share]
    values = [100 * v for v in share.values()]
    bars = right.barh(names, values, color=["#D55E00" if v >= 50 else "#E69F00" for v in values])
    right.invert_yaxis()
    right.set(title="students who lost the exercise's points", xlabel="share of students (%)", xlim=(0, 100))
    right.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3)
    return fig


def write_summary_plot(db_url: str, lesson: str, folder: Path) -> Path:
    """Write ``<folder>/summary.png`` for the lesson's graded class; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    fig = summary_figure(class_results(db_url, lesson))
    path = folder / "summary.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
