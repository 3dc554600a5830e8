"""The LMS's gradebook file, both ways: ``python -m grading roster EXPORT.csv`` makes the course's roster from it, and
``python -m grading lms-grades LESSON EXPORT.csv [--column NAME]`` puts the grades back into it;
``python -m grading lms-feedback LESSON WORKSHEET.csv`` packs the feedback pages for Moodle's upload in bulk.

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
wait to be graded by hand, is left blank (the LMS changes nothing for a blank) and named. Where the LMS's maximum
for the column (Canvas's "Points Possible" row, Moodle's ``Maximum grade``) differs from the lesson's points, the
grades are scaled to it (8 of 10 points is 80 on a maximum of 100) and the command says so.

``roster`` writes ``.grading/roster.csv`` (``id,first_name,last_name,email``) for ``nbgrader db student import``: from
Canvas's export, ``ID`` with ``Student`` ("Last, First") and ``SIS Login ID`` as the e-mail when it is one; from Moodle's
worksheet, the participant id with ``Full name`` and ``Email address``. Rows that name no student (Canvas's "Points
Possible") and Canvas's test student ("Student, Test") are left out. Run again after students join, it keeps the
roster's rows as they are (edits by hand included) and adds the new students; ``--force`` writes it afresh.

``lms-feedback`` writes ``.grading/lms/<lesson>-feedback.zip`` for Moodle's *Upload multiple feedback files in a zip*:
each student's page in a folder named as Moodle's own download names it, ``<Full name>_<participant id>_assignfeedback_file``
(Moodle reads the participant id, the second part between underscores, so an underscore in a name becomes a space).
A page that shows an earlier grading than the gradebook's (made before a grading, automatic or by hand, and kept by
``generate_feedback`` without ``--force``) is left out and named, as is a student with no page. Canvas takes no
feedback files in bulk: a page is attached to a comment in SpeedGrader.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import course_folders, load_config

__all__ = ["LmsFeedback", "LmsGrades", "LmsError", "feedback_main", "feedback_zip", "fill", "lms_feedback", "lms_grades",
           "main", "roster", "roster_main", "roster_rows"]

#: Canvas's columns that say who a row is; the rest are assignments and totals, left out of the file to import.
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
MOODLE_ID = re.compile(r"Participant\s+(\d+)$")
#: The record of the grading a feedback page shows (grading/feedback_template): its score and the written answers
#: still waiting for a hand grade.
SHOWN = re.compile(r'<meta\s(?=[^>]*\bname="course-grading")[^>]*\bcontent="score=([0-9.eE+-]+) waiting=([^"]*)"')
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
    scaled: tuple[float, float] | None = None  # (the lesson's points, the LMS's maximum) when they differ


@dataclass
class LmsFeedback:
    """What one packing gave: the zip written, the students whose page is in it, and those left out (why)."""

    written: Path
    packed: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # {student id: why}


def _number(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def _grades(db_url: str, lesson: str) -> tuple[dict[str, tuple[float, list[str]]], float | None]:
    """``({student: (total score, grade ids waiting for a hand grade)}, the lesson's points)`` for every submission of
    ``lesson`` (``({}, None)`` when the gradebook does not know the lesson)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            submissions = gb.assignment_submissions(lesson)
            points = float(gb.find_assignment(lesson).max_score)
        except MissingEntry:
            return {}, None
        return {s.student.id: (float(s.score), [g.name for n in s.notebooks for g in n.grades if g.needs_manual_grade])
                for s in submissions}, points


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
         column: str | None = None, points: float | None = None) -> LmsGrades:
    """Write ``out``: the rows of the LMS's ``export`` with ``lesson``'s grades filled in (see the module's help).

    ``points`` is what the lesson is worth; when the export gives the column another maximum, grades are scaled to it.

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
        maxima = [_number(row.get(column)) for row in rows if row["Student"].strip() == "Points Possible"]
    elif "Identifier" in names and "Grade" in names:  # Moodle
        column, keep = column or "Grade", names
        student_of = {id(row): m.group(1) if (m := MOODLE_ID.match(row["Identifier"].strip())) else "" for row in rows}
        maximum = next((n for n in names if n.strip().lower() == "maximum grade"), None)
        maxima = [_number(row.get(maximum)) for row in rows if student_of[id(row)]] if maximum and column == "Grade" else []
    else:
        raise LmsError(f"{export}: expected a Canvas gradebook export (columns Student, ID, ...) or a Moodle grading "
                       f"worksheet (columns Identifier, Grade, ...), found the columns {', '.join(names)}")
    if column not in names:
        raise LmsError(f"{export}: no column {column!r}; the columns are {', '.join(names)}")
    result = LmsGrades(out, column)
    lms_maximum = maxima[0] if maxima and maxima[0] and all(m == maxima[0] for m in maxima) else None
    scale = 1.0
    if points and lms_maximum and abs(lms_maximum - points) > 1e-9:
        scale, result.scaled = lms_maximum / points, (points, lms_maximum)
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
            result.filled[student] = round(score * scale, 2)
            row[column] = f"{result.filled[student]:g}"
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

    A roster already there keeps its rows as they are (they may hold names or e-mails added by hand) and gains the
    export's students it does not have (listed in what is returned as ``joined: ...``); ``force`` replaces it.
    """
    students, left_out = roster_rows(Path(export))
    out = course_folders(course).submitted.parent / "roster.csv"
    if out.is_file() and not force:
        try:
            with out.open(newline="", encoding="utf-8-sig") as file:
                reader = csv.DictReader(file)
                kept = list(reader)
                if tuple(reader.fieldnames or ()) != ROSTER_COLUMNS:
                    raise ValueError(f"columns {', '.join(reader.fieldnames or ()) or 'none'}")
        except (ValueError, UnicodeDecodeError) as error:
            raise LmsError(f"{out}: expected the columns {','.join(ROSTER_COLUMNS)}, found {error}; kept as it is. Hint: "
                           "fix it by hand, or replace it with --force") from None
        known = {row["id"] for row in kept}
        joined = [row for row in students if row["id"] not in known]
        left_out = left_out + [f"joined: {row['id']} ({' '.join(filter(None, (row['first_name'], row['last_name'])))})"
                               for row in joined]
        students = kept + joined
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(students)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.getvalue(), encoding="utf-8")
    return out, students, left_out


def roster_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading roster",
                                     description="Make .grading/roster.csv from the LMS's gradebook export (Canvas) "
                                                 "or grading worksheet (Moodle).")
    parser.add_argument("export", type=Path, help="the LMS's gradebook export (Canvas) or grading worksheet (Moodle)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    parser.add_argument("--force", action="store_true", help="replace roster.csv (by default its rows are kept as they "
                        "are, edits by hand included, and the export's new students added)")
    args = parser.parse_args(argv)
    try:
        out, students, left_out = roster(args.export, args.course, args.force)
    except LmsError as error:
        print(f"python -m grading roster: {error}", file=sys.stderr)
        return 1
    shown = out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out
    print(f"wrote {out}: {len(students)} student(s); next: nbgrader db student import {shown}")
    for why in left_out:
        print(f"  {why}" if why.startswith("joined: ") else f"  left out: {why}")
    return 0


def lms_grades(lesson: str, export: Path, column: str | None = None, course: Path | None = None) -> LmsGrades:
    """Fill the LMS's ``export`` with ``lesson``'s grades from the course's gradebook; see `fill`."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=load_config(course)[1])
    out = course_folders(course).submitted.parent / "lms" / f"{lesson}-{Path(export).stem}.csv"
    grades, points = _grades(coursedir.db_url, lesson)
    return fill(lesson, Path(export), grades, out, column, points)


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
    if result.scaled:
        points, maximum = result.scaled
        print(f"  scaled: the lesson is worth {points:g} points and the LMS's maximum for this column is {maximum:g}, so "
              f"each grade is points x {maximum / points:g} (to import points as they are, set the LMS's maximum to "
              f"{points:g})")
    for student, why in sorted(result.blank.items()):
        print(f"  left blank: {student} ({why})")
    if result.not_in_export:
        print(f"graded by the course but not in the export ({len(result.not_in_export)}): {', '.join(result.not_in_export)}")
    return 0


def _shown(page: Path) -> tuple[float, set[str]] | None:
    """The grading a feedback page shows, as its ``course-grading`` record says: ``(score, written answers still
    waiting for a hand grade)``; None for a page without the record."""
    with page.open(encoding="utf-8", errors="replace") as f:
        head = f.read(8192)
    found = SHOWN.search(head)
    if not found:
        return None
    return float(found.group(1)), set(filter(None, found.group(2).split(",")))


def _earlier(page: Path, graded: Path, now: tuple[float, list[str]] | None) -> str:
    """Why ``page`` shows an earlier grading than the gradebook's ``now`` (score, grade ids waiting) and the autograded
    notebook ``graded``; "" when it shows the current one."""
    if graded.is_file() and page.stat().st_mtime < graded.stat().st_mtime:
        return "its page is older than its grading"
    if now is None:
        return ""
    shown = _shown(page)
    if shown is None:
        return "its page does not say which grading it shows (made by an earlier version of the course)"
    score, waiting = shown
    if abs(score - now[0]) > 1e-9 or waiting - set(now[1]):
        graded_since = sorted(waiting - set(now[1]))
        return (f"its page shows an earlier grading: {score:g} points on the page, {now[0]:g} in the gradebook"
                + (f", {', '.join(graded_since)} graded by hand since" if graded_since else ""))
    return ""


def feedback_zip(lesson: str, worksheet: Path, feedback: Path, autograded: Path, out: Path,
                 grades: dict[str, tuple[float, list[str]]] | None = None) -> LmsFeedback:
    """Write ``out``: the pages ``feedback/<id>/<lesson>/<lesson>.html`` of the students in Moodle's ``worksheet``, each
    in the folder ``<Full name>_<id>_assignfeedback_file/`` (see the module's help).

    A page that shows an earlier grading is left out: one older than ``autograded/<id>/<lesson>/<lesson>.ipynb``, and
    one whose score, or whose written answers waiting for a hand grade, differ from the gradebook's ``grades``
    (``{student: (total score, grade ids waiting for a hand grade)}``, as `_grades` reads them): a page kept by
    ``generate_feedback`` without ``--force`` after a hand grade.

    Raises
    ------
    LmsError
        If ``worksheet`` is a Canvas export (Canvas takes no feedback files in bulk), is no Moodle grading worksheet,
        or no student in it has a page to pack (nothing is written then).
    """
    names, rows = _read(worksheet)
    if "ID" in names and "Student" in names:
        raise LmsError(f"{worksheet}: a Canvas gradebook export; Canvas takes no feedback files in bulk. Hint: attach "
                       f"each student's page, .grading/feedback/<student>/{lesson}/{lesson}.html, to a comment in "
                       "SpeedGrader")
    if not ("Identifier" in names and "Full name" in names):
        raise LmsError(f"{worksheet}: expected Moodle's grading worksheet (columns Identifier, Full name, ...), found "
                       f"the columns {', '.join(names)}")
    result = LmsFeedback(out)
    pages: dict[str, Path] = {}
    for row in rows:
        match = MOODLE_ID.match(row["Identifier"].strip())
        if not match:
            continue
        student = match.group(1)
        page = feedback / student / lesson / f"{lesson}.html"
        graded = autograded / student / lesson / f"{lesson}.ipynb"
        if not page.is_file():
            result.left_out[student] = (f"no feedback page: run nbgrader generate_feedback {lesson} --force"
                                        if graded.is_file() else "not graded by the course")
        elif why := _earlier(page, graded, (grades or {}).get(student)):
            result.left_out[student] = f"{why}: run nbgrader generate_feedback {lesson} --force"
        else:
            name = " ".join(re.sub(r"[_/\\]", " ", row["Full name"]).split()) or f"Participant {student}"
            pages[f"{name}_{student}_assignfeedback_file/{lesson}.html"] = page
    if not pages:
        why = "; ".join(f"{student}: {why}" for student, why in list(result.left_out.items())[:3]) or "no participant rows"
        raise LmsError(f"{worksheet}: none of its {len(result.left_out)} student(s) has a feedback page to pack ({why}); "
                       "nothing written")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, page in sorted(pages.items()):
            archive.write(page, entry)
            result.packed.append(entry.split("_")[1])
    partial.replace(out)
    return result


def lms_feedback(lesson: str, worksheet: Path, course: Path | None = None) -> LmsFeedback:
    """Pack ``lesson``'s feedback pages for Moodle's ``worksheet``; see `feedback_zip`."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=load_config(course)[1])
    root = Path(coursedir.root)
    out = course_folders(course).submitted.parent / "lms" / f"{lesson}-feedback.zip"
    db = coursedir.db_url
    unmade = db.startswith("sqlite:///") and not Path(db.removeprefix("sqlite:///")).is_file()
    grades = {} if unmade else _grades(db, lesson)[0]  # no gradebook yet: nothing graded to compare pages with
    return feedback_zip(lesson, Path(worksheet), root / coursedir.feedback_directory,
                        root / coursedir.autograded_directory, out, grades)


def feedback_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading lms-feedback",
                                     description="Pack a lesson's feedback pages into a zip for Moodle's Upload "
                                                 "multiple feedback files in a zip.")
    parser.add_argument("lesson", help="the lesson (nbgrader assignment), e.g. 01_gradient_descent")
    parser.add_argument("worksheet", type=Path, help="the assignment's grading worksheet downloaded from Moodle")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    args = parser.parse_args(argv)
    try:
        result = lms_feedback(args.lesson, args.worksheet, args.course)
    except (LmsError, FileNotFoundError) as error:
        print(f"python -m grading lms-feedback: {error}", file=sys.stderr)
        return 1
    print(f"wrote {result.written}: {len(result.packed)} page(s); upload it in Moodle (View all submissions → Grading "
          "action → Upload multiple feedback files in a zip; the assignment's Feedback files must be on)")
    for student, why in sorted(result.left_out.items()):
        print(f"  left out: {student} ({why})")
    return 0
