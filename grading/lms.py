"""The LMS's gradebook file, both ways: ``python -m grading roster EXPORT.csv`` makes the course's roster from it, and
``python -m grading lms-grades LESSON EXPORT.csv [--column NAME]`` puts the grades back into it;
``python -m grading lms-feedback LESSON WORKSHEET.csv`` packs the feedback pages for Moodle's upload in bulk.

Run it from the course folder, after grading (and grading the written answers). ``EXPORT.csv`` is the LMS's own
file, which names its students the way the collection did:

* Canvas: the gradebook export (*Grades → Export*): ``Student``, ``ID`` (the user id, the course's student id),
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment, named ``<title> (<assignment id>)``;
  the lesson's column is the one whose title names the lesson (``02_polynomial_regression``, its words
  ``Polynomial regression`` or ``Lesson 2``; or ``--column``).
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

Moodle's participant id is the assignment's (``assign_user_mapping``): every lesson gives each student a new one. Run
``roster`` with each lesson's worksheet: a student already in the roster is recognised by e-mail, and the lesson's
participant id is recorded as an alias of the roster id in ``.grading/roster_aliases.csv`` (``alias,id,worksheet``)
instead of a new row. ``lms-grades`` and ``lms-feedback`` (and ``collect``) translate participant ids through the
aliases; the files they write keep the worksheet's ids, which Moodle reads. A participant id in neither the roster
nor its aliases is left blank (left out) and named, and the command exits with 1.

``lms-feedback`` writes ``.grading/lms/<lesson>-feedback.zip`` for Moodle's *Upload multiple feedback files in a zip*:
each student's page in a folder ``<Full name>_<participant id>_assignfeedback_file_``, the name every Moodle from 3.1
imports (3.1 to 4.0 need the last ``_``; 4.1 and later, which name their download's folders without it, read both and
find the same file). Moodle reads the participant id, the second part between underscores, so an underscore in a name
becomes a space.
A page that shows an earlier grading than the gradebook's (made before a grading, automatic or by hand, and kept by
``generate_feedback`` without ``--force``) is left out and named, as is a student with no page; the zip is written with
the others, and the command exits with 1, saying how many of the graded students' pages are missing and why. It prints
each zip's size: with ``--max-mb MB`` the pages go into zips of at most MB each (``-1.zip``, ``-2.zip``, ...), for a
Moodle whose maximum upload size is smaller than the whole class's pages. Canvas takes no feedback files in bulk: a page
is attached to a comment in SpeedGrader.
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import re
import shlex
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .course import course_folders, first_paragraph, full_name, labelled, load_config

__all__ = ["ALIAS_COLUMNS", "LmsFeedback", "LmsGrades", "LmsError", "Roster", "feedback_main", "feedback_zip", "fill",
           "lms_feedback", "lms_grades", "main", "read_roster", "roster", "roster_main", "roster_rows"]

#: Canvas's columns that say who a row is; the rest are assignments and totals, left out of the file to import.
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
MOODLE_ID = re.compile(r"Participant\s+(\d+)$")
#: The record of the grading a feedback page shows (grading/feedback_template): its score and the written answers
#: still waiting for a hand grade.
SHOWN = re.compile(r'<meta\s(?=[^>]*\bname="course-grading")[^>]*\bcontent="score=([0-9.eE+-]+) waiting=([^"]*)"')
#: Canvas's own test student (*Student View*), in every gradebook export: not one of the class.
CANVAS_TEST_STUDENT = "Student, Test"
NOT_GRADED = "not graded by the course"
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")
#: ``.grading/roster_aliases.csv``, beside the roster: a Moodle participant id (``alias``, one assignment's) and the roster
#: id of the same student (``id``), recognised by e-mail in the grading worksheet named (``worksheet``).
ALIAS_COLUMNS = ("alias", "id", "worksheet")
ALIASES_NAME = "roster_aliases.csv"
#: What to do when a Moodle participant id is in neither the roster nor its aliases.
ROSTER_FIRST = "run `python -m grading roster WORKSHEET.csv` with this lesson's grading worksheet first"
#: Where Moodle shows the e-mail in the grading worksheet (its identity fields).
MOODLE_IDENTITY = ("in Moodle, add Email address to the identity fields (Site administration → Users → Permissions → "
                   "User policies → Show user identity), then download the grading worksheet again")


class LmsError(RuntimeError):
    """The export cannot be filled in; the message names the file, what it expected and what it found."""


@dataclass
class Roster:
    """The course's roster (``.grading/roster.csv``) and its aliases (``roster_aliases.csv`` beside it).

    Moodle gives a student a new participant id in every assignment; the roster keeps the first one seen, and each later
    one is an alias of it. Canvas's ids are the students' own, and have no aliases.
    """

    names: dict[str, str] = field(default_factory=dict)  # {roster id: "First Last"}
    aliases: dict[str, str] = field(default_factory=dict)  # {participant id: roster id}
    exists: bool = False  # a roster.csv was found

    def resolve(self, student: str) -> str | None:
        """The roster id of ``student`` (a roster id, or a participant id recorded as an alias); None when unknown."""
        if student in self.names:
            return student
        return self.aliases.get(student)

    def name(self, student: str) -> str:
        """``student``'s name in the roster ("" when the roster does not name them)."""
        return self.names.get(self.resolve(student) or student, "")


def _roster_files(course: Path | None) -> tuple[Path, Path]:
    roster_csv = course_folders(course).submitted.parent / "roster.csv"
    return roster_csv, roster_csv.with_name(ALIASES_NAME)


def _read_rows(path: Path, columns: tuple[str, ...], fix: str) -> list[dict[str, str]]:
    """The rows of the course's own CSV file ``path`` (``[]`` when missing); LmsError when its columns are not ``columns``."""
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            if tuple(reader.fieldnames or ()) != columns:
                raise ValueError(f"columns {', '.join(reader.fieldnames or ()) or 'none'}")
    except (ValueError, UnicodeDecodeError) as error:
        raise LmsError(f"{path}: expected the columns {','.join(columns)}, found {error}; kept as it is. Hint: {fix}") from None
    return rows


def read_roster(course: Path | None = None, folder: Path | None = None) -> Roster:
    """The roster of the course in ``course`` (default: the current folder) with its aliases; empty when there is none.

    ``folder`` names the folder that holds ``roster.csv`` (the course's ``.grading/``) instead of the course.

    Raises
    ------
    LmsError
        If ``roster.csv`` or ``roster_aliases.csv`` does not have its columns.
    """
    roster_csv, aliases_csv = _roster_files(course) if folder is None else (folder / "roster.csv", folder / ALIASES_NAME)
    rows = _read_rows(roster_csv, ROSTER_COLUMNS, "fix it by hand, or replace it with python -m grading roster --force")
    aliases = _read_rows(aliases_csv, ALIAS_COLUMNS, "fix it by hand, or delete it and run python -m grading roster "
                                                     "with each lesson's grading worksheet again")
    return Roster({row["id"]: full_name(row["first_name"], row["last_name"]) for row in rows},
                  {row["alias"].strip(): row["id"].strip() for row in aliases}, roster_csv.is_file())


@dataclass
class LmsGrades:
    """What one filling gave: the file written, the column filled, and who got a grade or was left blank (why)."""

    written: Path
    column: str
    filled: dict[str, float] = field(default_factory=dict)  # {student id, as the export names them: grade}
    blank: dict[str, str] = field(default_factory=dict)  # {student id: why}
    not_in_export: list[str] = field(default_factory=list)  # graded by the course, absent from the LMS's file
    scaled: tuple[float, float] | None = None  # (the lesson's points, the LMS's maximum) when they differ
    roster_ids: dict[str, str] = field(default_factory=dict)  # {Moodle participant id: roster id} where they differ
    unknown: list[str] = field(default_factory=list)  # Moodle participant ids in neither the roster nor its aliases
    names: dict[str, str] = field(default_factory=dict)  # {Moodle participant id: the worksheet's Full name}


@dataclass
class LmsFeedback:
    """What one packing gave: the zip written (or its parts), the students whose page is in it, and those left out (why)."""

    written: Path
    parts: list[Path] = field(default_factory=list)  # the zips written: ``[written]``, or its parts when one was too large
    packed: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # {student id: why}
    roster_ids: dict[str, str] = field(default_factory=dict)  # {Moodle participant id: roster id} where they differ
    unknown: list[str] = field(default_factory=list)  # Moodle participant ids in neither the roster nor its aliases
    provisional: list[str] = field(default_factory=list)  # packed, with written answers still to grade by hand
    names: dict[str, str] = field(default_factory=dict)  # {Moodle participant id: the worksheet's Full name}

    @property
    def missing(self) -> dict[str, str]:
        """The students the course graded (or cannot tell) whose page is not in the zip: ``{student id: why}``."""
        return {student: why for student, why in self.left_out.items() if why != NOT_GRADED}


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


def _lesson_columns(columns: list[str], lesson: str) -> list[str]:
    """The assignment columns whose title names ``lesson`` (``02_polynomial_regression``), case aside, by the first of
    these that one title alone holds: the lesson's name itself, its words (``polynomial regression``), its number
    (``Lesson 2``, ``Lesson 02``); else the titles the first that any holds picks (several: the caller says so)."""
    number, _, words = lesson.partition("_")
    tests = [lambda title: lesson.lower() in title.lower(),
             lambda title: " ".join(words.split("_")).lower() in " ".join(re.split(r"[\W_]+", title.lower())),
             lambda title: re.search(rf"\blesson\s*0*{int(number)}\b", title, re.I) if number.isdigit() else None]
    found = [[title for title in columns if test(title)] for test in tests]
    return next((titles for titles in found if len(titles) == 1), next((titles for titles in found if titles), []))


def _submitted_nothing(row: dict[str, str]) -> bool:
    """Whether a Moodle worksheet row says its student handed in nothing (Status "No submission")."""
    return (row.get("Status") or "").strip().lower().startswith("no submission")


def _moodle_student(participant: str, roster: Roster | None, row: dict[str, str]) -> tuple[str | None, str]:
    """``(roster id, why not)`` of a Moodle participant id, from its worksheet ``row``: its roster id (itself, or what
    its alias names) and "", or None and why when a roster exists and knows neither (no roster: the participant id
    itself); None and "" for an unknown one whose row says it handed in nothing (not graded, nothing to fix)."""
    if roster is None or not roster.exists:
        return participant, ""
    found = roster.resolve(participant)
    if found is None and not _submitted_nothing(row):
        return None, f"participant id {participant} is in neither the roster nor its aliases: {ROSTER_FIRST}"
    return found, ""


def fill(lesson: str, export: Path, grades: dict[str, tuple[float, list[str]]], out: Path,
         column: str | None = None, points: float | None = None, roster: Roster | None = None) -> LmsGrades:
    """Write ``out``: the rows of the LMS's ``export`` with ``lesson``'s grades filled in (see the module's help).

    ``points`` is what the lesson is worth; when the export gives the column another maximum, grades are scaled to it.
    ``roster`` (see `read_roster`) translates a Moodle worksheet's participant ids into the roster's ids, the ids of
    ``grades``; the rows written keep the worksheet's own ids. A participant id it does not know is left blank.

    Raises
    ------
    LmsError
        If ``export`` is neither a Canvas gradebook export nor a Moodle grading worksheet, or the lesson's column
        cannot be told (none or several match: ``column`` names it).
    """
    names, rows = _read(export)
    roster_of: dict[str, tuple[str | None, str]] | None = None  # Moodle: {participant id: (roster id, why unknown)}
    if "ID" in names and "Student" in names:  # Canvas
        if column is None:
            matching = _lesson_columns([n for n in names if n not in CANVAS_IDENTITY], lesson)
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
        roster_of = {student_of[id(row)]: _moodle_student(student_of[id(row)], roster, row) for row in rows
                     if student_of[id(row)]}
        maximum = next((n for n in names if n.strip().lower() == "maximum grade"), None)
        maxima = [_number(row.get(maximum)) for row in rows if student_of[id(row)]] if maximum and column == "Grade" else []
    else:
        raise LmsError(f"{export}: expected a Canvas gradebook export (columns Student, ID, ...) or a Moodle grading "
                       f"worksheet (columns Identifier, Grade, ...), found the columns {', '.join(names)}")
    if column not in names:
        raise LmsError(f"{export}: no column {column!r}; the columns are {', '.join(names)}")
    result = LmsGrades(out, column)
    result.names = {student_of[id(row)]: row["Full name"].strip() for row in rows if student_of[id(row)] and row.get("Full name")}
    if roster_of is None:  # Canvas: the ids are the students' own
        roster_of = {student: (student, "") for student in student_of.values() if student}
    result.roster_ids = {student: found for student, (found, _) in roster_of.items() if found and found != student}
    result.unknown = sorted((student for student, (found, why) in roster_of.items() if found is None and why), key=int)
    lms_maximum = maxima[0] if maxima and maxima[0] and all(m == maxima[0] for m in maxima) else None
    scale = 1.0
    if points and lms_maximum and abs(lms_maximum - points) > 1e-9:
        scale, result.scaled = lms_maximum / points, (points, lms_maximum)
    for row in rows:
        student = student_of[id(row)]
        if not student:  # Canvas's "Points Possible" and posting rows, and its test student: kept as they are
            continue
        graded_as, unknown = roster_of[student]
        score, waiting = grades.get(graded_as, (None, [])) if graded_as else (None, [])
        if unknown:
            row[column], result.blank[student] = "", unknown
        elif score is None:
            row[column], result.blank[student] = "", NOT_GRADED
        elif waiting:
            before = (row.get(column) or "").strip()  # a grade imported before: the LMS keeps it while this one is blank
            held = f"; the file holds {before} for them, which the LMS keeps: clear it there if it no longer stands" if before else ""
            row[column], result.blank[student] = "", f"written answers to grade by hand: {', '.join(waiting)}{held}"
        else:
            result.filled[student] = round(score * scale, 2)
            row[column] = f"{result.filled[student]:g}"
    result.not_in_export = sorted(set(grades) - {found for found, _ in roster_of.values()})
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


def _full_name(row: dict[str, str]) -> str:
    return full_name(row["first_name"], row["last_name"])


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.getvalue(), encoding="utf-8")


def roster(export: Path, course: Path | None = None, force: bool = False) -> tuple[Path, list[dict[str, str]], list[str]]:
    """Write the course's ``.grading/roster.csv`` from the LMS's ``export``; see `roster_rows`.

    A roster already there keeps its rows as they are (they may hold names or e-mails added by hand) and gains the
    export's students it does not have (listed in what is returned as ``joined: ...``); ``force`` replaces it (and drops
    its aliases).

    Moodle gives every assignment new participant ids: a later lesson's grading worksheet names the roster's students
    under new ids. A student of the roster is recognised by e-mail (``Email address``), and the new participant id is
    recorded as an alias of the roster id in ``roster_aliases.csv`` beside it (``recognised: ...``) instead of adding a
    row; ``collect``, ``lms-grades`` and ``lms-feedback`` read those aliases (see `read_roster`). Canvas's ids are the
    students' own: a Canvas export adds rows only.

    Raises
    ------
    LmsError
        If ``export`` is no LMS export (see `roster_rows`), the roster or its aliases do not have their columns, or a
        Moodle worksheet names participants the roster does not know while neither it nor the roster has e-mails to
        recognise them by (nothing is written then).
    """
    export = Path(export)
    students, left_out = roster_rows(export)
    moodle = "Identifier" in _read(export)[0]
    out, aliases_csv = _roster_files(course)
    aliases: list[dict[str, str]] = []
    if out.is_file() and not force:
        kept = _read_rows(out, ROSTER_COLUMNS, "fix it by hand, or replace it with --force")
        aliases = _read_rows(aliases_csv, ALIAS_COLUMNS, "fix it by hand, or delete it and run python -m grading roster "
                                                         "with each lesson's grading worksheet again")
        known = {row["id"] for row in kept} | {row["alias"] for row in aliases}
        joined = [row for row in students if row["id"] not in known]
        if moodle and joined and kept:
            if not any(row["email"] for row in students):
                raise LmsError(f"{export}: expected e-mail addresses (column Email address) to recognise the students "
                               f"already in {out}, found none: Moodle gives every assignment new participant ids, so "
                               f"students cannot be recognised across lessons without them; the roster is kept as it is. "
                               f"Hint: {MOODLE_IDENTITY}, and run python -m grading roster with it")
            by_email = {row["email"].strip().lower(): row["id"] for row in kept if row["email"].strip()}
            if not by_email:
                raise LmsError(f"{out}: expected e-mail addresses (column email) to recognise its students in {export}, "
                               "found none: Moodle gives every assignment new participant ids, so students cannot be "
                               "recognised across lessons without them; the roster is kept as it is. Hint: add each "
                               "student's e-mail to roster.csv by hand, or make it again with --force from the first "
                               f"lesson's worksheet downloaded with e-mails ({MOODLE_IDENTITY})")
            new = []
            for row in joined:
                same = by_email.get(row["email"].lower()) if row["email"] else None
                if same is None:
                    new.append(row)
                    continue
                aliases.append({"alias": row["id"], "id": same, "worksheet": export.name})
                left_out.append(f"recognised: {row['id']} ({_full_name(row)}) as {same}, by e-mail: an alias, no new row")
            joined = new
        left_out += [f"joined: {row['id']} ({_full_name(row)})" for row in joined]
        students = kept + joined
    elif aliases_csv.is_file():
        aliases_csv.unlink()
        left_out.append(f"note: {aliases_csv.name} removed (the participant ids of other lessons): run python -m grading "
                        "roster with each later lesson's grading worksheet again")
    if moodle and not all(row["email"] for row in students):
        missing = [row["id"] for row in students if not row["email"]]
        left_out.append(f"note: no e-mail for {len(missing)} student(s) ({', '.join(missing[:5])}"
                        f"{' ...' if len(missing) > 5 else ''}): Moodle gives every assignment new participant ids, and "
                        f"a student without an e-mail cannot be recognised in a later lesson's worksheet. Hint: "
                        f"{MOODLE_IDENTITY}")
    _write_csv(out, ROSTER_COLUMNS, students)
    if aliases:
        _write_csv(aliases_csv, ALIAS_COLUMNS, aliases)
    return out, students, left_out


def roster_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading roster",
                                     description="Make .grading/roster.csv from the LMS's gradebook export (Canvas) "
                                                 "or grading worksheet (Moodle: run it with each lesson's worksheet; a "
                                                 "student already in the roster is recognised by e-mail, and the lesson's "
                                                 "participant id recorded as an alias in roster_aliases.csv).")
    parser.add_argument("export", type=Path, help="the LMS's gradebook export (Canvas) or grading worksheet (Moodle)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    parser.add_argument("--force", action="store_true", help="replace roster.csv and drop its aliases (by default its "
                        "rows are kept as they are, edits by hand included, and the export's new students added; a Moodle "
                        "worksheet's participant ids of students already in it are recorded as aliases)")
    args = parser.parse_args(argv)
    existed = _roster_files(args.course)[0].is_file()
    try:
        out, students, left_out = roster(args.export, args.course, args.force)
    except LmsError as error:
        print(f"python -m grading roster: {error}", file=sys.stderr)
        return 1
    shown = out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out
    if not existed or args.force or any(why.startswith("joined: ") for why in left_out):
        print(f"wrote {out}: {len(students)} student(s); next: nbgrader db student import {shown}")
    else:
        print(f"wrote {out}: {len(students)} student(s), no new one: the gradebook has them all already (no import needed)")
    for why in left_out:
        print(f"  {why}" if why.startswith(("joined: ", "recognised: ", "note: ")) else f"  left out: {why}")
    return 0


def lms_grades(lesson: str, export: Path, column: str | None = None, course: Path | None = None) -> LmsGrades:
    """Fill the LMS's ``export`` with ``lesson``'s grades from the course's gradebook; see `fill`."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=load_config(course)[1])
    out = course_folders(course).submitted.parent / "lms" / f"{lesson}-{Path(export).stem}.csv"
    grades, points = _grades(coursedir.db_url, lesson)
    return fill(lesson, Path(export), grades, out, column, points, read_roster(course))


def _who(roster: Roster, student: str, names: dict[str, str]) -> str:
    """``student`` with its name beside it, ``"1000011 Ada Lovelace"``: the roster's, else the LMS file's ``names``."""
    return labelled(student, roster.name(student) or names.get(student, ""))


def _as(roster_ids: dict[str, str], student: str) -> str:
    """``"roster id 1001: "`` when ``student`` (a Moodle participant id) is another id in the roster, else ""."""
    return f"roster id {roster_ids[student]}: " if student in roster_ids else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading lms-grades", description=first_paragraph(__doc__))
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
    roster = read_roster(args.course)
    if result.filled:
        print(f"wrote {result.written}: column {result.column!r}, {len(result.filled)} grade(s) filled in; import it into "
              "the LMS (Canvas: Grades → Import; Moodle: Upload grading worksheet)")
    else:
        print(f"wrote {result.written}: column {result.column!r}, no grade filled in: nothing to import yet (every "
              "student is left blank, below); run this command again when their grades are final")
    if result.scaled:
        points, maximum = result.scaled
        print(f"  scaled: the lesson is worth {points:g} points and the LMS's maximum for this column is {maximum:g}, so "
              f"each grade is points x {maximum / points:g} (to import points as they are, set the LMS's maximum to "
              f"{points:g})")
    for student, why in sorted(result.blank.items()):
        print(f"  left blank: {_who(roster, student, result.names)} ({_as(result.roster_ids, student)}{why})")
    if result.not_in_export:
        print(f"graded by the course but not in the export ({len(result.not_in_export)}): {', '.join(result.not_in_export)}")
    if result.unknown:
        print(f"python -m grading lms-grades: {len(result.unknown)} of {len(result.filled) + len(result.blank)} participant "
              f"id(s) of {args.export} are in neither the roster nor its aliases "
              f"({', '.join(_who(roster, student, result.names) for student in result.unknown[:5])}"
              f"{' ...' if len(result.unknown) > 5 else ''}), left blank: Moodle gives every assignment new participant "
              f"ids. Hint: {ROSTER_FIRST.replace('WORKSHEET.csv', shlex.quote(str(args.export)))}, then this command again",
              file=sys.stderr)
        return 1
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
                 grades: dict[str, tuple[float, list[str]]] | None = None, roster: Roster | None = None,
                 max_bytes: int | None = None) -> LmsFeedback:
    """Write ``out``: the pages ``feedback/<id>/<lesson>/<lesson>.html`` of the students in Moodle's ``worksheet``, each
    in the folder ``<Full name>_<participant id>_assignfeedback_file_/``, which every Moodle from 3.1 imports (see the
    module's help).

    ``roster`` (see `read_roster`) translates the worksheet's participant ids into the roster's ids, which name the
    pages' folders; the zip keeps the worksheet's participant ids, which Moodle reads. A participant id it does not know
    is left out.

    A page that shows an earlier grading is left out: one older than ``autograded/<id>/<lesson>/<lesson>.ipynb``, and
    one whose score, or whose written answers waiting for a hand grade, differ from the gradebook's ``grades``
    (``{student: (total score, grade ids waiting for a hand grade)}``, as `_grades` reads them): a page kept by
    ``generate_feedback`` without ``--force`` after a hand grade.

    With ``max_bytes``, pages go into zips of at most that size each, ``<out>-1.zip``, ``<out>-2.zip``, ... (Moodle
    refuses an upload above its maximum size; each zip uploaded adds its pages), when one zip would be larger.

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
        result.names[student] = row["Full name"].strip()
        graded_as, unknown = _moodle_student(student, roster, row)
        if graded_as is None:  # unknown, or unknown and nothing handed in (no page to miss)
            result.left_out[student] = unknown or NOT_GRADED
            result.unknown += [student] * bool(unknown)
            continue
        if graded_as != student:
            result.roster_ids[student] = graded_as
        page = feedback / graded_as / lesson / f"{lesson}.html"
        graded = autograded / graded_as / lesson / f"{lesson}.ipynb"
        if not page.is_file():
            result.left_out[student] = (f"no feedback page: run nbgrader generate_feedback {lesson} --force"
                                        if graded.is_file() else NOT_GRADED)
        elif why := _earlier(page, graded, (grades or {}).get(graded_as)):
            result.left_out[student] = f"{why}: run nbgrader generate_feedback {lesson} --force"
        else:
            name = " ".join(re.sub(r"[_/\\]", " ", row["Full name"]).split()) or f"Participant {student}"
            pages[f"{name}_{student}_assignfeedback_file_/{lesson}.html"] = page
            if (grades or {}).get(graded_as, (0.0, []))[1]:  # its page says "Score so far"
                result.provisional.append(student)
    if not pages:
        why = "; ".join(f"{student}: {why}" for student, why in list(result.left_out.items())[:3]) or "no participant rows"
        raise LmsError(f"{worksheet}: none of its {len(result.left_out)} student(s) has a feedback page to pack ({why}); "
                       "nothing written")
    groups: list[list[str]] = [[]]  # the zips' entries: one zip, or parts of at most max_bytes each
    size = 0
    for entry in sorted(pages):
        packed = len(zlib.compress(pages[entry].read_bytes())) + 2 * len(entry.encode()) + 100  # as the zip holds it
        if max_bytes and groups[-1] and size + packed > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(entry)
        size += packed
    out.parent.mkdir(parents=True, exist_ok=True)
    for earlier in [out, *out.parent.glob(f"{glob.escape(out.stem)}-[0-9]*{out.suffix}")]:
        earlier.unlink(missing_ok=True)  # an earlier packing's zip or parts: only this one's are to be uploaded
    result.parts = [out] if len(groups) == 1 else [out.with_name(f"{out.stem}-{k}{out.suffix}") for k in range(1, len(groups) + 1)]
    for part, entries in zip(result.parts, groups):
        partial = part.with_name(part.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in entries:
                archive.write(pages[entry], entry)
                result.packed.append(entry.split("_")[1])
        partial.replace(part)
    return result


def lms_feedback(lesson: str, worksheet: Path, course: Path | None = None, max_bytes: int | None = None) -> LmsFeedback:
    """Pack ``lesson``'s feedback pages for Moodle's ``worksheet``, with the course's roster; see `feedback_zip`."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=load_config(course)[1])
    root = Path(coursedir.root)
    out = course_folders(course).submitted.parent / "lms" / f"{lesson}-feedback.zip"
    db = coursedir.db_url
    unmade = db.startswith("sqlite:///") and not Path(db.removeprefix("sqlite:///")).is_file()
    grades = {} if unmade else _grades(db, lesson)[0]  # no gradebook yet: nothing graded to compare pages with
    return feedback_zip(lesson, Path(worksheet), root / coursedir.feedback_directory,
                        root / coursedir.autograded_directory, out, grades, read_roster(course), max_bytes)


def feedback_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading lms-feedback",
                                     description="Pack a lesson's feedback pages into a zip for Moodle's Upload "
                                                 "multiple feedback files in a zip.")
    parser.add_argument("lesson", help="the lesson (nbgrader assignment), e.g. 01_gradient_descent")
    parser.add_argument("worksheet", type=Path, help="the assignment's grading worksheet downloaded from Moodle")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    parser.add_argument("--max-mb", type=float, default=None, metavar="MB",
                        help="write zips of at most MB megabytes each (Moodle's maximum upload size), "
                             "<lesson>-feedback-1.zip, -2.zip, ..., when one zip would be larger; upload each")
    args = parser.parse_args(argv)
    if args.max_mb is not None and args.max_mb <= 0:
        print(f"python -m grading lms-feedback: --max-mb must be above 0, got {args.max_mb:g}", file=sys.stderr)
        return 2
    try:
        result = lms_feedback(args.lesson, args.worksheet, args.course,
                              None if args.max_mb is None else int(args.max_mb * 1e6))
    except (LmsError, FileNotFoundError) as error:
        print(f"python -m grading lms-feedback: {error}", file=sys.stderr)
        return 1
    roster = read_roster(args.course)
    sizes = [part.stat().st_size / 1e6 for part in result.parts]
    where = ("upload it in Moodle" if len(result.parts) == 1 else f"upload each of the {len(result.parts)} in Moodle, one after "
             "the other (each adds its pages)")
    print(f"wrote {', '.join(f'{part} ({mb:.1f} MB)' for part, mb in zip(result.parts, sizes))}: {len(result.packed)} "
          f"page(s); {where} (View all submissions → Grading action → Upload multiple feedback files in a zip; the "
          "assignment's Feedback files must be on)")
    if args.max_mb is None and max(sizes) > 2:
        print(f"  {max(sizes):.1f} MB is above 2 MB, PHP's default upload_max_filesize: if Moodle refuses the upload "
              "(its maximum upload size, set by the site, the course and PHP), run this command again with --max-mb and "
              "the size Moodle's file picker states")
    for student, why in sorted(result.left_out.items()):
        print(f"  left out: {_who(roster, student, result.names)} ({_as(result.roster_ids, student)}{why})")
    for student in sorted(result.provisional):
        print(f"  not final: {_who(roster, student, result.names)} ({_as(result.roster_ids, student)}written answers to "
              f"grade by hand: the page says \"Score so far\"; lms-grades leaves this grade blank until then)")
    if result.provisional:
        print(f"{len(result.provisional)} of {len(result.packed)} pages packed show a score that is not final: grade the "
              f"written answers (Formgrader), run nbgrader generate_feedback {args.lesson} --force and this command again, "
              f"and upload the new {'zip, which replaces' if len(result.parts) == 1 else 'zips, which replace'} those pages")
    missing = result.missing
    if missing:
        stale = sum(why.startswith("its page ") for why in missing.values())
        unmade = sum(why.startswith("no feedback page") for why in missing.values())
        reasons = [f"{stale} with a page that shows an earlier grading than the gradebook's"] * bool(stale)
        reasons += [f"{unmade} with no page yet"] * bool(unmade)
        reasons += [f"{len(result.unknown)} whose participant id is in neither the roster nor its aliases"] * bool(result.unknown)
        fixes = [f"run nbgrader generate_feedback {args.lesson} --force"] * bool(stale or unmade)
        fixes += [ROSTER_FIRST.replace("WORKSHEET.csv", shlex.quote(str(args.worksheet)))] * bool(result.unknown)
        print(f"python -m grading lms-feedback: {len(missing)} of {len(missing) + len(result.packed)} graded students' "
              f"pages left out of the zip ({'; '.join(reasons)}), which holds the other {len(result.packed)}. Hint: "
              f"{', and '.join(fixes)}, then this command again, before uploading", file=sys.stderr)
        return 1
    return 0
