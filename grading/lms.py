"""Grades back into the LMS: ``python -m grading lms-grades LESSON EXPORT.csv [--column NAME]``.

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

__all__ = ["LmsGrades", "LmsError", "fill", "lms_grades", "main"]

#: Canvas's columns that say who a row is; the rest are assignments and totals, left out of the file to import.
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
MOODLE_ID = re.compile(r"Participant\s+(\d+)$")


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
        student_of = {id(row): row["ID"].strip() for row in rows}
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
        if not student:  # Canvas's "Points Possible" and posting rows: kept as they are
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
