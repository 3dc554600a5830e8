"""A lesson's wrong answers judged in one sandboxed kernel, by the grader's own Execute step.

The round trip grades the solution, the untouched notebook and the exercises' main wrong answers, several
to a submission (``course.wrong_submissions``), as whole submissions: a full ``nbgrader autograde`` each,
which proves that a wrong answer costs its own exercise and nothing after it. A lesson keeps many more
wrong answers, mostly the mistakes students made in trials (``<exercise>--<what it gets wrong>`` in
``tests/wrong_answers/``), and grading each as a whole submission costs a whole run of the lesson. They
are judged here instead, in one run of the solution:

:class:`OneKernelExecute` is the course's :class:`~grading.execute.SandboxedExecute` (the sandboxed kernel,
the probes, the reference records and the judge of real grading). When it reaches an exercise's test cell,
for each wrong answer of that exercise it puts the wrong answer in the answer cell, runs the cells from
the answer cell to the test cell again, and records the judge's verdict on the test cell. After the exercise's
last wrong answer it puts the solution back, runs the same cells and records the verdict again, as every one
of them's ``restored``: it must pass, so that no wrong answer left something behind in the kernel that the
test cell needs (the failures are the wrong answers' own). Then the lesson goes on.

The solution is put back once per exercise, not after each wrong answer (that doubled the run: lesson 7's
final model trains in each). Each wrong answer replaces the whole answer cell and the cells up to the test
cell run again after it, so a wrong answer meets what the one before it defined only in names it does not
define itself; when the solution put back fails, every wrong answer of that exercise is reported, and
``judge`` with one of them at a time names the one to blame.

What this does not show, for the further wrong answers, is that the cells after the test cell still pass:
that is shown once per exercise, by its main wrong answer, graded in whole submissions. The main wrong
answers are judged here too, and both ways must agree.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from nbclient.util import run_sync
from nbformat import NotebookNode
from traitlets import Dict
from traitlets.config.loader import PyFileConfigLoader

import course
from grading.execute import SandboxedExecute

__all__ = ["OneKernelExecute", "Verdict", "judge", "judge_wrong_answers"]


@dataclass(frozen=True)
class Verdict:
    """The grader's verdict on one test cell: passed, and the message the student's feedback would show."""

    passed: bool
    message: str


def verdict_of(cell: NotebookNode) -> Verdict:
    """Read the verdict ``SandboxedExecute`` wrote as a test cell's outputs."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        return Verdict(False, f"{errors[0].get('ename', '')}: {errors[0].get('evalue', '')}")
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    return Verdict(True, text.strip())


class OneKernelExecute(SandboxedExecute):
    """``SandboxedExecute`` that also judges wrong answers of each exercise at its test cell (see the module)."""

    wrong_answers = Dict(help="{exercise grade_id: {key: source}}: the wrong answers to judge.")

    def preprocess(self, nb, resources=None, km=None):
        self.verdicts: dict[str, dict[str, Verdict]] = {}
        return super().preprocess(nb, resources, km)

    def _index_of(self, grade_id: str) -> int:
        return next(i for i, c in enumerate(self.nb.cells) if course.nbgrader_meta(c).get("grade_id") == grade_id)

    async def _run_from(self, start: int, stop: int) -> Verdict:
        """Run copies of cells ``start`` to ``stop - 1`` and the test cell ``stop``; return its verdict."""
        cells = list(self.nb.cells)  # nbclient puts each cell it ran into the notebook: the copies must not stay
        try:
            for index in range(start, stop):
                cell = cells[index]
                if cell.cell_type == "code" and cell.source.strip():
                    await SandboxedExecute.async_execute_cell(self, copy.deepcopy(cell), index, None, False)
            test = await self._execute_test_cell(copy.deepcopy(cells[stop]), stop, None, False)
        finally:
            self.nb.cells[:] = cells
        return verdict_of(test)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        grade_id = course.nbgrader_meta(cell).get("grade_id", "")
        exercise = grade_id.removeprefix("test_")
        if self._is_test(cell) and exercise in self.wrong_answers:
            start = self._index_of(exercise)
            answer = self.nb.cells[start]
            solution = answer.source
            judged = {}
            for key, source in self.wrong_answers[exercise].items():
                answer.source = source  # the check of loops reads the answer from the notebook, as in grading
                try:
                    judged[key] = await self._run_from(start, cell_index)
                finally:
                    answer.source = solution
            restored = await self._run_from(start, cell_index)  # once for the exercise: see the module
            for key, wrong in judged.items():
                self.verdicts[key] = {"wrong": wrong, "restored": restored}
        return await SandboxedExecute.async_execute_cell(self, cell, cell_index, execution_count, store_history)

    execute_cell = run_sync(async_execute_cell)


_judged: dict[str, dict] = {}


def judge_wrong_answers(lesson: str, root: Path) -> dict:
    """Judge every wrong answer kept for ``lesson`` (``tests/wrong_answers``), and every right one
    (``tests/right_answers``), once per test process: see :func:`judge`."""
    if lesson not in _judged:
        wrong: dict[str, dict[str, str]] = {}
        right = course.right_answers(lesson)
        both = set(right) & set(course.wrong_answers(lesson))
        assert not both, f"{lesson}: kept as wrong and as right answers: {sorted(both)}"
        for key, entry in [*course.wrong_answers(lesson).items(), *right.items()]:
            wrong.setdefault(entry["exercise"], {})[key] = entry["source"].strip("\n")
        _judged[lesson] = judge(lesson, root, wrong)
    return _judged[lesson]


def judge(lesson: str, root: Path, wrong: dict[str, dict[str, str]]) -> dict:
    """Judge wrong answers of ``lesson`` in one run of its solution, in the course ``root`` where the lesson was
    released (``nbgrader generate_assignment``).

    Parameters
    ----------
    wrong : dict
        ``{exercise grade_id: {key: source}}``: the wrong answers to put in place of each exercise's answer.

    Returns
    -------
    dict
        ``{"verdicts": {key: {"wrong": Verdict, "restored": Verdict}}, "final": {test grade_id: Verdict}}``;
        ``final`` holds the verdicts of the run itself (the solution), after every wrong answer was judged.
    """
    released = course.read(root / "notebooks" / lesson / f"{lesson}.ipynb")
    source = course.read(course.source_notebook(lesson))
    nb = course.fill_answers(released, source)
    tests = course.graded_cells(lesson).tests
    by_id = {course.nbgrader_meta(c).get("grade_id"): c.source for c in source.cells}
    for cell in nb.cells:  # with their hidden tests, as nbgrader restores them from the gradebook
        grade_id = course.nbgrader_meta(cell).get("grade_id")
        if grade_id in tests:
            cell.source = by_id[grade_id]

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    executor = OneKernelExecute(config=config, wrong_answers=wrong)
    folder = root / ".grading" / "one-kernel" / lesson
    folder.mkdir(parents=True, exist_ok=True)
    resources = {"nbgrader": {"assignment": lesson, "notebook": lesson}, "metadata": {"path": str(folder)}}
    with mock.patch.dict(os.environ, {"PYTHONHASHSEED": "0", "NBGRADER_EXECUTION": "autograde"}):  # as `nbgrader autograde`
        os.environ.pop("MPLBACKEND", None)  # put back on leaving the block
        ran, _ = executor.preprocess(nb, resources)
    final = {course.nbgrader_meta(c)["grade_id"]: verdict_of(c) for c in ran.cells
             if course.nbgrader_meta(c).get("grade_id") in tests}
    return {"verdicts": executor.verdicts, "final": final}
