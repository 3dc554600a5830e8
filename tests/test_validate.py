"""A student's Validate reports every cell that raised, not only the test cells (``Validator.validate_all``)."""

from __future__ import annotations

import nbformat

import course


def _notebook(first_cell: str) -> nbformat.NotebookNode:
    test = nbformat.v4.new_code_cell("assert 1 + 1 == 2\nprint('passed')")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "test_sum", "locked": True, "points": 1, "schema_version": 3,
                                 "solution": False, "task": False}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first_cell), test])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_validate_reports_an_ordinary_cell_that_raised_and_passes_one_that_did_not(tmp_path):
    root = course.make_course(tmp_path / "course", [])
    for name, first_cell in [("broken", "x = 1\nraise ValueError('a cell before the tests broke')"), ("fine", "x = 1\nprint(x)")]:
        nbformat.write(_notebook(first_cell), root / f"{name}.ipynb")
    broken = course.nbgrader(root, "validate", "broken.ipynb")
    assert "The following cell failed" in broken.stdout and "a cell before the tests broke" in broken.stdout, broken.stdout
    fine = course.nbgrader(root, "validate", "fine.ipynb")
    assert "Success! Your notebook passes all the tests." in fine.stdout, fine.stdout


def _config(path, monkeypatch):
    from traitlets.config import Config

    monkeypatch.setenv("COURSE_HUB_COURSE_ID", "course")
    monkeypatch.setenv("COURSE_HUB_EXCHANGE", "/srv/exchange")
    config = Config()
    exec(compile(path.read_text(), str(path), "exec"), {"get_config": lambda: config, "__file__": str(path)})
    return config


def test_the_class_hub_validates_as_the_course_does(monkeypatch):
    """The hub's students never read the course's nbgrader_config.py: its own configuration says the same of Validate."""
    course_validator = _config(course.REPO / "nbgrader_config.py", monkeypatch).Validator
    hub_validator = _config(course.REPO / "hub" / "roles" / "common" / "nbgrader_config.py", monkeypatch).Validator
    assert course_validator.validate_all is True
    assert dict(hub_validator) == dict(course_validator), "hub/roles/common/nbgrader_config.py and nbgrader_config.py differ"


def test_validate_shows_a_failed_checks_whole_message_and_hint(tmp_path):
    """nbgrader validate cuts each line it prints at 87 characters: a check's message is wrapped to fit, so what
    was expected, what came back and the hint all reach a student who validates, and the checks' own frames are
    left out of the traceback."""
    root = course.make_course(tmp_path / "course", [])
    hint = "the line is m * x + c: use the intercept c you are given, not a constant of your own, and keep the slope"
    nb = _notebook("import numpy as np\nfrom helpers import check_close")
    nb.cells[1].source = (f"check_close('predict(x, m=2, c=1) for the eight inputs of the lesson', np.arange(8.0), "
                          f"np.arange(8.0) + 1, hint={hint!r})")
    nbformat.write(nb, root / "check.ipynb")
    out = course.nbgrader(root, "validate", "check.ipynb").stdout
    error = out[out.index("The error was:"):]
    assert not any(line.endswith("...") for line in error.splitlines() if "CheckFailed:" in line or "Hint" in line), error
    words = " ".join(error.split())
    assert ("CheckFailed: predict(x, m=2, c=1) for the eight inputs of the lesson: expected [1., 2., 3., 4., 5., 6., 7., 8.] "
            "(shape (8,)), got [0., 1., 2., 3., 4., 5., 6., 7.] (shape (8,))") in words, error
    assert f"Hint: {hint}" in words, error
    assert "helpers/checks.py" not in error and "Cell In[2]" in error, error
