"""grading.lms: the LMS's own gradebook file filled with a lesson's grades, and the course's roster made from it, for
Canvas and Moodle, and the errors that name what is wrong with the file given."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from grading.lms import LmsError, fill, roster, roster_rows

LESSON = "02_polynomial_regression"
CANVAS = f'''Student,ID,SIS User ID,SIS Login ID,Section,Lesson 1: 01_gradient_descent (301),Lesson 2: {LESSON} (302),\
Current Points,Final Points
    Points Possible,,,,,17.00,18.00,(read only),(read only)
"Archer, Alice",1001,S1,alice,Section A,17,,17,17
"Baker, Bob",1002,S2,bob,Section A,3,,3,3
"Cole, Carol",1003,S3,carol,Section B,,,0,0
"Evans, Erin",1005,S5,erin,Section B,,4,4,4
'''
GRADES = {"1001": (18.0, []), "1002": (0.0, []), "1003": (12.5, ["written_question"]), "1004": (9.0, [])}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def canvas(tmp_path) -> Path:
    path = tmp_path / "gradebook.csv"
    path.write_text("\ufeff" + CANVAS, encoding="utf-8")  # Canvas writes a byte-order mark
    return path


def test_canvas_the_lessons_column_is_filled_beside_the_columns_that_name_the_students(canvas, tmp_path):
    result = fill(LESSON, canvas, GRADES, tmp_path / "out" / "import.csv")
    assert result.column == f"Lesson 2: {LESSON} (302)"
    rows = read(result.written)
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", result.column]
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0][result.column] == "18.00"
    assert {r["ID"]: r[result.column] for r in rows[1:]} == {"1001": "18", "1002": "0", "1003": "", "1005": ""}
    assert rows[1]["Student"] == "Archer, Alice" and rows[1]["SIS Login ID"] == "alice"
    assert result.filled == {"1001": 18.0, "1002": 0.0}
    assert result.blank == {"1003": "written answers to grade by hand: written_question", "1005": "not graded by the course"}
    assert result.not_in_export == ["1004"]


def test_canvas_a_column_named_on_the_command_line_is_the_one_filled(canvas, tmp_path):
    result = fill(LESSON, canvas, GRADES, tmp_path / "import.csv", column="Lesson 1: 01_gradient_descent (301)")
    assert [r["Lesson 1: 01_gradient_descent (301)"] for r in read(result.written)][1:] == ["18", "0", "", ""]


@pytest.mark.parametrize(("header", "says"), [
    ("Student,ID,Section,Homework (1),Quiz (2)", "found none. Hint: name it with --column (the columns are Homework (1), Quiz (2))"),
    (f"Student,ID,Section,{LESSON} (1),{LESSON} resubmission (2)", f"found several: {LESSON} (1), {LESSON} resubmission (2)"),
])
def test_canvas_a_lesson_column_that_cannot_be_told_is_named_with_the_columns(tmp_path, header, says):
    path = tmp_path / "gradebook.csv"
    path.write_text(header + "\n")
    with pytest.raises(LmsError, match=f"expected one column whose title holds '{LESSON}', ") as error:
        fill(LESSON, path, GRADES, tmp_path / "import.csv")
    assert says in str(error.value)
    assert not (tmp_path / "import.csv").exists()


def test_moodle_the_grading_worksheets_grade_is_filled_by_participant_id(tmp_path):
    path = tmp_path / "worksheet.csv"
    path.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Feedback comments\n"
                    "Participant 1001,Alice Archer,alice@example.org,Submitted,,18.00,\n"
                    "Participant 1003,Carol Cole,carol@example.org,Submitted,,18.00,\n"
                    "Participant 1009,Zed Zane,zed@example.org,No submission,5.00,18.00,\n")
    result = fill(LESSON, path, GRADES, tmp_path / "import.csv")
    rows = read(result.written)
    assert list(rows[0]) == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Feedback comments"]
    assert [r["Grade"] for r in rows] == ["18", "", ""]
    assert result.blank == {"1003": "written answers to grade by hand: written_question", "1009": "not graded by the course"}
    assert result.not_in_export == ["1002", "1004"]


@pytest.mark.parametrize(("lms", "maximum", "expected"), [
    ("moodle", "100.00", ["100", "", ""]), ("moodle", "18.00", ["18", "", ""]), ("moodle", "9", ["9", "", ""]),
    ("canvas", "36.00", ["36.00", "36", "0", "", ""]), ("canvas", "18.00", ["18.00", "18", "0", "", ""]),
    ("canvas", "(read only)", ["(read only)", "18", "0", "", ""]),
], ids=["moodle-100", "moodle-same", "moodle-half", "canvas-double", "canvas-same", "canvas-unknown"])
def test_grades_are_scaled_to_the_lms_maximum_when_it_is_not_the_lessons_points(tmp_path, lms, maximum, expected):
    path = tmp_path / "export.csv"
    if lms == "moodle":
        path.write_text("Identifier,Full name,Email address,Status,Grade,Maximum grade,Feedback comments\n"
                        f"Participant 1001,Alice Archer,alice@example.org,Submitted,,{maximum},\n"
                        f"Participant 1003,Carol Cole,carol@example.org,Submitted,,{maximum},\n"
                        f"Participant 1009,Zed Zane,zed@example.org,No submission,5.00,{maximum},\n")
    else:
        path.write_text(CANVAS.replace(",17.00,18.00,", f",17.00,{maximum},"))
    result = fill(LESSON, path, GRADES, tmp_path / "import.csv", points=18.0)
    rows = read(result.written)
    assert [r[result.column] for r in rows] == expected
    scaled = _number_or_none(maximum)
    assert result.scaled == (None if scaled in (None, 18.0) else (18.0, scaled))


def _number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@pytest.mark.parametrize(("content", "says"), [
    (None, "no such file; give the gradebook export downloaded from the LMS"),
    ("", "empty; give the gradebook export downloaded from the LMS"),
    (b"PK\x03\x04\xff\xfe", "not a UTF-8 text file; give the CSV the LMS exported, not a spreadsheet"),
    ("id,first_name,last_name,email\n1001,Alice,Archer,\n", "expected a Canvas gradebook export (columns Student, ID, ...) or "
     "a Moodle grading worksheet (columns Identifier, Grade, ...), found the columns id, first_name, last_name, email"),
], ids=["missing", "empty", "a spreadsheet", "the roster"])
def test_a_file_that_is_no_lms_export_is_named_with_what_was_expected(tmp_path, content, says):
    path = tmp_path / "gradebook.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(LmsError) as error:
        fill(LESSON, path, GRADES, tmp_path / "import.csv")
    assert str(error.value) == f"{path}: {says}"


# ---- the roster from the same file ------------------------------------------------------------------------------------
def test_canvas_roster_splits_last_first_and_leaves_out_points_possible_and_the_test_student(canvas, tmp_path):
    canvas.write_text(canvas.read_text(encoding="utf-8-sig").replace("bob,", "bob@example.org,")
                      + '"Student, Test",1099,,,Section A,,,0,0\n', encoding="utf-8")
    students, left_out = roster_rows(canvas)
    assert students == [
        {"id": "1001", "first_name": "Alice", "last_name": "Archer", "email": ""},  # a login that is no e-mail: left out
        {"id": "1002", "first_name": "Bob", "last_name": "Baker", "email": "bob@example.org"},
        {"id": "1003", "first_name": "Carol", "last_name": "Cole", "email": ""},
        {"id": "1005", "first_name": "Erin", "last_name": "Evans", "email": ""},
    ]
    assert left_out == ["Points Possible (no ID: not a student)", "Student, Test (Canvas's test student)"]
    filled = fill(LESSON, canvas, GRADES, tmp_path / "import.csv")
    assert "1099" not in filled.blank and "1099" not in filled.filled, "Canvas's test student is no one to grade"


def test_moodle_roster_takes_the_participant_id_full_name_and_email(tmp_path):
    path = tmp_path / "worksheet.csv"
    path.write_text("Identifier,Full name,Email address,Status,Grade\n"
                    "Participant 20001,Alice Archer,alice@example.org,Submitted,\n"
                    "Participant 20002,Jean Luc Picard,jl@example.org,No submission,\n")
    students, left_out = roster_rows(path)
    assert students == [{"id": "20001", "first_name": "Alice", "last_name": "Archer", "email": "alice@example.org"},
                        {"id": "20002", "first_name": "Jean Luc", "last_name": "Picard", "email": "jl@example.org"}]
    assert left_out == []


def test_the_roster_is_written_for_nbgrader_and_one_edited_by_hand_is_kept(canvas, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((Path(__file__).parents[1] / "nbgrader_config.py").read_text())
    out, students, _ = roster(canvas, course)
    assert out == course / ".grading" / "roster.csv"
    assert out.read_text().splitlines()[:2] == ["id,first_name,last_name,email", "1001,Alice,Archer,"]
    assert roster(canvas, course)[0] == out, "the same roster again is no conflict"
    out.write_text(out.read_text().replace("1001,Alice,Archer,", "1001,Alice,Archer,alice@uni.example"))
    joined = canvas.with_name("later.csv")
    joined.write_text(CANVAS + '"Fox, Fay",1006,S6,fay@uni.example,Section B,,,0,0\n')
    _, students, said = roster(joined, course)
    lines = out.read_text().splitlines()
    assert lines[1] == "1001,Alice,Archer,alice@uni.example", "a row edited by hand is kept as it is"
    assert lines[-1] == "1006,Fay,Fox,fay@uni.example" and len(students) == 5, lines
    assert "joined: 1006 (Fay Fox)" in said
    roster(canvas, course, force=True)
    assert "alice@uni.example" not in out.read_text() and "1006" not in out.read_text()
    out.write_text("name;email\nAlice;a@b\n")
    with pytest.raises(LmsError, match=r"roster.csv: expected the columns id,first_name,last_name,email, found columns "
                                       r"name;email; kept as it is. Hint: fix it by hand, or replace it with --force"):
        roster(canvas, course)
    assert out.read_text() == "name;email\nAlice;a@b\n"


def test_a_roster_from_a_file_without_students_says_so(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text("Student,ID,Section\n    Points Possible,,\n")
    with pytest.raises(LmsError, match="names no student .*Points Possible"):
        roster_rows(path)
