"""The instructor's path, followed literally: the README's step-by-step commands, run as written (bash, from the
root of a throw-away git repository holding the course's files) on a synthetic LMS download.

One small class is graded once (module fixture), and everything the README promises is checked on it:

* a Canvas download (``<lastnamefirstname>_[LATE_]<user id>_<submission id>_<file>``) and a Moodle download (a folder per
  student) are collected; a download with names from no LMS fails loudly (exit 1, the folder and the names);
* a notebook under a near name (``-Copy1``) is graded as the student's and reported as renamed;
* the class command says when it grades without a sandbox (banner, status, exit 3), and with the sandbox
  required and missing grades nobody and shows no score;
* a manual grade set through nbgrader's Gradebook API stays finished when the class command runs again;
* nothing the commands write shows in ``git status``; feedback folders hold only the page;
* autograde's log holds no "checksum ... has changed!" for an untouched notebook or the solution, and one for
  a test cell the student edited;
* the roster, made from Canvas's gradebook export (its test student and "Points Possible" row left out), brings its
  names and e-mails to the export, which lists only the lesson named;
* files the LMS marked late are listed as late; an untouched notebook is reported as "no answer written";
* a notebook cut short, collected alone later, is named NOT GRADED with what to do, and the others are kept;
* a misspelt lesson gets the right name and the lessons, without a traceback, from both commands;
* the class command and the grading logs carry no library noise, and say when the reference records are built;
* a feedback page made before the written answers are graded says its score is not final; the README's feedback
  step, run again after manual grading, shows the grade on the page;
* a student's report names the tests that lost points; collect says at once that a notebook cannot be read.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import course

README = course.REPO / "README.md"
HEADING = "### A lesson from an LMS download, step by step"


def readme_steps() -> list[str]:
    """The commands of the README's step-by-step block, as written."""
    text = README.read_text()
    block = re.search(re.escape(HEADING) + r".*?```bash\n(.*?)```", text, re.S)
    assert block, f"README has no bash block under {HEADING!r}"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


STEPS = readme_steps()
LESSON = re.search(r"nbgrader generate_assignment (\S+)", STEPS[0]).group(1)
NOTEBOOK = f"{LESSON}.ipynb"
OTHER_LESSON = next(lesson for lesson in course.lessons() if lesson != LESSON)  # released, never graded
# The students' ids: Canvas user ids, as the download's file names give them (and Canvas's gradebook export's ID column)
ALICE, BOB, CAROL, DAVE, ERIN, FRANK = "1001", "1002", "1003", "1004", "1005", "1006"
ROSTER = {  # id → (first name, last name, e-mail); erin submits nothing
    ALICE: ("Alice", "Archer", "alice@example.org"), BOB: ("Bob", "Baker", "bob@example.org"),
    CAROL: ("Carol", "Cole", "carol@example.org"), DAVE: ("Dave", "Dunn", "dave@example.org"),
    ERIN: ("Erin", "Evans", "erin@example.org"),
}


def run(root: Path, command: str, env: dict, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def cohort() -> dict[str, str]:
    """alice: the solution; bob: untouched; carol: the solution under a near name; dave: one wrong answer and an
    edited test cell. Notebooks as JSON text."""
    student = course.read(course.NOTEBOOKS / LESSON / NOTEBOOK)
    source = course.read(course.source_notebook(LESSON))
    exercise, wrong = next(iter(course.main_wrong_answers(LESSON).items()))
    dave = course.fill_answers(student, source, {exercise: wrong})
    test = next(c for c in dave.cells if course.nbgrader_meta(c).get("grade_id") == f"test_{exercise}")
    test.source += "\n# I checked this by hand too"
    solved = nbformat.writes(course.fill_answers(student, source))
    return {ALICE: solved, BOB: nbformat.writes(student), CAROL: solved, DAVE: nbformat.writes(dave)}


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("instructor")
    root, home = base / "course", base / "home"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=course.REPO,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        if (course.REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(course.REPO / name, root / name)
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "course"], cwd=root, check=True)

    notebooks = cohort()
    (home / "Downloads").mkdir(parents=True)
    with zipfile.ZipFile(home / "Downloads" / "submissions.zip", "w") as z:  # Canvas
        z.writestr(f"archeralice_1001_5001_{NOTEBOOK}", notebooks[ALICE])
        z.writestr(f"late_bakerbob_1002_5002_{NOTEBOOK}", notebooks[BOB])
        z.writestr(f"colecarol_1003_5003_{LESSON}-Copy1.ipynb", notebooks[CAROL])
        z.writestr(f"dunndave_LATE_1004_5004_{NOTEBOOK}", notebooks[DAVE])
    with zipfile.ZipFile(base / "moodle.zip", "w") as z:  # the layouts of Moodle 4.1 and later, 3.1 to 4.0, no folders
        z.writestr(f"Alice Archer_20001_assignsubmission_file/{NOTEBOOK}", notebooks[ALICE])
        z.writestr(f"Jean_Luc Picard_20002_assignsubmission_file_/{NOTEBOOK}", notebooks[BOB])
        z.writestr("Jean_Luc Picard_20002_assignsubmission_onlinetext_/onlinetext.html", "<p>see the notebook</p>")
        z.writestr(f"Carol Cole_20003_assignsubmission_file_{NOTEBOOK}", notebooks[CAROL])
    with zipfile.ZipFile(base / "unnamed.zip", "w") as z:
        z.writestr(NOTEBOOK, notebooks[ALICE])
        z.writestr(f"alice/{NOTEBOOK}", notebooks[ALICE])
    with (home / "Downloads" / "gradebook.csv").open("w", newline="", encoding="utf-8-sig") as f:  # Canvas's export
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"Lesson: {LESSON} (401)", "Current Points"])
        points = sum(course.graded_cells(LESSON).tests.values()) + sum(course.graded_cells(LESSON).written.values())
        writer.writerow(["    Points Possible", "", "", "", "", f"{points:.2f}", "(read only)"])  # the lesson's points
        writer.writerows([f"{last}, {first}", student, "", email, "Section 1", "", ""]
                         for student, (first, last, email) in ROSTER.items())
        writer.writerow(["Student, Test", "1099", "", "", "Section 1", "", ""])  # Canvas's own test student

    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "HOME": str(home), "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}", "PYTHONHASHSEED": "0"}
    env.pop("MPLBACKEND", None)
    env.pop("COURSE_REFERENCE_CACHE", None)  # as an instructor starts: the reference records are built in the course
    result: dict = {"root": root, "env": env}
    submitted = root / ".grading" / "submitted"

    # before the README's steps: another lesson is released; downloads with the wrong names, and from Moodle
    run(root, f"nbgrader generate_assignment {LESSON} --force && nbgrader generate_assignment {OTHER_LESSON} --force", env)
    result["unnamed"] = run(root, f"python -m grading collect {LESSON} {base / 'unnamed.zip'}", env)
    result["moodle"] = run(root, f"python -m grading collect {LESSON} {base / 'moodle.zip'}", env)
    result["moodle_submitted"] = {p.relative_to(submitted).as_posix() for p in submitted.rglob("*") if p.is_file()}
    shutil.rmtree(submitted)

    result["steps"] = {}
    for step in STEPS:
        result["steps"][step] = done = run(root, step, env)
        assert done.returncode == 0, f"README step `{step}` failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        if step.startswith("nbgrader generate_feedback"):  # before any written answer is graded by hand
            result["alice_page_first"] = (root / ".grading" / "feedback" / ALICE / LESSON / f"{LESSON}.html").read_text()
    with (root / ".grading" / "reports" / LESSON / "summary.csv").open(newline="") as f:
        result["summary"] = {row["student"]: row for row in csv.DictReader(f)}
    result["reports"] = {p.stem: p.read_text() for p in (root / ".grading" / "reports" / LESSON).glob("*.txt")}
    result["status"] = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                                      capture_output=True, text=True, check=True).stdout
    archive = root / ".grading" / "downloaded" / LESSON / "archive"
    result["submitted_students"] = sorted(p.name for p in submitted.iterdir())
    result["logs"] = {p.name: p.read_text() for p in (root / ".grading" / "reports" / LESSON).glob("*.log")}
    result["archive"] = sorted(p.name for p in archive.iterdir())

    # a late download holding only frank's notebook, cut short: collected alone, named, nothing recorded for him
    with zipfile.ZipFile(base / "frank.zip", "w") as z:
        z.writestr(f"fishfrank_1006_5006_{NOTEBOOK}", notebooks[ALICE][: len(notebooks[ALICE]) // 2])
    result["frank_collect"] = run(root, f"python -m grading collect {LESSON} {base / 'frank.zip'}", env)
    result["frank_submitted"] = sorted(p.name for p in submitted.iterdir())
    result["frank_grade"] = run(root, f"python -m grading {LESSON}", env)
    with (root / ".grading" / "reports" / LESSON / "summary.csv").open(newline="") as f:
        result["frank_summary"] = {row["student"]: row for row in csv.DictReader(f)}
    # a lesson's name misspelt, in both commands
    typo = LESSON[:-2] + LESSON[-1]
    result["typo"] = typo, run(root, f"python -m grading {typo}", env), run(root, f"python -m grading collect {typo}", env)

    # a written answer graded by hand, then the class command again (alice only) where no sandbox can run
    from nbgrader.api import Gradebook

    db = f"sqlite:///{root / '.grading' / 'gradebook.db'}"
    written = next(iter(course.graded_cells(LESSON).written))
    with Gradebook(db) as gb:
        grade = gb.find_grade(written, LESSON, LESSON, ALICE)
        result["flag_before"] = grade.needs_manual_grade
        grade.manual_score = 1.0
        grade.needs_manual_grade = False
        gb.db.commit()
    # the pages for Moodle, with alice's page made before her hand grade (kept, as generate_feedback without --force
    # keeps it), then again after the README's feedback step
    worksheet = base / "worksheet.csv"
    worksheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum grade\n" + "".join(
        f"Participant {student},{first} {last},{email},Submitted,,100.00\n" for student, (first, last, email) in ROSTER.items()))
    moodle_feedback = f"python -m grading lms-feedback {LESSON} {worksheet}"
    result["moodle_feedback_kept"] = run(root, f"nbgrader generate_feedback {LESSON} && {moodle_feedback}", env)
    fake = base / "fake-bwrap"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    (base / "again" / ALICE).mkdir(parents=True)
    shutil.copytree(submitted / ALICE / LESSON, base / "again" / ALICE / LESSON)
    unsandboxed = {**env, "PATH": f"{fake}{os.pathsep}{env['PATH']}"}
    # --regrade: alice's files were graded before (in the sandbox) and would be kept, not graded where none can run
    again = f"python -m grading {LESSON} --submissions {base / 'again'} --regrade"
    result["required"] = run(root, again, {**unsandboxed, "COURSE_GRADING_SANDBOX": "require"})
    result["unsandboxed"] = run(root, again, {**unsandboxed, "COURSE_GRADING_SANDBOX": "auto"})
    with Gradebook(db) as gb:
        grade = gb.find_grade(written, LESSON, LESSON, ALICE)
        result["manual_after"] = (grade.manual_score, grade.needs_manual_grade)
    # the README's feedback step again, after the manual grade
    feedback_step = next(line for line in STEPS if line.startswith("nbgrader generate_feedback"))
    result["feedback_again"] = run(root, feedback_step, env)
    result["alice_page"] = (root / ".grading" / "feedback" / ALICE / LESSON / f"{LESSON}.html").read_text()
    result["moodle_feedback_again"] = run(root, moodle_feedback, env)
    zipped = root / ".grading" / "lms" / f"{LESSON}-feedback.zip"
    with zipfile.ZipFile(zipped) if zipped.is_file() else contextlib.nullcontext() as archive:
        result["moodle_pages"] = {name.split("_")[1]: archive.read(name).decode() for name in archive.namelist()} \
            if archive else {}
    # and the grades into the LMS again, with alice's written answer graded
    result["lms_again"] = run(root, next(line for line in STEPS if line.startswith("python -m grading lms-grades")), env)
    with (root / ".grading" / "lms" / f"{LESSON}-gradebook.csv").open(newline="") as f:
        result["lms_rows"] = list(csv.DictReader(f))
    result["written_points"] = course.graded_cells(LESSON).written[written]
    return result


def step(trial: dict, command: str) -> subprocess.CompletedProcess:
    return next(done for line, done in trial["steps"].items() if line.startswith(command))


def summary(trial: dict) -> dict[str, dict]:
    """The class command's summary.csv after the README's steps."""
    return trial["summary"]


# ---- 0. the README's install step and its Moodle steps -------------------------------------------------------
def test_the_instructors_install_step_names_bubblewrap_which_the_sandbox_needs():
    section = README.read_text().split("## For instructors", 1)[1]
    install = section.split("| step | command |", 1)[0]
    assert "pip install -e" in install and "bubblewrap" in install, install
    assert "apt-get install bubblewrap" in install


def test_the_readme_runs_roster_with_each_moodle_lessons_worksheet():
    text = README.read_text()
    block = re.search(re.escape(HEADING) + r".*?```bash\n(.*?)```", text, re.S).group(1)
    assert re.search(r"^# Moodle: run roster with each lesson's grading worksheet", block, re.M), block
    assert "make and import the roster (Canvas: once; Moodle: with each lesson's worksheet)" in text
    for layout in ("_assignsubmission_file/", "_assignsubmission_file_/", "_assignsubmission_file_01_gradient_descent"):
        assert layout in text, f"the README names Moodle's download layout {layout}"
    assert "Moodle 4.1 and later" in text and "Moodle 3.1 to 4.0" in text and "_assignfeedback_file_/" in text
    # the Moodle step after lms-grades is in the block too, as a comment (the block itself runs with a Canvas class)
    assert re.search(rf"^#\s+python -m grading lms-feedback {LESSON} \S+gradebook\.csv$", block, re.M), block
    assert "GRADEBOOK.csv" in text and "WORKSHEET.csv" not in text, "one name for the one file Moodle gives"


# ---- 1. collecting an LMS download --------------------------------------------------------------------------
def test_the_readme_says_where_the_download_goes_and_collects_it(trial):
    assert any(line.startswith(f"python -m grading collect {LESSON} ") for line in STEPS)
    done = step(trial, "python -m grading collect")
    assert "collected 4 notebook(s) of 4 student(s)" in done.stdout, done.stdout
    assert f"in the roster, not in this download (1): {ERIN} Erin Evans: a student who handed in nothing" in done.stdout, \
        "erin, of the roster, handed in nothing"
    submitted = trial["root"] / ".grading" / "submitted"
    assert trial["submitted_students"] == [ALICE, BOB, CAROL, DAVE], "the Canvas user id is the student id"
    for student in (ALICE, BOB, DAVE):
        assert (submitted / student / LESSON / NOTEBOOK).is_file()
    assert trial["archive"] == ["submissions.zip"], "the new download replaces the earlier one"
    for student in (BOB, DAVE):
        first, last, _ = ROSTER[student]
        assert re.search(rf"^  {student} {first} {last}: .*\(late, as the LMS marked it\)", done.stdout, re.M), done.stdout
    assert "(late" not in done.stdout.split(f"{ALICE} Alice Archer:")[1].splitlines()[0], "the roster names the student"
    assert "2 marked late by the LMS: the course records no lateness" in done.stdout


def test_a_moodle_download_is_collected_by_participant_id(trial):
    assert trial["moodle"].returncode == 0, trial["moodle"].stderr
    assert trial["moodle_submitted"] == {f"{student}/{LESSON}/{NOTEBOOK}" for student in ("20001", "20002", "20003")}
    assert re.search(r"not collected \(1, not a notebook; .*\): .*onlinetext\.html", trial["moodle"].stdout), (
        "files that are not collected are named, with the reason")


def test_a_download_named_by_no_lms_fails_loudly(trial):
    done = trial["unnamed"]
    assert done.returncode == 1
    message = done.stderr
    assert f"collected 0 notebooks for {LESSON}" in message
    assert str(trial["root"] / ".grading" / "downloaded" / LESSON / "archive") in message
    assert f"Canvas: <lastnamefirstname>_<user id>_<submission id>_{NOTEBOOK}" in message
    assert f"Moodle 4.1 and later: <Full Name>_<participant id>_assignsubmission_file/{NOTEBOOK}" in message
    assert f"Moodle 3.1 to 4.0: <Full Name>_<participant id>_assignsubmission_file_/{NOTEBOOK}" in message
    assert f"Moodle, Download submissions in folders off: <Full Name>_<participant id>_assignsubmission_file_{NOTEBOOK}" \
        in message


# ---- 2. a notebook under a near name -------------------------------------------------------------------------
def test_a_notebook_under_a_near_name_is_graded_as_the_students_and_reported(trial):
    rows = summary(trial)
    assert rows[CAROL]["code_score"] == rows[ALICE]["code_score"] == rows[ALICE]["max_code_score"]
    assert f"renamed notebook {LESSON}-Copy1.ipynb graded as {NOTEBOOK}" in rows[CAROL]["problems"]
    assert (rows[CAROL]["status"], rows[ALICE]["status"], rows[BOB]["status"]) == ("note", "ok", "problems")
    assert float(rows[BOB]["code_score"]) == 0 and float(rows[DAVE]["code_score"]) < float(rows[ALICE]["code_score"])
    assert f"{NOTEBOOK}: no answer written (every exercise as released)" in rows[BOB]["problems"]
    assert "no answer written" not in rows[ALICE]["problems"] + rows[DAVE]["problems"]


# ---- 3. the sandbox ----------------------------------------------------------------------------------------------
def test_the_class_command_says_loudly_when_it_grades_without_a_sandbox(trial):
    done = trial["unsandboxed"]
    assert done.returncode == 3, done.stderr[-2000:]
    assert "GRADING WITHOUT A SANDBOX" in done.stderr, "a banner before grading"
    assert "1 of 1 submissions were graded WITHOUT A SANDBOX" in done.stdout, "a banner after the table"
    assert re.search(rf"^{ALICE}\s+Alice Archer\s+UNSANDBOXED\s", done.stdout, re.M), done.stdout
    assert "WITHOUT A SANDBOX" not in step(trial, f"python -m grading {LESSON}").stdout


def test_with_the_sandbox_required_and_missing_nobody_is_graded_and_no_score_is_shown(trial):
    done = trial["required"]
    assert done.returncode == 1
    assert "grading sandbox required but unavailable" in done.stderr and "Nobody was graded" in done.stderr
    assert "NOT GRADED" not in done.stdout and "/" not in done.stdout


# ---- 4. manual grades -------------------------------------------------------------------------------------------
def test_a_finished_manual_grade_stays_finished_when_the_class_is_graded_again(trial):
    assert trial["flag_before"] is True, "a written answer waits for its grader after autograding"
    assert trial["manual_after"] == (1.0, False)


# ---- 5. student data stays out of git -----------------------------------------------------------------------
def test_nothing_the_readme_commands_write_shows_in_git_status(trial):
    changes = [line for line in trial["status"].splitlines() if not line[3:].startswith("notebooks/")]
    assert changes == [], "student data outside the ignored .grading/ folder"
    assert not [line for line in trial["status"].splitlines() if line.startswith("??")]
    assert (trial["root"] / ".grading" / f"grades-{LESSON}.csv").is_file() and (trial["root"] / ".grading" / "downloaded").is_dir()


# ---- 6. feedback folders -------------------------------------------------------------------------------------
def test_a_feedback_folder_holds_only_the_page(trial):
    feedback = trial["root"] / ".grading" / "feedback"
    for student in (ALICE, BOB, CAROL, DAVE):
        files = sorted(p.relative_to(feedback / student / LESSON).as_posix() for p in (feedback / student / LESSON).rglob("*"))
        assert files == [f"{LESSON}.html"], f"{student}'s feedback folder holds {files}"
    autograded = trial["root"] / ".grading" / "autograded"
    assert not [p for p in autograded.rglob(".*")], "nothing of the kernel's home lands beside the graded notebook"


# ---- 7. checksum warnings -------------------------------------------------------------------------------------
def test_autograde_warns_only_about_test_cells_a_student_changed(trial):
    logs = trial["root"] / ".grading" / "reports" / LESSON
    for student in (ALICE, BOB, CAROL):
        log = (logs / f"{student}.log").read_text()
        assert "Autograding" in log, f"{student}'s log is not autograde's"
        assert "has changed" not in log, f"{student}: " + "\n".join(line for line in log.splitlines() if "has changed" in line)
    changed = [line for line in (logs / f"{DAVE}.log").read_text().splitlines() if "has changed" in line]
    exercise = next(iter(course.main_wrong_answers(LESSON)))
    assert len(changed) == 1 and f"for cell test_{exercise} has changed" in changed[0]


# ---- 8. roster and export -----------------------------------------------------------------------------------
def test_the_roster_is_made_from_the_lms_gradebook_export(trial):
    made = step(trial, "python -m grading roster")
    roster = trial["root"] / ".grading" / "roster.csv"
    assert f"wrote {roster}: {len(ROSTER)} student(s); next: nbgrader db student import .grading/roster.csv" in made.stdout
    assert "  left out: Student, Test (Canvas's test student)" in made.stdout, made.stdout
    assert "  left out: Points Possible (no ID: not a student)" in made.stdout, made.stdout
    imported = step(trial, "nbgrader db student import")
    assert f"Creating/updating Student with id '{ALICE}'" in imported.stdout + imported.stderr
    assert "1099" not in imported.stdout + imported.stderr


def test_the_export_has_the_rosters_names_and_only_the_lesson_graded(trial):
    assert step(trial, "nbgrader db student import").returncode == 0
    rows = list(csv.DictReader(io.StringIO((trial["root"] / ".grading" / f"grades-{LESSON}.csv").read_text())))
    assert {row["assignment"] for row in rows} == {LESSON}, f"{OTHER_LESSON} is released only, never graded"
    by_id = {row["student_id"]: row for row in rows}
    assert sorted(by_id) == sorted(ROSTER)
    for student, (first, last, email) in ROSTER.items():
        assert (by_id[student]["first_name"], by_id[student]["last_name"], by_id[student]["email"]) == (first, last, email)
    assert float(by_id[CAROL]["score"]) == float(by_id[ALICE]["score"]) > 0
    assert by_id[ERIN]["timestamp"] == "" and float(by_id[ERIN]["score"]) == 0


def test_a_notebook_that_cannot_be_read_is_named_with_what_to_do_and_the_others_are_kept(trial):
    collected = trial["frank_collect"]
    assert collected.returncode == 0 and f"{FRANK}: " in collected.stdout, collected.stderr
    assert re.search(rf"^  {FRANK}: {NOTEBOOK}  \(CANNOT BE READ: corrupt notebook {NOTEBOOK}: not a valid notebook",
                     collected.stdout, re.M), collected.stdout
    assert f"1 student(s) handed in a notebook that cannot be read ({FRANK}): ask them for it again now" in collected.stdout
    assert "CANNOT BE READ" not in step(trial, "python -m grading collect").stdout, "the class's own download reads well"
    assert "code score: not graded" in (trial["root"] / ".grading" / "reports" / LESSON / f"{FRANK}.txt").read_text()
    assert trial["frank_submitted"] == [ALICE, BOB, CAROL, DAVE, FRANK], "a second download replaces only its students"
    done = trial["frank_grade"]
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.search(rf"^{FRANK}\s+NOT GRADED\s", done.stdout, re.M), done.stdout
    assert "4 of 5 students were graded before with the same files: kept" in done.stderr
    kept = {student: row["seconds"] for student, row in trial["frank_summary"].items() if student != FRANK}
    assert kept == dict.fromkeys([ALICE, BOB, CAROL, DAVE], ""), f"a kept grading is not timed again: {kept}"
    assert all(float(summary(trial)[student]["seconds"]) > 0 for student in kept), "the first run timed each grading"
    assert f"1 of 5 students NOT GRADED ({FRANK})" in done.stdout and "the export shows 0" in done.stdout
    assert f"python -m grading collect {LESSON} THEIR_DOWNLOAD.zip" in done.stdout
    reports = trial["root"] / ".grading" / "reports" / LESSON
    assert f"reports (per student a .txt and nbgrader's .log; summary.csv, summary.png): {reports}" in done.stdout


def test_a_misspelt_lesson_is_named_with_the_right_one_and_no_traceback(trial):
    typo, grade, collect = trial["typo"]
    for done in (grade, collect):
        assert done.returncode == 1
        assert f"no lesson named {typo!r}: did you mean {LESSON}?" in done.stderr, done.stderr[-2000:]
        assert OTHER_LESSON in done.stderr and "Traceback" not in done.stderr and "generate_assignment" not in done.stderr


def test_the_class_command_says_that_written_answers_wait_to_be_graded_by_hand(trial):
    """bob handed in the notebook untouched: nbgrader scores his blank written answer 0 without a flag."""
    first = step(trial, f"python -m grading {LESSON}")
    assert re.search(r"^3 of 4 students have written answers to grade by hand \(3 in all\): jupyter lab, then "
                     r"Nbgrader → Formgrader → Manual Grading", first.stdout, re.M), first.stdout[-2000:]
    written = next(iter(course.graded_cells(LESSON).written))
    assert f"answers to grade by hand: 1, {written} (Formgrader, Manual Grading)" in trial["reports"][ALICE], trial["reports"][ALICE]
    assert "grade by hand" not in trial["reports"][BOB]


def test_the_class_command_and_the_logs_are_free_of_library_noise(trial):
    first = step(trial, f"python -m grading {LESSON}")
    assert "recording what the tests of" in first.stderr, "the minute the reference records take is announced"
    for noise in ("without encryption", "SAWarning", "not in session"):
        assert noise not in first.stderr + first.stdout, noise
        for name, log in trial["logs"].items():
            assert noise not in log, f"{name}: {noise}"
    assert sorted(trial["logs"]) == [f"{s}.log" for s in (ALICE, BOB, CAROL, DAVE)]


def test_a_students_report_names_the_tests_that_lost_points(trial):
    exercise = next(iter(course.main_wrong_answers(LESSON)))
    points = course.graded_cells(LESSON).tests[f"test_{exercise}"]
    assert f"points lost in: test_{exercise} (0 of {points:g})" in trial["reports"][DAVE], trial["reports"][DAVE]
    assert "points lost" not in trial["reports"][ALICE], trial["reports"][ALICE]


def test_the_class_table_and_the_feedback_page_name_the_student_beside_the_id(trial):
    first = step(trial, f"python -m grading {LESSON}")
    for student, (first_name, last_name, _) in ROSTER.items():
        if student != ERIN:  # erin submitted nothing
            assert re.search(rf"^{student}\s+{first_name} {last_name}\s+(ok|note|problems)\s", first.stdout, re.M), first.stdout
    assert re.search(r"^student\s+name\s+status\s+score\s+problems$", first.stdout, re.M), first.stdout
    page = trial["alice_page"]
    assert f"<title>Feedback: {LESSON} (Alice Archer, {ALICE})</title>" in page
    assert f'<p class="fb-who">Alice Archer ({ALICE})</p>' in page


def test_a_feedback_page_made_before_the_written_answers_are_graded_says_its_score_is_not_final(trial):
    written_points = trial["written_points"]
    first = trial["alice_page_first"]
    assert "Score so far:" in first and "Not graded yet" in first, "alice's written answer waits for a grade"
    assert f"(not final: written answers worth {written_points:g} point" in first
    assert "Score so far" not in trial["alice_page"] and "not final" not in trial["alice_page"]


def test_feedback_made_again_after_manual_grading_shows_the_grade(trial):
    assert trial["feedback_again"].returncode == 0, trial["feedback_again"].stderr[-2000:]
    page = trial["alice_page"]
    assert "Not graded yet" not in page
    assert f"1 / {trial['written_points']:g}" in page


def test_moodle_feedback_leaves_out_a_page_made_before_a_hand_grade_and_packs_it_made_again(trial):
    kept = trial["moodle_feedback_kept"]
    assert kept.returncode == 1, "a zip that leaves out a graded student's page is not ready to upload"
    assert ("1 of 4 graded students' pages left out of the zip (1 with a page that shows an earlier grading than the "
            f"gradebook's), which holds the other 3. Hint: run nbgrader generate_feedback {LESSON} --force") in kept.stderr, \
        kept.stderr[-2000:]
    written = next(iter(course.graded_cells(LESSON).written))
    assert re.search(rf"^  left out: {ALICE} Alice Archer \(its page shows an earlier grading: [0-9.]+ points on the page, [0-9.]+ in "
                     rf"the gradebook, {written} graded by hand since: run nbgrader generate_feedback {LESSON} --force\)$",
                     kept.stdout, re.M), kept.stdout
    assert "3 page(s)" in kept.stdout and f"left out: {ERIN} Erin Evans (not graded by the course)" in kept.stdout, kept.stdout
    for student in (BOB, CAROL, DAVE):  # their written answers still wait, as their pages say
        assert f"left out: {student}" not in kept.stdout, kept.stdout
    again = trial["moodle_feedback_again"]
    assert again.returncode == 0 and again.stderr == "", "erin, who submitted nothing, has no page to miss"
    assert "4 page(s)" in again.stdout and f"left out: {ALICE}" not in again.stdout, again.stdout
    page = trial["moodle_pages"].get(ALICE)
    assert page == trial["alice_page"] and "Not graded yet" not in page, "the page packed is the one made after the grade"


# ---- grades into the LMS ------------------------------------------------------------------------------------------
def test_the_lms_gradebook_is_filled_with_totals_and_blank_where_a_written_answer_waits(trial):
    first = step(trial, "python -m grading lms-grades")
    column = f"Lesson: {LESSON} (401)"
    written = f"written answers to grade by hand: {next(iter(course.graded_cells(LESSON).written))}"
    written_to = trial["root"] / ".grading" / "lms" / f"{LESSON}-gradebook.csv"
    assert f"wrote {written_to}: column {column!r}, 1 grade(s) filled in" in first.stdout, first.stdout
    for student in (ALICE, CAROL, DAVE):
        assert f"  left blank: {student} {' '.join(ROSTER[student][:2])} ({written})" in first.stdout, first.stdout
    assert f"  left blank: {ERIN} Erin Evans (not graded by the course)" in first.stdout
    done = trial["lms_again"]
    assert done.returncode == 0, done.stderr
    assert "2 grade(s) filled in" in done.stdout and f"left blank: {ALICE}" not in done.stdout
    rows = trial["lms_rows"]
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
    assert rows[0]["Student"].strip() == "Points Possible"
    got = {r["ID"]: r[column] for r in rows[1:]}
    full = float(summary(trial)[ALICE]["max_code_score"])
    assert got == {ALICE: f"{full + 1.0:g}", BOB: "0", CAROL: "", DAVE: "", ERIN: "", "1099": ""}, "the test student: kept blank"
    assert "1099" not in first.stdout + done.stdout, "Canvas's test student is no one to name"
    assert rows[1]["Student"] == "Archer, Alice"

