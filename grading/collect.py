"""Collect a lesson from an LMS download: ``python -m grading collect LESSON [DOWNLOAD.zip ...]``.

Run it from the course folder. The download (the zip files Canvas or Moodle give, or the files in them) goes
to ``.grading/downloaded/<lesson>/archive/``; named on the command line, the files replace what that folder
held. The command runs ``nbgrader zip_collect <lesson> --force`` (``--force``: a new download replaces the
last one), which reads each student's id from the file's name (``FileNameCollectorPlugin.named_regexp`` in
``nbgrader_config.py``) and copies the notebooks to ``.grading/submitted/<student>/<lesson>/``. nbgrader says
nothing when no name matches; this command exits with 1 and names the folder, the names it found and the
names it expects, when no notebook was collected.

Moodle gives a student a new participant id in every assignment: nbgrader's collector is `RosterCollectorPlugin`,
which files a Moodle participant id recorded as an alias (``python -m grading roster`` with the lesson's grading
worksheet, see grading/lms.py) under the student's roster id, and collects nothing for a participant id the roster
does not know (the command names them and exits with 1).
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Unicode

from . import run_nbgrader
from .course import first_paragraph, labelled, load_config
from .lms import ROSTER_FIRST, LmsError, Roster, read_roster

__all__ = ["CollectError", "Collected", "EXPECTED_NAMES", "MOODLE_MARK", "RosterCollectorPlugin", "collect", "main"]

#: The names the course's configuration collects, for messages (``{notebook}``: the lesson's notebook).
EXPECTED_NAMES = (
    "Canvas: <lastnamefirstname>_<user id>_<submission id>_{notebook} (LATE_ before the user id for a late one)",
    "Moodle 4.1 and later: <Full Name>_<participant id>_assignsubmission_file/{notebook}",
    "Moodle 3.1 to 4.0: <Full Name>_<participant id>_assignsubmission_file_/{notebook}",
    "Moodle, Download submissions in folders off: <Full Name>_<participant id>_assignsubmission_file_{notebook}",
)
#: What a Moodle download's names hold after the participant id (the submission plugin's name follows).
MOODLE_MARK = re.compile(r"_\d+_assignsubmission_[a-z]+")


def _moodle(path: str) -> bool:
    """Whether ``path`` is named as Moodle names a download's files."""
    return bool(MOODLE_MARK.search(path))


class RosterCollectorPlugin(FileNameCollectorPlugin):
    """nbgrader's collector by file name (``FileNameCollectorPlugin.named_regexp``), with Moodle's participant ids
    translated through the course's roster: an id recorded as an alias is collected under the roster id, and a Moodle
    file whose participant id the roster (when there is one) does not know is skipped, for ``collect`` to name."""

    grading_folder = Unicode("", help="the course's .grading folder, which holds roster.csv and roster_aliases.csv").tag(
        config=True)
    _roster: Roster | None = None

    def collect(self, submitted_file: str) -> dict | None:
        """The file's ``student_id`` (the roster's id) and ``file_id``; None to skip it."""
        info = super().collect(submitted_file)
        if not info or not self.grading_folder:
            return info
        if self._roster is None:
            try:
                self._roster = read_roster(folder=Path(self.grading_folder))
            except LmsError as error:  # collect names it: nothing is translated
                self.log.warning("%s", error)
                self._roster = Roster()
        roster = self._roster
        student = roster.resolve(info["student_id"])
        if student is None and roster.exists and _moodle(submitted_file):
            self.log.warning("Skipped %s: participant id %s is in neither the roster nor its aliases", submitted_file,
                             info["student_id"])
            return None
        info["student_id"] = student or info["student_id"]
        return info


class CollectError(RuntimeError):
    """Nothing could be collected; the message says where the command looked and what it expects."""


@dataclass
class Collected:
    """What one collection brought in: ``{student: [notebook names]}``, and the files no name matched."""

    archive: Path
    students: dict[str, list[str]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)  # notebooks whose name holds no student id
    not_notebooks: list[str] = field(default_factory=list)  # other files (Moodle's online text, say): not collected
    renamed: dict[str, list[str]] = field(default_factory=dict)  # students' notebooks under another name than the lesson's
    late: set[str] = field(default_factory=set)  # students whose file the LMS named late (Canvas's LATE_)
    roster_ids: dict[str, str] = field(default_factory=dict)  # {roster id: the download's Moodle participant id}
    unknown: dict[str, list[str]] = field(default_factory=dict)  # {Moodle participant id: [files]}: not in the roster
    unreadable: dict[str, list[str]] = field(default_factory=dict)  # {student: [why]}: collected, but no notebook to grade
    newer: dict[str, list[str]] = field(default_factory=dict)  # {student: [near names]}: of two versions, the newer, graded

    @property
    def notebooks(self) -> int:
        return sum(map(len, self.students.values()))


def keep_dates(archive: Path, extracted: Path) -> None:
    """Give each file extracted from the zips in ``archive`` the date the zip holds for it (when the student handed it
    in, in an LMS's download), not the time it was extracted: the class command compares two versions by it."""
    for path in sorted(archive.glob("*.zip")):
        try:
            with zipfile.ZipFile(path) as archived:
                for info in archived.infolist():
                    target = extracted / path.stem / info.filename
                    if not info.is_dir() and target.is_file():
                        when = time.mktime((*info.date_time, 0, 0, -1))
                        os.utime(target, (when, when))
        except (zipfile.BadZipFile, OSError, ValueError, OverflowError):
            continue  # nbgrader has said what it could not read; a file without its date keeps the time of extraction


def no_release(coursedir, lesson: str) -> str:
    """Why ``lesson`` has no released notebook: a name that is no lesson (with the lessons, and the nearest one), or
    a lesson not released yet (with the command that releases it)."""
    root = Path(coursedir.root)
    sources = root / coursedir.source_directory
    lessons = sorted(p.name for p in sources.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if sources.is_dir() else []
    if lesson not in lessons:
        near = difflib.get_close_matches(lesson, lessons, n=1)
        return (f"no lesson named {lesson!r}" + (f": did you mean {near[0]}?" if near else ".")
                + f" The lessons (folders of {sources}): {', '.join(lessons) or 'none'}")
    release = root / coursedir.release_directory / lesson
    return f"{release} holds no notebooks: release the lesson first with `nbgrader generate_assignment {lesson} --force`"


def collect(lesson: str, downloads: list[Path] | None = None, course: Path | None = None) -> Collected:
    """Collect ``lesson`` from the LMS download; raise :class:`CollectError` when no notebook is collected."""
    from nbgrader.coursedir import CourseDirectory

    course, config = load_config(course)
    coursedir = CourseDirectory(config=config)
    downloaded = Path(coursedir.root) / config.ZipCollectApp.get("downloaded_directory", "downloaded") / lesson
    archive, extracted = downloaded / "archive", downloaded / "extracted"
    release = Path(coursedir.root) / coursedir.release_directory / lesson
    expected = sorted(p.name for p in release.glob("*.ipynb"))
    if not expected:
        raise CollectError(no_release(coursedir, lesson))
    names = "\n".join(f"  {name.format(notebook=expected[0])}" for name in EXPECTED_NAMES)
    if downloads:
        missing = [str(p) for p in downloads if not Path(p).is_file()]
        if missing:
            raise CollectError(f"no such file: {', '.join(missing)}")
        shutil.rmtree(archive, ignore_errors=True)
        archive.mkdir(parents=True)
        for path in downloads:
            shutil.copy2(path, archive / Path(path).name)
    if not archive.is_dir() or not any(archive.iterdir()):
        archive.mkdir(parents=True, exist_ok=True)
        raise CollectError(f"nothing to collect: {archive} is empty. Put the LMS download (its zip files) there, or name "
                           f"the files: python -m grading collect {lesson} DOWNLOAD.zip ...\nExpected names:\n{names}")

    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(run_nbgrader.command("zip_collect", lesson, "--force"), cwd=course, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if "ERROR" in line or "Error" in line]
        raise CollectError(f"nbgrader zip_collect {lesson} failed: " + (" | ".join(errors[-3:]) or result.stderr[-1000:]))

    # the same match nbgrader made, on the same (absolute) paths, to say what was collected and what was not
    regexp = config.FileNameCollectorPlugin.get("named_regexp", "")
    try:
        roster = read_roster(course)
    except LmsError as error:
        raise CollectError(str(error)) from None
    collected = Collected(archive)
    keep_dates(archive, extracted)
    found = sorted(p for p in extracted.rglob("*") if p.is_file()) if extracted.is_dir() else []
    for path in found:
        if path.suffix != ".ipynb":
            collected.not_notebooks.append(str(path.relative_to(extracted)))
            continue
        match = re.match(regexp, str(path)) if regexp else None
        if match is None:
            collected.unmatched.append(str(path.relative_to(extracted)))
            continue
        student, name = match.group("student_id"), Path(match.group("file_id")).name
        if (found := roster.resolve(student)) is None and roster.exists and _moodle(str(path)):
            collected.unknown.setdefault(student, []).append(str(path.relative_to(extracted)))
            continue
        if found and found != student:
            collected.roster_ids[found] = student
        student = found or student
        collected.students.setdefault(student, []).append(name)
        copy = Path(coursedir.format_path(coursedir.submitted_directory, student, lesson)) / name
        if copy.is_file() and filecmp.cmp(copy, path, shallow=False):  # the copy nbgrader made: the date the download holds
            os.utime(copy, (path.stat().st_atime, path.stat().st_mtime))
        if match.groupdict().get("late"):  # the configuration's group for Canvas's late mark
            collected.late.add(student)
        if name not in expected:
            collected.renamed.setdefault(student, []).append(name)
    from .classgrade import adopt_newest, check_files

    for student, names in collected.students.items():
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, lesson))
        adopted = adopt_newest(folder, expected)  # of two versions, the newer by the download's dates is the one graded
        if adopted:
            collected.newer[student] = adopted
        cannot = [p for p in check_files(folder, lesson, names) if p.startswith(("corrupt ", "empty ", "unreadable "))]
        if cannot:
            collected.unreadable[student] = cannot
    if not collected.notebooks and collected.unknown:
        raise CollectError(f"collected 0 notebooks for {lesson} from {archive}: {unknown_ids(collected)}")
    if not collected.notebooks:
        files = collected.unmatched + collected.not_notebooks
        seen = ", ".join(files[:5]) + (" ..." if len(files) > 5 else "") or "no files"
        raise CollectError(f"collected 0 notebooks for {lesson} from {archive} (found: {seen}).\n"
                           f"Expected the names an LMS gives its downloads:\n{names}")
    return collected


def unknown_ids(collected: Collected) -> str:
    """What to do about the Moodle participant ids of ``collected`` that the roster does not know."""
    ids = sorted(collected.unknown, key=int)
    return (f"{len(ids)} Moodle participant id(s) in neither the roster nor its aliases, not collected "
            f"({', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}): Moodle gives every assignment new participant ids. "
            f"Hint: {ROSTER_FIRST}, then python -m grading collect {collected.archive.parent.name} (it collects again "
            "what the archive folder holds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading collect", description=first_paragraph(__doc__))
    parser.add_argument("lesson", help="the lesson (nbgrader assignment), e.g. 01_gradient_descent")
    parser.add_argument("downloads", nargs="*", type=Path, help="the LMS download's files (default: what "
                        ".grading/downloaded/<lesson>/archive/ holds)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the current folder)")
    args = parser.parse_args(argv)
    try:
        collected = collect(args.lesson, args.downloads, args.course)
    except (CollectError, FileNotFoundError) as error:
        print(f"python -m grading collect: {error}", file=sys.stderr)
        return 1
    print(f"collected {collected.notebooks} notebook(s) of {len(collected.students)} student(s) into the submitted folder")
    roster = read_roster(args.course)
    for student, names in sorted(collected.students.items()):
        notes = [f"Moodle's participant id {collected.roster_ids[student]}"] if student in collected.roster_ids else []
        notes += ["late, as the LMS marked it"] * (student in collected.late)
        notes += [f"two versions: the newer, {name}, is graded under the lesson's name; the older kept as .older"
                  for name in collected.newer.get(student, [])]
        others = [name for name in collected.renamed.get(student, []) if name not in collected.newer.get(student, [])]
        if student not in collected.newer and others:
            notes += ([f"also {', '.join(others)}: see the class command's report"] if set(names) - set(collected.renamed.get(student, []))
                      else ["not the lesson's notebook name: see the class command's report"])
        notes += [f"CANNOT BE READ: {why}" for why in collected.unreadable.get(student, [])]
        print(f"  {labelled(student, roster.name(student))}: {', '.join(names)}"
              + "".join(f"  ({note})" for note in notes))
    elsewhere = [student for student in roster.names if student not in collected.students]
    if elsewhere:
        print(f"in the roster, not in this download ({len(elsewhere)}): "
              f"{', '.join(labelled(s, roster.name(s)) for s in elsewhere)}: a student who handed in "
              "nothing (the class command reports them as 'no submission'), or one this download of selected students "
              "leaves out (what was collected for them before stays)")
    if collected.late:
        print(f"{len(collected.late)} marked late by the LMS: the course records no lateness and applies no penalty; "
              "the LMS keeps the submission times")
    if collected.unreadable:
        print(f"{len(collected.unreadable)} student(s) handed in a notebook that cannot be read "
              f"({', '.join(sorted(collected.unreadable))}): ask them for it again now; the class command would list them "
              f"as NOT GRADED. Collect the new file alone: python -m grading collect {args.lesson} THEIR_DOWNLOAD.zip")
    if collected.unmatched:
        print(f"not collected ({len(collected.unmatched)}, no student id in the name): {', '.join(collected.unmatched)}")
    if collected.not_notebooks:
        print(f"not collected ({len(collected.not_notebooks)}, not a notebook; read them in the LMS or in "
              f"{collected.archive.parent / 'extracted'}): {', '.join(collected.not_notebooks)}")
    if collected.unknown:
        print(f"python -m grading collect: {unknown_ids(collected)}", file=sys.stderr)
        return 1
    return 0
