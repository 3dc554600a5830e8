"""grading.lms: the LMS's own gradebook file filled with a lesson's grades, and the course's roster made from it, for
Canvas and Moodle, and the errors that name what is wrong with the file given."""

from __future__ import annotations

import csv
import zipfile
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


def test_lms_grades_with_no_grade_filled_says_there_is_nothing_to_import(tmp_path, monkeypatch, capsys):
    from grading import lms

    result = lms.LmsGrades(tmp_path / "out.csv", "Grade", blank={"1003": "written answers to grade by hand: written_question"})
    monkeypatch.setattr(lms, "lms_grades", lambda lesson, export, column, course: result)
    monkeypatch.setattr(lms, "read_roster", lambda course=None: lms.Roster({}, {}, False))
    assert lms.main([LESSON, str(tmp_path / "worksheet.csv"), "--course", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "no grade filled in: nothing to import yet" in said and "import it into" not in said


def test_a_grade_the_file_holds_for_a_student_whose_written_answers_wait_is_named(tmp_path):
    path = tmp_path / "worksheet.csv"  # Carol's 10.00 was imported before her written answer waited (a draft graded, say)
    path.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade\n"
                    "Participant 1003,Carol Cole,carol@example.org,Submitted,10.00,18.00\n")
    result = fill(LESSON, path, GRADES, tmp_path / "import.csv")
    assert [r["Grade"] for r in read(result.written)] == [""]
    assert result.blank == {"1003": "written answers to grade by hand: written_question; the file holds 10.00 for them, "
                                     "which the LMS keeps: clear it there if it no longer stands"}


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


# ---- lms-feedback: the pages packed for Moodle's "Upload multiple feedback files in a zip" ---------------------------
WORKSHEET = ("Identifier,Full name,Email address,Status,Grade,Maximum grade\n"
             "Participant 30101,Chloé Dubois,chloe@example.org,Submitted,,100.00\n"
             "Participant 30102,Ana_Maria Lopez,ana@example.org,Submitted,,100.00\n"
             "Participant 30103,Bob Baker,bob@example.org,Submitted,,100.00\n"
             "Participant 30104,Dan Stale,dan@example.org,Submitted,,100.00\n"
             "Participant 30105,Eve Absent,eve@example.org,No submission,,100.00\n")


def moodle_reads(entry: str) -> tuple[int, str, str, str] | None:
    """What Moodle's feedback import (assignfeedback_file's zip importer) reads from a path in the zip: the first part
    split by "_" into at most 5 pieces with 4 or more, whose second is a number, gives ``(participant id, plugin type,
    plugin name, file name)``."""
    parts = entry.split("/")
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) >= 4 and info[1].isdigit():
            return int(info[1]), info[2], info[3], "/".join([info[4] if len(info) == 5 else "", *parts]).lstrip("/")
    return None


@pytest.fixture
def moodle_course(tmp_path):
    import os
    import time

    from grading.lms import lms_feedback

    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((Path(__file__).parents[1] / "nbgrader_config.py").read_text())
    worksheet = tmp_path / "Grades-Lesson 2-5123.csv"
    worksheet.write_text(WORKSHEET, encoding="utf-8")
    now = time.time()
    for student, graded_at, page_at in [("30101", now - 60, now), ("30102", now - 60, now), ("30103", now - 60, None),
                                        ("30104", now, now - 600)]:
        graded = course / ".grading" / "autograded" / student / LESSON / f"{LESSON}.ipynb"
        graded.parent.mkdir(parents=True)
        graded.write_text("{}")
        os.utime(graded, (graded_at, graded_at))
        if page_at is not None:
            page = course / ".grading" / "feedback" / student / LESSON / f"{LESSON}.html"
            page.parent.mkdir(parents=True)
            page.write_text(f"<html><body>page of {student}</body></html>", encoding="utf-8")
            os.utime(page, (page_at, page_at))
    return course, worksheet, lms_feedback


def test_moodle_feedback_zip_holds_each_current_page_where_moodles_import_finds_its_participant(moodle_course):
    course, worksheet, lms_feedback = moodle_course
    result = lms_feedback(LESSON, worksheet, course)
    assert result.written == course / ".grading" / "lms" / f"{LESSON}-feedback.zip"
    with zipfile.ZipFile(result.written) as archive:
        entries = {name: archive.read(name).decode() for name in archive.namelist()}
    assert sorted(entries) == [f"Ana Maria Lopez_30102_assignfeedback_file_/{LESSON}.html",
                               f"Chloé Dubois_30101_assignfeedback_file_/{LESSON}.html"], \
        "an underscore in a name would move the participant id Moodle reads"
    for entry, text in entries.items():
        student, plugin_type, plugin, name = moodle_reads(entry)
        assert (plugin_type, plugin, name) == ("assignfeedback", "file", f"{LESSON}.html"), entry
        assert text == f"<html><body>page of {student}</body></html>", "each page is its own student's"
    assert sorted(result.packed) == ["30101", "30102"]
    assert result.left_out == {"30103": f"no feedback page: run nbgrader generate_feedback {LESSON} --force",
                               "30104": f"its page is older than its grading: run nbgrader generate_feedback {LESSON} "
                                        "--force",
                               "30105": "not graded by the course"}


def test_lms_feedback_command_says_what_it_packed_and_left_out_and_exits_1_when_graded_pages_are_missing(moodle_course):
    import subprocess
    import sys

    course, worksheet, _ = moodle_course
    done = subprocess.run([sys.executable, "-m", "grading", "lms-feedback", LESSON, str(worksheet)], cwd=course,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, "a zip without every graded student's page is no zip to upload as it is"
    said = done.stdout
    assert said.startswith(f"wrote {course / '.grading' / 'lms' / f'{LESSON}-feedback.zip'} (0.0 MB): "), said
    assert "2 page(s); upload it in Moodle (View all submissions → Grading action → Upload multiple feedback files" in said
    assert "left out: 30104 Dan Stale (its page is older than its grading" in said, "the worksheet's name beside the id"
    assert "left out: 30105 Eve Absent (not graded" in said
    assert done.stderr == (f"python -m grading lms-feedback: 2 of 4 graded students' pages left out of the zip (1 with a "
                           "page that shows an earlier grading than the gradebook's; 1 with no page yet), which holds the "
                           f"other 2. Hint: run nbgrader generate_feedback {LESSON} --force, then this command again, "
                           "before uploading\n")
    with zipfile.ZipFile(course / ".grading" / "lms" / f"{LESSON}-feedback.zip") as archive:
        assert len(archive.namelist()) == 2, "the zip is written with the pages there are"

    worksheet.write_text("".join(line for line in WORKSHEET.splitlines(keepends=True) if "30103" not in line and "30104" not in line))
    done = subprocess.run([sys.executable, "-m", "grading", "lms-feedback", LESSON, str(worksheet)], cwd=course,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", "a student the course did not grade has no page to miss"
    assert "2 page(s)" in done.stdout and "left out: 30105 Eve Absent (not graded by the course)" in done.stdout


@pytest.mark.parametrize("content, says", [
    (CANVAS, "a Canvas gradebook export; Canvas takes no feedback files in bulk. Hint: attach each student's page"),
    ("Name,Score\nAlice,3\n", "expected Moodle's grading worksheet .*found the columns Name, Score"),
    ("Identifier,Full name,Grade\nParticipant 999,Zed Nobody,\n",
     "none of its 1 student.s. has a feedback page to pack .999: not graded by the course.; nothing written"),
])
def test_lms_feedback_from_a_file_it_cannot_use_names_the_file_and_writes_nothing(moodle_course, content, says):
    course, worksheet, lms_feedback = moodle_course
    worksheet.write_text(content, encoding="utf-8")
    with pytest.raises(LmsError, match=says):
        lms_feedback(LESSON, worksheet, course)
    assert not (course / ".grading" / "lms").exists()


def test_moodle_feedback_leaves_out_a_page_that_shows_an_earlier_grading_than_the_gradebook(tmp_path):
    from grading.lms import feedback_zip

    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(WORKSHEET, encoding="utf-8")
    shows = {"30101": "score=7.5 waiting=written_question",  # as the gradebook: packed
             "30102": "score=7.5 waiting=written_question",  # graded by hand since, 2 points
             "30103": "score=7.5 waiting=written_question",  # graded by hand since, 0 points: the same score
             "30104": None,                                  # a page without the record
             "30105": "score=3.0 waiting="}                  # a student the gradebook does not know: nothing to compare
    for student, record in shows.items():
        page = tmp_path / "feedback" / student / LESSON / f"{LESSON}.html"
        page.parent.mkdir(parents=True)
        meta = f'<meta name="course-grading" content="{record}">' if record else ""
        page.write_text(f"<html><head>{meta}</head><body>page of {student}</body></html>", encoding="utf-8")
    grades = {"30101": (7.5, ["written_question"]), "30102": (9.5, []), "30103": (7.5, []), "30104": (7.5, [])}
    result = feedback_zip(LESSON, worksheet, tmp_path / "feedback", tmp_path / "autograded", tmp_path / "out.zip", grades)
    assert sorted(result.packed) == ["30101", "30105"]
    again = f": run nbgrader generate_feedback {LESSON} --force"
    assert result.left_out == {
        "30102": "its page shows an earlier grading: 7.5 points on the page, 9.5 in the gradebook, written_question "
                 "graded by hand since" + again,
        "30103": "its page shows an earlier grading: 7.5 points on the page, 7.5 in the gradebook, written_question "
                 "graded by hand since" + again,
        "30104": "its page does not say which grading it shows (made by an earlier version of the course)" + again}
    assert result.provisional == ["30101"], "a page packed while written answers wait for a hand grade is named"


def test_moodle_feedback_goes_into_zips_of_at_most_the_size_moodle_takes(moodle_course, tmp_path):
    import os
    import subprocess
    import sys

    course, worksheet, lms_feedback = moodle_course
    for student in ("30101", "30102"):  # pages of 60 kB that compress to half (figures, say)
        page = course / ".grading" / "feedback" / student / LESSON / f"{LESSON}.html"
        page.write_bytes(b"<html><body>" + os.urandom(30_000).hex().encode() + b"</body></html>")
        os.utime(page, (page.stat().st_mtime + 3600,) * 2)
    whole = lms_feedback(LESSON, worksheet, course)
    assert whole.parts == [whole.written] and whole.written.stat().st_size > 50_000
    parts = lms_feedback(LESSON, worksheet, course, max_bytes=45_000)
    assert [p.name for p in parts.parts] == [f"{LESSON}-feedback-1.zip", f"{LESSON}-feedback-2.zip"]
    assert not whole.written.exists(), "the earlier whole zip is gone: only this packing's zips are to be uploaded"
    held = [zipfile.ZipFile(p).namelist() for p in parts.parts]
    assert [len(names) for names in held] == [1, 1] and sorted(parts.packed) == ["30101", "30102"]
    assert all(p.stat().st_size < 45_000 for p in parts.parts)
    again = lms_feedback(LESSON, worksheet, course)
    assert again.parts == [again.written] and not any(p.exists() for p in parts.parts), "the parts of before are gone"
    done = subprocess.run([sys.executable, "-m", "grading", "lms-feedback", LESSON, str(worksheet), "--max-mb", "0"],
                          cwd=course, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--max-mb must be above 0, got 0" in done.stderr


def moodle_before_41_reads(entry: str) -> tuple[int, str, str, str] | None:
    """What the feedback import of Moodle 3.1 to 4.0 reads from a path in the zip: the whole path ("/" before it) split
    by "_" into at most 5 pieces, all 5 needed, gives ``(participant id, plugin type, plugin name, file name)``."""
    info = ("/" + entry).split("_", 4)
    if len(info) < 5 or not info[1].isdigit():
        return None
    return int(info[1]), info[2], info[3], info[4]


def test_moodle_feedback_zip_has_folders_every_moodle_from_31_imports(moodle_course):
    course, worksheet, lms_feedback = moodle_course
    result = lms_feedback(LESSON, worksheet, course)
    with zipfile.ZipFile(result.written) as archive:
        entries = archive.namelist()
    assert entries == [f"Ana Maria Lopez_30102_assignfeedback_file_/{LESSON}.html",
                       f"Chloé Dubois_30101_assignfeedback_file_/{LESSON}.html"]
    for entry in entries:
        assert moodle_before_41_reads(entry)[1:] == ("assignfeedback", "file", f"/{LESSON}.html"), entry
        assert moodle_reads(entry)[1:] == ("assignfeedback", "file", f"{LESSON}.html"), entry
    # the folder as Moodle 4.1 and later name their downloads' folders, without the last "_": Moodle 3.x finds no
    # plugin in it, and 4.1's importer reads the same file from both
    without = entries[0].replace("_file_/", "_file/")
    assert moodle_before_41_reads(without)[1:3] == ("assignfeedback", "file/02"), "Moodle 3.x finds no plugin file/02"
    assert moodle_reads(without) == moodle_reads(entries[0])
    assert sorted(result.packed) == ["30101", "30102"]


# ---- Moodle's participant ids are per assignment: one student, one roster id, across lessons ------------------------
LESSON1 = ("Identifier,Full name,Email address,Status,Grade,Maximum grade\n"
           "Participant 1000001,Ada Lovelace,ada@example.org,Submitted,,100.00\n"
           "Participant 1000002,Alan Turing,alan@example.org,Submitted,,100.00\n")
LESSON2 = ("Identifier,Full name,Email address,Status,Grade,Maximum grade\n"
           "Participant 1000011,Ada Lovelace,ada@example.org,Submitted,,100.00\n"
           "Participant 1000012,Alan Turing,Alan@Example.org,Submitted,,100.00\n"
           "Participant 1000013,Blaise Pascal,blaise@example.org,Submitted,,100.00\n")


@pytest.fixture
def two_lessons(tmp_path) -> tuple[Path, Path, Path]:
    """A course, and Moodle's grading worksheets of two lessons, which give the same students new participant ids."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((Path(__file__).parents[1] / "nbgrader_config.py").read_text())
    (tmp_path / "lesson1.csv").write_text(LESSON1, encoding="utf-8")
    (tmp_path / "lesson2.csv").write_text(LESSON2, encoding="utf-8")
    return course, tmp_path / "lesson1.csv", tmp_path / "lesson2.csv"


def test_moodle_a_later_lessons_worksheet_records_a_known_student_by_email_as_an_alias(two_lessons):
    from grading.lms import read_roster

    course, lesson1, lesson2 = two_lessons
    out, _, said = roster(lesson1, course)
    first = out.read_text()
    _, students, said = roster(lesson2, course)
    assert out.read_text() == first + "1000013,Blaise,Pascal,blaise@example.org\n", "a row for the new student only"
    assert out.read_text().splitlines()[0] == "id,first_name,last_name,email", "nbgrader db student import reads it"
    assert len(students) == 3
    assert said == ["recognised: 1000011 (Ada Lovelace) as 1000001, by e-mail: an alias, no new row",
                    "recognised: 1000012 (Alan Turing) as 1000002, by e-mail: an alias, no new row",
                    "joined: 1000013 (Blaise Pascal)"]
    aliases = out.with_name("roster_aliases.csv")
    assert aliases.read_text() == "alias,id,worksheet\n1000011,1000001,lesson2.csv\n1000012,1000002,lesson2.csv\n"
    assert roster(lesson2, course)[2] == [] and roster(lesson1, course)[2] == [], "the same worksheets again: nothing new"
    assert aliases.read_text().count("\n") == 3
    known = read_roster(course)
    assert [known.resolve(s) for s in ("1000001", "1000011", "1000012", "1000013", "1000099")] == \
        ["1000001", "1000001", "1000002", "1000013", None]
    assert known.name("1000011") == "Ada Lovelace"
    roster(lesson2, course, force=True)
    assert not aliases.exists(), "a roster written afresh has no aliases of another roster's ids"


def test_roster_command_asks_for_the_import_only_when_the_roster_gained_students(two_lessons, capsys, monkeypatch):
    from grading.lms import roster_main

    course, lesson1, lesson2 = two_lessons
    monkeypatch.chdir(course)
    said = []
    for worksheet, force in [(lesson1, False), (lesson2, False), (lesson2, False), (lesson1, False), (lesson1, True)]:
        assert roster_main([str(worksheet)] + ["--force"] * force) == 0
        said.append(capsys.readouterr().out.splitlines()[0])
    imported = "next: nbgrader db student import .grading/roster.csv"
    assert said[0] == f"wrote {course / '.grading' / 'roster.csv'}: 2 student(s); {imported}", "the first lesson"
    assert said[1].endswith(f"3 student(s); {imported}"), "a later lesson with a new student: Blaise needs importing"
    for line in said[2:4]:
        assert line.endswith("3 student(s), no new one: the gradebook has them all already (no import needed)"), line
    assert said[4].endswith(f"2 student(s); {imported}"), "a roster written afresh is imported again"


def test_moodle_a_worksheet_without_emails_says_students_cannot_be_recognised_across_lessons(two_lessons, capsys):
    from grading.lms import roster_main

    course, lesson1, lesson2 = two_lessons
    lesson1.write_text(LESSON1.replace(",Email address", "").replace(",ada@example.org", "").replace(",alan@example.org", ""))
    assert roster_main([str(lesson1), "--course", str(course)]) == 0
    said = capsys.readouterr().out
    assert ("  note: no e-mail for 2 student(s) (1000001, 1000002): Moodle gives every assignment new participant ids, "
            "and a student without an e-mail cannot be recognised in a later lesson's worksheet. Hint: in Moodle, add "
            "Email address to the identity fields (Site administration → Users → Permissions → User policies → Show "
            "user identity), then download the grading worksheet again") in said
    out = course / ".grading" / "roster.csv"
    before = out.read_text()
    with pytest.raises(LmsError, match=r"roster.csv: expected e-mail addresses \(column email\) to recognise its students "
                                       r"in .*lesson2.csv, found none: .* the roster is kept as it is. Hint: add each "):
        roster(lesson2, course)
    lesson2.write_text(LESSON2.replace(",Email address", "").replace(",ada@example.org", "")
                       .replace(",Alan@Example.org", "").replace(",blaise@example.org", ""))
    with pytest.raises(LmsError) as error:
        roster(lesson2, course)
    assert str(error.value) == (
        f"{lesson2}: expected e-mail addresses (column Email address) to recognise the students already in {out}, found "
        "none: Moodle gives every assignment new participant ids, so students cannot be recognised across lessons without "
        "them; the roster is kept as it is. Hint: in Moodle, add Email address to the identity fields (Site "
        "administration → Users → Permissions → User policies → Show user identity), then download the grading worksheet "
        "again, and run python -m grading roster with it")
    assert out.read_text() == before and not out.with_name("roster_aliases.csv").exists()


def test_moodle_grades_and_pages_of_a_later_lesson_go_to_its_participant_ids_through_the_aliases(two_lessons, tmp_path):
    from grading.lms import feedback_zip, read_roster

    course, lesson1, lesson2 = two_lessons
    roster(lesson1, course)
    roster(lesson2, course)
    lesson2.write_text(LESSON2 + "Participant 1000019,Zed Zane,zed@example.org,Submitted,,100.00\n", encoding="utf-8")
    grades = {"1000001": (18.0, []), "1000002": (9.0, ["written_question"]), "1000013": (0.0, [])}
    known = read_roster(course)
    result = fill(LESSON, lesson2, grades, tmp_path / "import.csv", points=18.0, roster=known)
    rows = read(result.written)
    assert [(r["Identifier"], r["Grade"]) for r in rows] == [
        ("Participant 1000011", "100"), ("Participant 1000012", ""), ("Participant 1000013", "0"),
        ("Participant 1000019", "")], "Moodle's own ids of the lesson stay in the worksheet"
    assert result.roster_ids == {"1000011": "1000001", "1000012": "1000002"}
    assert result.unknown == ["1000019"] and result.not_in_export == []
    assert result.blank["1000019"] == ("participant id 1000019 is in neither the roster nor its aliases: run `python -m "
                                       "grading roster WORKSHEET.csv` with this lesson's grading worksheet first")

    for student in ("1000001", "1000002", "1000013"):
        page = tmp_path / "feedback" / student / LESSON / f"{LESSON}.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<html><body>page of {student}</body></html>", encoding="utf-8")
    packed = feedback_zip(LESSON, lesson2, tmp_path / "feedback", tmp_path / "autograded", tmp_path / "out.zip",
                          roster=known)
    with zipfile.ZipFile(packed.written) as archive:
        entries = {name: archive.read(name).decode() for name in archive.namelist()}
    assert entries == {f"Ada Lovelace_1000011_assignfeedback_file_/{LESSON}.html": "<html><body>page of 1000001</body></html>",
                       f"Alan Turing_1000012_assignfeedback_file_/{LESSON}.html": "<html><body>page of 1000002</body></html>",
                       f"Blaise Pascal_1000013_assignfeedback_file_/{LESSON}.html": "<html><body>page of 1000013</body></html>"}
    assert packed.left_out == {"1000019": result.blank["1000019"]} and packed.unknown == ["1000019"]
    assert packed.missing == packed.left_out, "a page that cannot be told whose is a page left out"


def test_lms_grades_names_a_participant_id_the_roster_does_not_know_and_exits_1(two_lessons, capsys, monkeypatch):
    import grading.lms
    from grading.lms import main

    course, lesson1, lesson2 = two_lessons
    monkeypatch.setattr(grading.lms, "_grades", lambda db_url, lesson: ({}, None))  # a gradebook that graded nobody
    roster(lesson1, course)
    assert main([LESSON, str(lesson2), "--course", str(course)]) == 1
    said = capsys.readouterr()
    assert "  left blank: 1000011 Ada Lovelace (participant id 1000011 is in neither the roster nor its aliases: run" in said.out
    assert said.err == (f"python -m grading lms-grades: 3 of 3 participant id(s) of {lesson2} are in neither the roster "
                        "nor its aliases (1000011 Ada Lovelace, 1000012 Alan Turing, 1000013 Blaise Pascal), left blank: "
                        "Moodle gives every assignment new "
                        f"participant ids. Hint: run `python -m grading roster {lesson2}` with this lesson's grading "
                        "worksheet first, then this command again\n")
    roster(lesson2, course)
    assert main([LESSON, str(lesson2), "--course", str(course)]) == 0
    said = capsys.readouterr()
    assert "  left blank: 1000011 Ada Lovelace (roster id 1000001: not graded by the course)" in said.out and said.err == ""


def test_moodle_a_participant_the_roster_does_not_know_who_handed_in_nothing_is_not_graded(two_lessons, capsys, monkeypatch):
    import grading.lms
    from grading.lms import feedback_zip, main, read_roster

    course, lesson1, _ = two_lessons
    monkeypatch.setattr(grading.lms, "_grades", lambda db_url, lesson: ({}, None))  # a gradebook that graded nobody
    roster(lesson1, course)
    again = lesson1.with_name("Grades-Lesson 1-5123 (1).csv")  # downloaded again after Sofia joined
    late = "Participant 1000003,Sofia Kovalevskaya,sofia@example.org,No submission,,100.00\n"
    again.write_text(LESSON1 + late, encoding="utf-8")
    assert main([LESSON, str(again), "--course", str(course)]) == 0, "nothing of hers to grade, nothing to fix"
    said = capsys.readouterr()
    assert "  left blank: 1000003 Sofia Kovalevskaya (not graded by the course)" in said.out and said.err == ""
    page = course / ".grading" / "feedback" / "1000001" / LESSON / f"{LESSON}.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>page</html>")
    packed = feedback_zip(LESSON, again, course / ".grading" / "feedback", course / ".grading" / "autograded",
                          course / "out.zip", roster=read_roster(course))
    assert packed.packed == ["1000001"] and packed.missing == {} and packed.unknown == [], packed
    assert packed.names["1000003"] == "Sofia Kovalevskaya"
    # handed in, and unknown: left blank, named with the worksheet's name, and the hint's path can be pasted
    again.write_text(LESSON1 + late.replace("No submission", "Submitted for grading"), encoding="utf-8")
    assert main([LESSON, str(again), "--course", str(course)]) == 1
    said = capsys.readouterr()
    assert "  left blank: 1000003 Sofia Kovalevskaya (participant id 1000003 is in neither" in said.out
    assert f"Hint: run `python -m grading roster '{again}'` with this lesson's grading worksheet first" in said.err, said.err


def test_lms_feedback_command_names_each_page_packed_whose_score_is_not_final(monkeypatch, capsys, tmp_path):
    from grading import lms

    (tmp_path / "out.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    result = lms.LmsFeedback(tmp_path / "out.zip", parts=[tmp_path / "out.zip"], packed=["30101", "30102"], provisional=["30101"])
    monkeypatch.setattr(lms, "lms_feedback", lambda lesson, worksheet, course, max_bytes: result)
    assert lms.feedback_main([LESSON, str(tmp_path / "worksheet.csv")]) == 0, "a page that says Score so far is still a page"
    said = capsys.readouterr().out
    assert ('  not final: 30101 (written answers to grade by hand: the page says "Score so far"; lms-grades leaves this '
            "grade blank until then)") in said and "not final: 30102" not in said
    assert (f"1 of 2 pages packed show a score that is not final: grade the written answers (Formgrader), run nbgrader "
            f"generate_feedback {LESSON} --force and this command again, and upload the new zip") in said


@pytest.mark.parametrize(("lesson", "columns", "found"), [
    ("02_polynomial_regression", ["02_polynomial_regression (401)", "Lesson 2: Polynomial regression (402)"],
     ["02_polynomial_regression (401)"]),
    ("02_polynomial_regression", ["Lesson 1: Gradient descent (400)", "Lesson 2: Polynomial regression (401)"],
     ["Lesson 2: Polynomial regression (401)"]),
    ("04_your_own_autograd", ["Lesson 4: Your own autograd (402)", "Lesson 40: Review (499)"], ["Lesson 4: Your own autograd (402)"]),
    ("01_gradient_descent", ["Lesson 6: Optimisers beyond gradient descent (405)", "Lesson 1: Gradient descent (401)"],
     ["Lesson 1: Gradient descent (401)"]),
    ("01_gradient_descent", ["Lesson 1 (400)", "Lesson 1: Gradient descent (401)"], ["Lesson 1: Gradient descent (401)"]),
    ("01_gradient_descent", ["Lesson 1: Gradient descent (400)", "Lesson 1: Gradient descent, again (401)"],
     ["Lesson 1: Gradient descent (400)", "Lesson 1: Gradient descent, again (401)"]),
    ("01_gradient_descent", ["Week 1 (400)"], []),
])
def test_canvas_the_lessons_column_is_found_by_its_name_its_words_or_its_number(lesson, columns, found):
    from grading.lms import _lesson_columns

    assert _lesson_columns(columns, lesson) == found

