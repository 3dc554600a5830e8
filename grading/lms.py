"""The LMS's gradebook file, both ways: ``python -m grading roster EXPORT.csv`` makes the course's roster from it, and
``python -m grading lms-grades LESSON EXPORT.csv [--column NAME]`` puts the grades back into it.

Run it from the course folder, after grading (and grading the written answers). ``EXPORT.csv`` is the LMS's own
file, which names its students the way the collection did:

* Canvas: the gradebook export (*Grades → Export*): ``Student``, ``ID`` (the user id, the course's student id),
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment, named ``<title> (<assignment id>)``;
  the lesson's column is the one whose title holds the lesson's name (or ``--column``).
* Moodle: the assignment's grading worksheet (*View all submissions → Grading action → Download grading
  worksheet*): ``Identifier`` (``Participant <id>``, the course's student id), ``Grade``, ...

The command writes ``.grading/lms/<lesson>-<export's name>.csv``: the export's rows with the lesson's total
points (automatic and written answers) where the gradebook has them, to import as it is (Canvas: *Grades →
Import*; Moodle: *Upload grading worksheet*). A student the course has not graded, or whose written answers
wait to be graded by hand, is left blank (the LMS changes nothing for a blank) and named.

``roster`` writes ``.grading/roster.csv`` (``id,first_name,last_name,email``) for ``nbgrader db student import``: from
Canvas's export, ``ID`` with ``Student`` ("Last, First") and ``SIS Login ID`` as the e-mail when it is one; from Moodle's
worksheet, the participant id with ``Full name`` and ``Email address``. Rows that name no student (Canvas's "Points
Possible") and Canvas's test student ("Student, Test") are left out.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .course import course_folders, load_config

__all__ = ["LmsGrades", "LmsError", "fill", "lms_grades", "main", "roster", "roster_main", "roster_rows"]

#: Canvas's columns that say who a row is; the rest are assignments and totals, left out of the file to import.
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
MOODLE_ID = re.compile(r"Participant\s+(\d+)$")
#: Canvas's own test student (*Student View*), in every gradebook export: not one of the class.
CANVAS_TEST_STUDENT = "Student, Test"
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")


class LmsError(RuntimeError):
    """The export cannot be filled in; the message names the file, what it expected and what it found."""


@dataclass
class LmsGrades:
    """What one filling gave: the file written, the column filled, and who got a grade or was left blank (why)."""

    written: Path
    column: str
    filled: dict[str, float] = field(default_factory=dict)
    blank: dict[str, str] = field(default_factory=dict)  # {student id: why}
    not_in_export: list[str] = field(default_factory=list)  # graded by the course, absent from the LMS's file


def _grades(db_url: str, lesson: str) -> dict[str, tuple[float, list[str]]]:
    """``{student: (total score, grade ids waiting for a hand grade)}`` for every submission of ``lesson``."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            submissions = gb.assignment_submissions(lesson)
        except MissingEntry:
            return {}
        return {s.student.id: (float(s.score), [g.name for n in s.notebooks for g in n.grades if g.needs_manual_grade])
                for s in submissions}


def _read(export: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = export.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LmsError(f"{export}: no such file; give the gradebook export downloaded from the LMS") from None
    except UnicodeDecodeError:
        raise LmsError(f"{export}: not a UTF-8 text file; give the CSV the LMS exported, not a spreadsheet") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise LmsError(f"{export}: empty; give the gradebook export downloaded from the LMS")
    return list(reader.fieldnames), list(reader)


def fill(lesson: str, export: Path, grades: dict[str, tuple[float, list[str]]], out: Path,
         column: str | None = None) -> LmsGrades:
    """Write ``out``: the rows of the LMS's ``export`` with ``lesson``'s grades filled in (see the module's help).

    Raises
    ------
    LmsError
        If ``export`` is neither a Canvas gradebook export nor a Moodle grading worksheet, or the lesson's column
        cannot be told (none or several match: ``column`` names it).
    """
    names, rows = _read(export)
    if "ID" in names and "Student" in names:  # Canvas
        if column is None:
            matching = [n for n in names if n not in CANVAS_IDENTITY and lesson.lower() in n.lower()]
            if len(matching) != 1:
                found = "several: " + ", ".join(matching) if matching else "none"
                assignments = [n for n in names if n not in CANVAS_IDENTITY]
                raise LmsError(f"{export}: expected one column whose title holds {lesson!r}, found {found}. Hint: "
                               f"name it with --column (the columns are {', '.join(assignments) or 'none'})")
            column = matching[0]
        keep = [n for n in names if n in CANVAS_IDENTITY] + [column]
        student_of = {id(row): row["ID"].strip() if row["Student"].strip() != CANVAS_TEST_STUDENT else "" for row in rows}
    elif "Identifier" in names and "Grade" in names:  # Moodle
        column, keep = column or "Grade", names
        student_of = {id(row): m.group(1) if (m := MOODLE_ID.match(row["Identifier"].strip())) else "" for row in rows}
    else:
        raise LmsError(f"{export}: expected a Canvas gradebook export (columns Student, ID, ...) or a Moodle grading "
                       f"worksheet (columns Identifier, Grade, ...), found the columns {', '.join(names)}")
    if column not in names:
        raise LmsError(f"{export}: no column {column!r}; the columns are {', '.join(names)}")
    result = LmsGrades(out, column)
    for row in rows:
        student = student_of[id(row)]
        if not student:  # Canvas's "Points Possible" and posting rows, and its test student: kept as they are
            continue
        score, waiting = grades.get(student, (None, []))
        if score is None:
            row[column], result.blank[student] = "", "not graded by the course"
        elif waiting:
            row[column], result.blank[student] = "", f"written answers to grade by hand: {', '.join(waiting)}"
        else:
            row[column] = f"{score:g}"
            result.filled[student] = score
    result.not_in_export = sorted(set(grades) - set(student_of.values()))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=keep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return result


def roster_rows(export: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The class in the LMS's ``export``: ``(rows of ROSTER_COLUMNS, what was left out and why)``.

    Raises
    ------
    LmsError
        If ``export`` is neither a Canvas gradebook export nor a Moodle grading worksheet, or names no student.
    """
    names, rows = _read(export)
    students, left_out = [], []
    if "ID" in names and "Student" in names:  # Canvas: "Last, First"
        for row in rows:
            student, name = row["ID"].strip(), row["Student"].strip()
            if not student:
                left_out.append(f"{name or 'a row'} (no ID: not a student)")
                continue
            if name == CANVAS_TEST_STUDENT:
                left_out.append(f"{name} (Canvas's test student)")
                continue
            last, _, first = name.partition(",")
            login = (row.get("SIS Login ID") or "").strip()
            students.append({"id": student, "first_name": first.strip(), "last_name": last.strip(),
                             "email": login if "@" in login else ""})
    elif "Identifier" in names and "Full name" in names:  # Moodle: "First Last"
        for row in rows:
            match = MOODLE_ID.match(row["Identifier"].strip())
            if not match:
                left_out.append(f"{row['Identifier'].strip() or 'a row'} (no participant id)")
                continue
            first, _, last = row["Full name"].strip().rpartition(" ")
            students.append({"id": match.group(1), "first_name": first, "last_name": last,
                             "email": (row.get("Email address") or "").strip()})
    else:
        raise LmsError(f"{export}: expected a Canvas gradebook export (columns Student, ID, ...) or a Moodle grading "
                       f"worksheet (columns Identifier, Full name, ...), found the columns {', '.join(names)}")
    if not students:
        raise LmsError(f"{export}: names no student (left out: {'; '.join(left_out) or 'nothing'}); give the export "
                       "of the course's gradebook with its students")
    return students, left_out


def roster(export: Path, course: Path | None = None, force: bool = False) -> tuple[Path, list[dict[str, str]], list[str]]:
    """Write the course's ``.grading/roster.csv`` from the LMS's ``export``; see `roster_rows`.

    A roster already there with other contents is kept unless ``force``: it may hold names or e-mails added by hand.
    """
    students, left_out = roster_rows(Path(export))
    out = course_folders(course).submitted.parent / "roster.csv"
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(students)
    if out.is_file() and out.read_text(encoding="utf-8") != text.getvalue() and not force:
        raise LmsError(f"{out} exists with other contents (names or e-mails added by hand?): kept. Hint: compare it "
                       f"with the export, or replace it with --force")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.getvalue(), encoding="utf-8")
    return out, students, left_out


def roster_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading roster",
                                     description="Make .grading/roster.csv from the LMS's gradebook export (Canvas) "
                                                 "or grading worksheet (Moodle).")
    parser.add_argument("export", type=Path, help="the LMS's gradebook export (Canvas) or grading worksheet (Moodle)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    parser.add_argument("--force", action="store_true", help="replace a roster.csv that holds something else")
    args = parser.parse_args(argv)
    try:
        out, students, left_out = roster(args.export, args.course, args.force)
    except LmsError as error:
        print(f"python -m grading roster: {error}", file=sys.stderr)
        return 1
    shown = out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out
    print(f"wrote {out}: {len(students)} student(s); next: nbgrader db student import {shown}")
    for why in left_out:
        print(f"  left out: {why}")
    return 0


def lms_grades(lesson: str, export: Path, column: str | None = None, course: Path | None = None) -> LmsGrades:
    """Fill the LMS's ``export`` with ``lesson``'s grades from the course's gradebook; see `fill`."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=load_config(course)[1])
    out = course_folders(course).submitted.parent / "lms" / f"{lesson}-{Path(export).stem}.csv"
    return fill(lesson, Path(export), _grades(coursedir.db_url, lesson), out, column)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading lms-grades", description=__doc__.splitlines()[0])
    parser.add_argument("lesson", help="the lesson (nbgrader assignment), e.g. 01_gradient_descent")
    parser.add_argument("export", type=Path, help="the LMS's gradebook export (Canvas) or grading worksheet (Moodle)")
    parser.add_argument("--column", default=None, help="the export's column for the lesson (default: Canvas: the one "
                        "whose title holds the lesson's name; Moodle: Grade)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    args = parser.parse_args(argv)
    try:
        result = lms_grades(args.lesson, args.export, args.column, args.course)
    except (LmsError, FileNotFoundError) as error:
        print(f"python -m grading lms-grades: {error}", file=sys.stderr)
        return 1
    print(f"wrote {result.written}: column {result.column!r}, {len(result.filled)} grade(s) filled in; import it into "
          "the LMS (Canvas: Grades → Import; Moodle: Upload grading worksheet)")
    for student, why in sorted(result.blank.items()):
        print(f"  left blank: {student} ({why})")
    if result.not_in_export:
        print(f"graded by the course but not in the export ({len(result.not_in_export)}): {', '.join(result.not_in_export)}")
    return 0
