"""grading.collect and the course's FileNameCollectorPlugin.named_regexp: who a downloaded file belongs to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grading.course import load_config

NOTEBOOK = "01_gradient_descent.ipynb"


@pytest.fixture(scope="module")
def named_regexp() -> str:
    return load_config(Path(__file__).resolve().parents[1])[1].FileNameCollectorPlugin.named_regexp


@pytest.mark.parametrize(("name", "student", "late"), [
    (f"archeralice_1001_5001_{NOTEBOOK}", "1001", False),
    (f"late_bakerbob_1002_5002_{NOTEBOOK}", "1002", True),
    (f"dunndave_LATE_1004_5004_{NOTEBOOK}", "1004", True),
    (f"evanserin_late_1005_5005_{NOTEBOOK}", "1005", True),
    (f"latecomerlee_1006_5006_{NOTEBOOK}", "1006", False),
    (f"Late Anne_77_assignsubmission_file_/{NOTEBOOK}", "77", False),
    (f"Carol Smith_42_assignsubmission_file_/{NOTEBOOK}", "42", False),
], ids=["canvas", "late before the name", "LATE after the name (Canvas)", "late in lower case", "a name starting with late",
        "moodle, a name starting with Late", "moodle"])
def test_a_download_name_gives_the_student_the_file_and_the_late_mark(named_regexp, name, student, late):
    match = re.match(named_regexp, f"/course/.grading/downloaded/01/extracted/{name}")
    assert match is not None
    assert match.group("student_id") == student
    assert Path(match.group("file_id")).name == NOTEBOOK
    assert bool(match.group("late")) is late


def test_a_name_no_lms_gives_does_not_match(named_regexp):
    assert re.match(named_regexp, f"/course/.grading/downloaded/01/extracted/{NOTEBOOK}") is None


def test_two_canvas_students_with_the_same_name_are_two_students(named_regexp):
    ids = [re.match(named_regexp, f"/course/.grading/downloaded/01/extracted/smithjohn_{user}_{sub}_{NOTEBOOK}").group("student_id")
           for user, sub in (("2001", "7001"), ("2002", "7002"))]
    assert ids == ["2001", "2002"]
