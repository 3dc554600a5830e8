"""Lesson 7's section 9 measures the test digits on the model exercise 6's test chose, and on nothing changed since.

The student notebook, every answer filled in, runs once in one kernel; then, in that kernel, what a student might do
after the test: train final_model further on the validation digits, or try another design. Section 9 says so at once
and measures nothing.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import course

LESSON = "07_mnist_mlp"
SECTION_9 = "# The test digits measure the model exercise 6's test chose"


@pytest.fixture(scope="module")
def kernel():
    released = course.NOTEBOOKS / LESSON / f"{LESSON}.ipynb"
    nb = course.fill_answers(course.read(released), course.read(course.source_notebook(LESSON)))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(released.parent)}})
    with client.setup_kernel(env={"OMP_NUM_THREADS": "1"}):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)

        def run(source: str) -> str:
            """Run ``source`` in the kernel; the error's text, or "" when there is none."""
            cell = nbformat.v4.new_code_cell(source)
            nb.cells.append(cell)
            try:
                client.execute_cell(cell, len(nb.cells) - 1)
            except CellExecutionError as error:
                return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split())  # as one line, without colours
            return ""

        cells = {"section_9": next(c.source for c in nb.cells if c.source.startswith(SECTION_9)),
                 "test": next(c.source for c in nb.cells if course.nbgrader_meta(c).get("grade_id") == "test_final_model")}
        yield run, cells


def test_section_9_stops_a_final_model_trained_further_after_the_test(kernel):
    run, cells = kernel
    assert run(cells["section_9"]) == "", "nothing changed since the test"
    said = run("kept = copy.deepcopy(final_model.state_dict())\n"
               "opt = optim.SGD(final_model.parameters(), lr=0.01, momentum=0.9)\n"
               "for _ in range(3):\n"
               "    train_one_epoch(final_model, data.loader('val', batch_size=64), opt, nn.CrossEntropyLoss())")
    assert said == ""
    said = run(cells["section_9"])
    assert re.search(r"final_model's validation accuracy now minus the one exercise 6's test measured: expected 0(\.0)?, "
                     r"got 0\.0[0-9]+", said), said
    assert "train final_model no further after the test" in said
    assert run("final_model.load_state_dict(kept)") == ""
    assert run(cells["section_9"]) == ""


def test_section_9_stops_a_design_tried_after_the_test(kernel):
    run, cells = kernel
    assert run('_ = run("a try after the test", hidden=(32,), epochs=1)') == ""
    said = run(cells["section_9"])
    assert "runs made after exercise 6's test last ran, which compared final_model with none of them: expected 0, got 1" \
        in said, said
    assert "then run the notebook again from the top" in said
    said = run(cells["test"])
    assert "how many test digits any model at all" in said and "got 500" in said, "section 9 looked at them already"
