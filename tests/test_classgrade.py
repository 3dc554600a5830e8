"""grading.classgrade: the checks made around ``nbgrader autograde`` when a whole class is graded.

Without running nbgrader: a student's submitted files are checked by name and content (missing, corrupt,
extra, wrongly named notebooks); the markers the hardened Execute step writes into autograded notebooks
become the report's problems; reports, ``summary.csv`` and the summary table are written from
:class:`StudentReport` objects; the command line's exit code says whether everyone was graded.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grading import classgrade
from grading.classgrade import PROBLEMS, StudentReport, check_files, problems_in_graded, summary_table, write_reports

LESSON = "01_gradient_descent"
NOTEBOOK = f"{LESSON}.ipynb"


def notebook(cells: list[dict] | None = None) -> str:
    return json.dumps({"cells": cells or [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code_cell(*outputs: dict) -> dict:
    return {"cell_type": "code", "source": "", "metadata": {}, "execution_count": 1, "outputs": list(outputs)}


def error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def stream(text: str | list[str]) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "submitted" / "alice" / LESSON
    path.mkdir(parents=True)
    return path


# ---- check_files ----------------------------------------------------------------------------------------
def test_a_complete_submission_has_no_file_problems(folder):
    (folder / NOTEBOOK).write_text(notebook())
    (folder / "notes.txt").write_text("not a notebook, not a problem")
    assert check_files(folder, LESSON, [NOTEBOOK]) == []


def test_a_missing_notebook_is_reported(folder):
    assert check_files(folder, LESSON, [NOTEBOOK]) == [f"missing notebook {NOTEBOOK}"]


def test_a_missing_folder_reports_every_notebook_missing(tmp_path):
    assert check_files(tmp_path / "nobody", LESSON, ["a.ipynb", "b.ipynb"]) == ["missing notebook a.ipynb", "missing notebook b.ipynb"]


def test_a_wrongly_named_notebook_is_reported_as_missing_with_what_was_found_and_as_extra(folder):
    (folder / f"{LESSON} (1).ipynb").write_text(notebook())
    assert check_files(folder, LESSON, [NOTEBOOK]) == [
        f"missing notebook {NOTEBOOK} (found {LESSON} (1).ipynb)",
        f"extra notebook {LESSON} (1).ipynb (not graded)",
    ]


def test_an_extra_notebook_is_reported_as_not_graded(folder):
    (folder / NOTEBOOK).write_text(notebook())
    (folder / "scratch.ipynb").write_text(notebook())
    assert check_files(folder, LESSON, [NOTEBOOK]) == ["extra notebook scratch.ipynb (not graded)"]


@pytest.mark.parametrize("content", [b"", b"  \n"], ids=["0 bytes", "spaces"])
def test_an_empty_notebook_is_reported_as_empty(folder, content):
    (folder / NOTEBOOK).write_bytes(content)
    assert check_files(folder, LESSON, [NOTEBOOK]) == [
        f"empty notebook {NOTEBOOK}: the file holds nothing (0 bytes or only spaces): ask for it again"]


@pytest.mark.parametrize(("content", "detail"), [
    (b'{"cells": [', "Expecting"),
    (b"[1, 2, 3]", "no cells"),
    (b'{"metadata": {}}', "no cells"),
    (b"\xff\xfe not utf-8", "codec can't decode"),
], ids=["truncated", "a list", "no cells", "not utf-8"])
def test_a_corrupt_notebook_is_reported_with_the_reason(folder, content, detail):
    (folder / NOTEBOOK).write_bytes(content)
    problems = check_files(folder, LESSON, [NOTEBOOK])
    assert len(problems) == 1
    assert problems[0].startswith(f"corrupt notebook {NOTEBOOK}: not a valid notebook (") and detail in problems[0]


def test_the_reason_for_a_corrupt_notebook_is_kept_short(folder):
    (folder / NOTEBOOK).write_text("{" + "x" * 5000)
    (problem,) = check_files(folder, LESSON, [NOTEBOOK])
    assert len(problem) < len(f"corrupt notebook {NOTEBOOK}: not a valid notebook ()") + 81


def test_problems_of_several_notebooks_are_all_reported(folder):
    (folder / "a.ipynb").write_text("not json")
    (folder / "c.ipynb").write_text(notebook())
    problems = check_files(folder, LESSON, ["a.ipynb", "b.ipynb"])
    assert [p.split(" (")[0].split(":")[0] for p in problems] == ["corrupt notebook a.ipynb", "missing notebook b.ipynb",
                                                                   "extra notebook c.ipynb"]


def test_a_folder_named_like_the_notebook_is_reported_not_raised(folder):
    (folder / NOTEBOOK).mkdir()
    problems = check_files(folder, LESSON, [NOTEBOOK])
    assert len(problems) == 1 and NOTEBOOK in problems[0]


# ---- problems recorded in autograded notebooks -----------------------------------------------------------
MARKED = {
    "rejected data": (stream("[the grader rejected data sent by this cell: unknown tag '$set']\n"),
                      PROBLEMS["the grader rejected data"], ""),
    "kernel restarted": (error("KernelRestarted", "the kernel died while running this cell; the grader started a new kernel"),
                         PROBLEMS["KernelRestarted"], "the kernel died while running this cell; the grader started a new kernel"),
    "cell timeout": (error("CellTimeoutError", "A cell timed out while it was being executed, after 60 seconds."),
                     PROBLEMS["CellTimeoutError"], "A cell timed out while it was being executed, after 60 seconds."),
    "output flood": (stream(["\n[the grader dropped this ", "cell's output after 2000000 bytes]\n"]),
                     PROBLEMS["dropped this cell's output"], ""),
}


@pytest.mark.parametrize(("output", "meaning", "detail"), MARKED.values(), ids=MARKED.keys())
def test_each_marker_in_an_autograded_notebook_becomes_a_problem(tmp_path, output, meaning, detail):
    (tmp_path / NOTEBOOK).write_text(notebook([code_cell(), code_cell(stream("fine\n"), output)]))
    expected = f"{NOTEBOOK} cell 1: {meaning}" + (f" ({detail})" if detail else "")
    assert problems_in_graded(tmp_path) == [expected]


def test_a_notebook_without_markers_has_no_problems(tmp_path):
    cells = [code_cell(stream("predict: all 4 checks passed (2 of them hidden)\n")),
             code_cell(error("CheckFailed", "f(1): expected 3.0, got 2.0")), {"cell_type": "markdown", "source": "", "metadata": {}}]
    (tmp_path / NOTEBOOK).write_text(notebook(cells))
    assert problems_in_graded(tmp_path) == []


def test_problems_are_listed_by_notebook_then_cell(tmp_path):
    (tmp_path / "b.ipynb").write_text(notebook([code_cell(error("KernelRestarted", "died"))]))
    (tmp_path / "a.ipynb").write_text(notebook([code_cell(), code_cell(), code_cell(error("CellTimeoutError", "slow"),
                                                                                    stream("[the grader rejected data: x]"))]))
    assert problems_in_graded(tmp_path) == [
        f"a.ipynb cell 2: {PROBLEMS['CellTimeoutError']} (slow)",
        f"a.ipynb cell 2: {PROBLEMS['the grader rejected data']}",
        f"b.ipynb cell 0: {PROBLEMS['KernelRestarted']} (died)",
    ]


def test_a_long_error_value_is_cut_in_the_problem(tmp_path):
    (tmp_path / NOTEBOOK).write_text(notebook([code_cell(error("KernelRestarted", "x" * 1000))]))
    (problem,) = problems_in_graded(tmp_path)
    assert problem.endswith("(" + "x" * 200 + ")")


def test_unreadable_autograded_notebooks_and_missing_folders_give_no_problems(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{")
    assert problems_in_graded(tmp_path) == []
    assert problems_in_graded(tmp_path / "not-graded") == []


# ---- reports ----------------------------------------------------------------------------------------------
REPORTS = [
    StudentReport("alice", graded=True, score=7.0, max_score=10.0, seconds=12.34),
    StudentReport("bob", files=["missing notebook 01.ipynb"], problems=["grading failed: exit code 1"], seconds=0.04),
    StudentReport("carol", problems=[f"01.ipynb cell 3: {PROBLEMS['KernelRestarted']}"], graded=True, score=2.5, max_score=10.0),
]


@pytest.mark.parametrize(("report", "status"), [
    (StudentReport("a", graded=True), "ok"),
    (StudentReport("a", graded=True, files=["extra notebook x.ipynb (not graded)"]), "note"),
    (StudentReport("a", graded=True, files=["renamed notebook 01-Copy1.ipynb graded as 01.ipynb"]), "note"),
    (StudentReport("a", graded=True, files=["renamed notebook 01-Copy1.ipynb graded as 01.ipynb"], problems=["a problem"]),
     "problems"),
    (StudentReport("a", graded=True, files=["corrupt notebook 01.ipynb: not a valid notebook"]), "problems"),
    (StudentReport("a", graded=True, problems=["a problem"]), "problems"),
    (StudentReport("a"), "NOT GRADED"),
    (StudentReport("a", problems=["grading failed"]), "NOT GRADED"),
    (StudentReport("a", absent=True, files=["nothing submitted for 01"]), "no submission"),
], ids=["ok", "an extra notebook", "a renamed notebook", "a renamed notebook and a problem", "file problem",
        "grading problem", "not graded", "failed", "nothing submitted"])
def test_a_reports_status(report, status):
    assert report.status == status


def test_write_reports_writes_one_text_file_per_student(tmp_path):
    folder = write_reports(tmp_path / "reports" / LESSON, REPORTS)
    assert folder == tmp_path / "reports" / LESSON
    assert sorted(p.name for p in folder.iterdir()) == ["alice.txt", "bob.txt", "carol.txt", "summary.csv"]
    assert (folder / "alice.txt").read_text() == "student: alice\nstatus: ok\ncode score: 7 / 10\n"
    assert (folder / "bob.txt").read_text() == ("student: bob\nstatus: NOT GRADED\ncode score: not graded\n"
                                                "file problem: missing notebook 01.ipynb\ngrading problem: grading failed: exit code 1\n")


def test_a_renamed_notebook_graded_as_the_students_is_a_note_in_the_report_not_a_problem(tmp_path):
    report = StudentReport("dan", graded=True, score=7, max_score=10,
                           files=["renamed notebook 01-Copy1.ipynb graded as 01.ipynb", "corrupt notebook x.ipynb: cut short"])
    folder = write_reports(tmp_path, [report])
    assert (folder / "dan.txt").read_text() == ("student: dan\nstatus: problems\ncode score: 7 / 10\n"
                                                "note: renamed notebook 01-Copy1.ipynb graded as 01.ipynb\n"
                                                "file problem: corrupt notebook x.ipynb: cut short\n")


def test_a_student_who_handed_in_nothing_is_named_in_the_report_without_a_file_problem(tmp_path):
    report = StudentReport("3000004", absent=True, files=["nothing submitted for 06 (no folder)"], name="Émile Borel")
    folder = write_reports(tmp_path, [report])
    assert (folder / "3000004.txt").read_text() == ("student: 3000004 Émile Borel\nstatus: no submission\n"
                                                    "code score: not graded\nno submission: nothing submitted for 06 (no folder)\n")


def test_write_reports_writes_a_summary_table(tmp_path):
    folder = write_reports(tmp_path, REPORTS)
    with (folder / "summary.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["student", "status", "code_score", "max_code_score", "seconds", "problems"],
        ["alice", "ok", "7.0", "10.0", "12.3", ""],
        ["bob", "NOT GRADED", "", "", "0.0", "missing notebook 01.ipynb | grading failed: exit code 1"],
        ["carol", "problems", "2.5", "10.0", "0.0", f"01.ipynb cell 3: {PROBLEMS['KernelRestarted']}"],
    ]


def test_a_kept_grading_and_answers_to_grade_by_hand_are_in_the_reports(tmp_path):
    kept = StudentReport("alice", graded=True, score=7.0, max_score=10.0, kept=True, by_hand=["explain_the_step"],
                         lost=["test_step (0 of 3)"])
    fresh = StudentReport("bob", graded=True, score=5.0, max_score=10.0, seconds=40.04)
    folder = write_reports(tmp_path, [kept, fresh])
    assert (folder / "alice.txt").read_text() == ("student: alice\nstatus: ok\ncode score: 7 / 10\n"
                                                  "points lost in: test_step (0 of 3) (the feedback page says what each "
                                                  "test expected)\n"
                                                  "answers to grade by hand: 1, explain_the_step (Formgrader, Manual Grading)\n"
                                                  "graded by an earlier run with the same files: kept\n")
    with (folder / "summary.csv").open(newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["alice"]["seconds"] == "" and rows["bob"]["seconds"] == "40.0", "a kept grading was not timed by this run"


def test_main_says_how_many_answers_wait_to_be_graded_by_hand(monkeypatch, capsys):
    reports = [StudentReport("alice", graded=True, score=7.0, max_score=10.0, by_hand=["explain_the_step"]),
               StudentReport("bob", graded=True, score=5.0, max_score=10.0)]
    monkeypatch.setattr(classgrade, "grade_class", lambda *args, **kwargs: reports)
    monkeypatch.setattr("grading.similarity.class_report", lambda *args: None)
    assert classgrade.main([LESSON]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 students have written answers to grade by hand (1 in all): jupyter lab, then Nbgrader → Formgrader → " \
           "Manual Grading" in out
    monkeypatch.setattr(classgrade, "grade_class", lambda *args, **kwargs: reports[1:])
    classgrade.main([LESSON])
    assert "grade by hand" not in capsys.readouterr().out


def test_write_reports_replaces_earlier_reports(tmp_path):
    write_reports(tmp_path, [StudentReport("alice", problems=["old"])])
    write_reports(tmp_path, [StudentReport("alice", graded=True, score=1.0, max_score=1.0)])
    assert "old" not in (tmp_path / "alice.txt").read_text() and "old" not in (tmp_path / "summary.csv").read_text()


def test_the_summary_table_names_each_student_beside_the_id_when_the_gradebook_has_names():
    named = [StudentReport("1000001", graded=True, score=7.0, max_score=10.0, name="Ada Lovelace"),
             StudentReport("1000002", name="Jean-Baptiste Alphonse Karr Dupont")]
    lines = summary_table(named).splitlines()
    assert lines[0].split() == ["student", "name", "status", "score", "problems"]
    assert lines[1].split() == ["1000001", "Ada", "Lovelace", "ok", "7/10"]
    assert lines[2].split()[:5] == ["1000002", "Jean-Baptiste", "Alphonse", "Karr…", "NOT"], "a long name is cut"
    assert len({line.index("ok") if "ok" in line else line.index("NOT") for line in lines[1:]}) == 1, "columns align"


def test_the_summary_table_has_a_row_per_student(tmp_path):
    lines = summary_table(REPORTS).splitlines()
    assert lines[0].split() == ["student", "status", "score", "problems"]
    assert lines[1].split() == ["alice", "ok", "7/10"]
    assert lines[2].split()[:4] == ["bob", "NOT", "GRADED", "-"]
    assert lines[2].endswith("missing notebook 01.ipynb; grading failed: exit code 1")
    assert lines[3].split()[:3] == ["carol", "problems", "2.5/10"]


def test_the_summary_table_cuts_long_problem_lists():
    line = summary_table([StudentReport("dave", problems=["p" * 500])]).splitlines()[1]
    assert line.endswith("p" * 159 + "…") and "p" * 160 not in line, "a cut list ends with an ellipsis"
    assert summary_table([StudentReport("dave", problems=["p" * 160])]).splitlines()[1].endswith(" " + "p" * 160)


# ---- the command line -------------------------------------------------------------------------------------
ABSENT = StudentReport("frank", absent=True, files=["nothing submitted for 01 (no 01 folder in /x/collected/frank)"])


@pytest.mark.parametrize(("reports", "code"), [([REPORTS[0], REPORTS[2]], 0), (REPORTS, 1), ([REPORTS[0], ABSENT], 0)],
                         ids=["all graded", "one not graded", "one submitted nothing"])
def test_main_prints_the_table_and_exits_non_zero_unless_everyone_was_graded(monkeypatch, capsys, reports, code):
    calls = []

    def fake_grade_class(lesson, submissions, jobs, course, extra_args, dask, scheduler, regrade):
        calls.append((lesson, submissions, jobs, course, extra_args, dask, scheduler, regrade))
        return reports

    monkeypatch.setattr(classgrade, "grade_class", fake_grade_class)
    assert classgrade.main([LESSON, "-j", "3", "--submissions", "/x/collected", "--ExecutePreprocessor.timeout=5"]) == code
    assert calls == [(LESSON, Path("/x/collected"), 3, None, ["--ExecutePreprocessor.timeout=5"], True, None, False)]
    out = capsys.readouterr().out
    assert out.startswith(summary_table(reports) + "\nreports (per student a .txt and nbgrader's .log; summary.csv, summary.png): ")
    ungraded = [r.student for r in reports if not r.graded and not r.absent]
    assert (f"{len(ungraded)} of {len(reports)} students NOT GRADED ({', '.join(ungraded)})" in out) == bool(ungraded)
    absent = [r.student for r in reports if r.absent]
    assert (f"{len(absent)} of {len(reports)} students submitted nothing for {LESSON} ({', '.join(absent)}): nothing is "
            "recorded for them and the export shows 0" in out) == bool(absent)
    calls.clear()
    classgrade.main([LESSON, "--scheduler", "tcp://10.0.0.1:8786", "--regrade"])
    classgrade.main([LESSON, "--without-dask"])
    assert calls == [(LESSON, None, None, None, [], True, "tcp://10.0.0.1:8786", True),
                     (LESSON, None, None, None, [], False, None, False)]


def test_grade_class_needs_the_course_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no nbgrader_config.py in"):
        classgrade.grade_class(LESSON, course=tmp_path, progress=False, dask=False)


# ---- grade_class around a stand-in for `nbgrader autograde` ---------------------------------------------
@pytest.fixture
def course(tmp_path) -> Path:
    """A course folder laid out as the course's nbgrader_config.py lays it out, with a released lesson."""
    root = tmp_path / "course"
    (root / "notebooks" / LESSON).mkdir(parents=True)
    (root / "notebooks" / LESSON / NOTEBOOK).write_text(notebook())
    (root / ".grading").mkdir()
    (root / "nbgrader_config.py").write_text(
        "import os\n"
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.release_directory = 'notebooks'\n"
        "c.CourseDirectory.submitted_directory = os.path.join('.grading', 'submitted')\n"
        "c.CourseDirectory.autograded_directory = os.path.join('.grading', 'autograded')\n"
        f"c.CourseDirectory.db_url = 'sqlite:///' + {str(root / '.grading' / 'gradebook.db')!r}\n"
    )
    return root


@pytest.fixture
def collected(tmp_path) -> Path:
    """An external collection: alice complete, bob without the lesson, carol with a corrupt notebook and an extra one,
    dave complete (his grading fails), erin with the notebook under a near name only."""
    root = tmp_path / "collected"
    (root / "alice" / LESSON).mkdir(parents=True)
    (root / "alice" / LESSON / NOTEBOOK).write_text(notebook())
    (root / "bob" / "other_lesson").mkdir(parents=True)
    (root / "carol" / LESSON).mkdir(parents=True)
    (root / "carol" / LESSON / NOTEBOOK).write_text("{")
    (root / "carol" / LESSON / "copy.ipynb").write_text(notebook())
    (root / "dave" / LESSON).mkdir(parents=True)
    (root / "dave" / LESSON / NOTEBOOK).write_text(notebook())
    (root / "erin" / LESSON).mkdir(parents=True)
    (root / "erin" / LESSON / f"{LESSON}-Copy1.ipynb").write_text(notebook([code_cell()]))
    (root / "not-a-student.txt").write_text("ignored")
    return root


@pytest.fixture
def autograde(course, monkeypatch) -> list:
    """Stand in for `nbgrader autograde`: alice's run leaves a notebook with a crash marker, dave's run fails, erin's
    runs without a sandbox."""
    commands = []
    real_run = subprocess.run

    def fake_run(command, *args, **kwargs):
        if list(command[1:4]) != ["-m", "grading.run_nbgrader", "autograde"]:
            return real_run(command, *args, **kwargs)  # subprocess.run is shared: leave other callers alone
        student = command[command.index("--student") + 1]
        commands.append((list(command[1:]), Path(kwargs["cwd"]), kwargs["env"]["PATH"]))
        if student == "dave":
            return subprocess.CompletedProcess(command, 1, "", "[AutogradeApp | ERROR] cannot read the notebook\nTraceback\n")
        graded = course / ".grading" / "autograded" / student / LESSON
        graded.mkdir(parents=True)
        graded.joinpath(NOTEBOOK).write_text(notebook([code_cell(error("KernelRestarted", "died"))]))
        return subprocess.CompletedProcess(command, 0, "", f"!! {classgrade.UNSANDBOXED}: no bwrap\n" if student == "erin" else "")

    monkeypatch.setattr(classgrade.subprocess, "run", fake_run)
    return commands


def test_grade_class_checks_files_grades_each_student_and_reports(course, collected, autograde, monkeypatch):
    # nbgrader's gradebook runs `alembic`, which lives beside this Python (as when the environment is activated)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    # an earlier run's scores are in the gradebook: never shown beside NOT GRADED
    monkeypatch.setattr(classgrade, "recorded", lambda db_url, lesson: {
        s: classgrade.Recorded(1.0, 2.0, waiting=[], finished={}) for s in ["alice", "bob", "carol", "dave", "erin"]})
    reports = classgrade.grade_class(LESSON, submissions=collected, jobs=2, course=course, extra_args=["--x"], progress=False, dask=False)

    assert [r.student for r in reports] == ["alice", "bob", "carol", "dave", "erin"]
    alice, bob, carol, dave, erin = reports
    assert (alice.graded, alice.files, alice.problems) == (True, [], [f"{NOTEBOOK} cell 0: {PROBLEMS['KernelRestarted']} (died)"])
    assert (alice.status, alice.score, alice.max_score) == ("problems", 1.0, 2.0)
    # bob handed in another lesson only: nothing submitted for this one, which is no problem of the class's files
    assert (bob.graded, bob.absent, bob.status) == (False, True, "no submission")
    assert bob.files == [f"nothing submitted for {LESSON} (no {LESSON} folder in {collected / 'bob'})"]
    assert not carol.graded and carol.problems == ["nothing to grade: no readable notebook under the lesson's name; nothing recorded"]
    assert carol.files[0].startswith(f"corrupt notebook {NOTEBOOK}") and carol.files[1] == "extra notebook copy.ipynb (not graded)"
    assert not dave.graded and dave.problems == ["grading failed: [AutogradeApp | ERROR] cannot read the notebook"]
    for report in (carol, dave):
        assert (report.status, report.score, report.max_score) == ("NOT GRADED", None, None), report.student
    assert (bob.score, bob.max_score) == (None, None)
    assert erin.graded and erin.unsandboxed and erin.status == "UNSANDBOXED"
    assert erin.files == [f"renamed notebook {LESSON}-Copy1.ipynb graded as {NOTEBOOK}"]
    assert (course / ".grading" / "submitted" / "erin" / LESSON / NOTEBOOK).read_text() == notebook([code_cell()])
    assert not (collected / "erin" / LESSON / NOTEBOOK).exists(), "the external collection is left as it was"
    assert sorted(c[0][c[0].index("--student") + 1] for c in autograde) == ["alice", "dave", "erin"]
    assert all(c[0][:4] == ["-m", "grading.run_nbgrader", "autograde", LESSON] and c[0][-2:] == ["--force", "--x"] for c in autograde)
    assert all(c[1] == course and c[2].startswith(str(Path(sys.executable).parent)) for c in autograde)
    assert (course / ".grading" / "submitted" / "alice" / LESSON / NOTEBOOK).exists(), "the collection is copied into the course"
    assert sorted(p.name for p in (course / ".grading" / "reports" / LESSON).iterdir() if p.suffix in (".txt", ".log", ".csv")) == [
        "alice.log", "alice.txt", "bob.txt", "carol.txt", "dave.log", "dave.txt", "erin.log", "erin.txt", "summary.csv"]
    assert "cannot read the notebook" in (course / ".grading" / "reports" / LESSON / "dave.log").read_text()


def test_grade_class_needs_a_released_lesson(course, collected):
    with pytest.raises(FileNotFoundError, match=r"^no lesson named 'other'\. The lessons \(folders of .*\): none$"):
        classgrade.grade_class("other", submissions=collected, course=course, progress=False, dask=False)
    (course / "source" / "02_other").mkdir(parents=True)   # a lesson written, not released
    (course / "source" / "02_other" / "02_other.ipynb").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"^no lesson named '02_othr': did you mean 02_other\? The lessons .*: 02_other$"):
        classgrade.grade_class("02_othr", submissions=collected, course=course, progress=False, dask=False)
    with pytest.raises(FileNotFoundError, match=r"holds no notebooks: release the lesson first with "
                                                r"`nbgrader generate_assignment 02_other --force`"):
        classgrade.grade_class("02_other", submissions=collected, course=course, progress=False, dask=False)


def test_grade_class_needs_the_submissions_folder(course, tmp_path):
    with pytest.raises(FileNotFoundError, match="no submissions folder"):
        classgrade.grade_class(LESSON, submissions=tmp_path / "nowhere", course=course, progress=False, dask=False)


def test_grade_class_reads_scores_without_the_environment_on_path(course, collected, autograde, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    reports = classgrade.grade_class(LESSON, submissions=collected, jobs=2, course=course, progress=False, dask=False)
    assert [r.student for r in reports] == ["alice", "bob", "carol", "dave", "erin"]


# ---- near names, what can be graded, the sandbox and the exit status ---------------------------------------------
@pytest.mark.parametrize(("name", "near"), [
    (f"{LESSON}-Copy1.ipynb", True), (f"{LESSON} (1).ipynb", True), (f"Copy of {LESSON}.ipynb", True), (f"{LESSON}-2.ipynb", True),
    (f"{LESSON.upper()}.ipynb", True), (NOTEBOOK, False), ("scratch.ipynb", False), (f"{LESSON}.py", False),
    ("02_polynomial_regression.ipynb", False),
])
def test_a_near_name_holds_the_lessons_name(name, near):
    assert classgrade.near_name(name, NOTEBOOK) is near


def test_the_only_notebook_under_a_near_name_is_adopted(folder):
    (folder / f"{LESSON}-Copy1.ipynb").write_text(notebook([code_cell()]))
    assert classgrade.adopt_renamed(folder, [NOTEBOOK]) == [f"{LESSON}-Copy1.ipynb"]
    assert (folder / NOTEBOOK).read_text() == notebook([code_cell()])
    assert check_files(folder, LESSON, [NOTEBOOK]) == [f"renamed notebook {LESSON}-Copy1.ipynb graded as {NOTEBOOK}"]
    assert classgrade.adopt_renamed(folder, [NOTEBOOK]) == [], "adopted once"


def test_two_near_names_or_a_notebook_under_its_name_adopt_nothing(folder):
    (folder / f"{LESSON}-Copy1.ipynb").write_text(notebook())
    (folder / f"{LESSON}-Copy2.ipynb").write_text(notebook())
    assert classgrade.adopt_renamed(folder, [NOTEBOOK]) == [] and not (folder / NOTEBOOK).exists()
    assert not classgrade.gradable(folder, [NOTEBOOK])
    (folder / NOTEBOOK).write_text(notebook([code_cell()]))
    assert classgrade.adopt_renamed(folder, [NOTEBOOK]) == []
    found = check_files(folder, LESSON, [NOTEBOOK])
    assert [p.split(",")[0] for p in found] == [f"another version of {NOTEBOOK}: {LESSON}-Copy1.ipynb",
                                                f"another version of {NOTEBOOK}: {LESSON}-Copy2.ipynb"]
    assert all(f"{NOTEBOOK} was graded: if " in p and f"delete {folder / NOTEBOOK}" in p for p in found)


def test_only_a_readable_notebook_under_the_lessons_name_can_be_graded(folder):
    assert not classgrade.gradable(folder, [NOTEBOOK])
    (folder / NOTEBOOK).write_text("{")
    assert not classgrade.gradable(folder, [NOTEBOOK])
    (folder / NOTEBOOK).write_text(notebook())
    assert classgrade.gradable(folder, [NOTEBOOK])


def test_the_written_answers_are_read_from_the_autograded_notebook(tmp_path):
    written = {"cell_type": "markdown", "source": ["my ", "answer"], "metadata": {"nbgrader": {"grade": True, "solution": True,
                                                                                             "grade_id": "written"}}}
    test = {**code_cell(), "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_x"}}}
    (tmp_path / NOTEBOOK).write_text(notebook([written, test]))
    assert classgrade.manual_answers(tmp_path) == {(LESSON, "written"): "my answer"}


@pytest.mark.parametrize(("reports", "code"), [
    ([StudentReport("a", graded=True)], 0),
    ([StudentReport("a", graded=True, unsandboxed=True)], 3),
    ([StudentReport("a", graded=True, unsandboxed=True), StudentReport("b")], 1),
], ids=["sandboxed", "unsandboxed", "unsandboxed and not graded"])
def test_main_says_loudly_when_grading_ran_without_a_sandbox(monkeypatch, capsys, reports, code):
    monkeypatch.setattr(classgrade, "grade_class", lambda *args, **kwargs: reports)
    assert classgrade.main([LESSON]) == code
    out = capsys.readouterr().out
    assert ("graded WITHOUT A SANDBOX" in out) is any(r.unsandboxed for r in reports)


def test_main_grades_nobody_when_the_sandbox_is_required_and_missing(course, collected, autograde, monkeypatch, capsys, tmp_path):
    with (course / "nbgrader_config.py").open("a") as f:
        f.write("c.SandboxedExecute.sandbox = 'require'\n")
    import grading.sandbox as sb

    monkeypatch.setattr(sb, "sandbox_status", lambda bwrap=None: sb.SandboxStatus(False, "bubblewrap is not installed"))
    assert classgrade.main([LESSON, "--course", str(course), "--submissions", str(collected)]) == 1
    captured = capsys.readouterr()
    assert "grading sandbox required but unavailable: bubblewrap is not installed. Nobody was graded." in captured.err
    assert captured.out == "" and autograde == []


def test_the_help_names_every_command_of_the_grader():
    done = subprocess.run([sys.executable, "-m", "grading", "--help"], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    for command in ("collect LESSON DOWNLOAD.zip", "roster EXPORT.csv", "lms-grades LESSON EXPORT.csv"):
        assert f"python -m grading {command}" in done.stdout, done.stdout


def test_an_error_in_a_cell_neither_answer_nor_test_is_a_note_that_names_it(folder):
    graded = lambda flag: {**code_cell(error("AssertionError", "a test failed")), "metadata": {"nbgrader": {flag: True}}}
    (folder / NOTEBOOK).write_text(notebook([
        graded("grade"),  # a test that failed: its points say so
        graded("solution"),  # an answer that raised: its test fails
        code_cell(error("CellTimeoutError", "timed out")),  # a problem, reported as such
        code_cell(error("NotImplementedError", "")),  # an exercise not written: its test says so
        code_cell(error("KeyError", "'sigma'")),  # a cell of the student's own left raising
    ]))
    notes = classgrade.errors_in_ungraded_cells(folder)
    assert notes == [f"an error in cell 5 of {NOTEBOOK} (counting from 1), which is not graded (no points lost; the feedback "
                     "page shows it): KeyError: 'sigma'"]
    assert StudentReport("a", graded=True, files=notes).status == "note"
    (folder / NOTEBOOK).write_text(notebook([code_cell(error("NameError", f"name 'x{i}' is not defined")) for i in range(5)]))
    assert len(classgrade.errors_in_ungraded_cells(folder)) == 4, "three named, then how many more"
    assert classgrade.errors_in_ungraded_cells(folder)[-1] == "an error in cells not graded, 2 more (the feedback page shows them)"
    (folder / NOTEBOOK).write_text(notebook([{**code_cell(error("KeyError", "'mu'")), "source": "print(stats['mu'])\nx = 1"}]))
    assert classgrade.errors_in_ungraded_cells(folder) == [
        f"an error in cell 1 of {NOTEBOOK} (counting from 1, the one starting \"print(stats['mu'])\"), which is not graded "
        "(no points lost; the feedback page shows it): KeyError: 'mu'"]


def test_the_summary_table_shows_what_the_status_says_before_the_notes():
    report = StudentReport("grace", graded=True, score=0, max_score=9, problems=["no answer written (every exercise as released)"],
                           files=["an error in cell 7 of 04.ipynb (counting from 1), which is not graded: TypeError: x"])
    row = summary_table([report]).splitlines()[1]
    assert row.index("no answer written") < row.index("an error in cell 7"), row
