"""grading.collect and the course's FileNameCollectorPlugin.named_regexp: who a downloaded file belongs to."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest

from grading.collect import CollectError
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
    (f"Carol Smith_42_assignsubmission_file/{NOTEBOOK}", "42", False),
    (f"Carol Smith_42_assignsubmission_file_{NOTEBOOK}", "42", False),
    (f"Carol Smith_42_assignsubmission_file/week 1/{NOTEBOOK}", "42", False),
    (f"Participant_1000007_assignsubmission_file/{NOTEBOOK}", "1000007", False),
], ids=["canvas", "late before the name", "LATE after the name (Canvas)", "late in lower case", "a name starting with late",
        "moodle, a name starting with Late", "moodle 3.1 to 4.0", "moodle 4.1 and later", "moodle without folders",
        "moodle, a folder of the student's own", "moodle, blind marking"])
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


# ---- collect on a course: Moodle's layouts, and participant ids through the roster's aliases ----------------------
LESSON = NOTEBOOK.removesuffix(".ipynb")
WORKSHEET_HEADER = "Identifier,Full name,Email address,Status,Grade,Maximum grade\n"


@pytest.fixture
def moodle_course(tmp_path) -> Path:
    """A course whose lesson is released (an empty notebook), with no roster yet."""
    import nbformat

    course = tmp_path / "course"
    (course / "notebooks" / LESSON).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((Path(__file__).parents[1] / "nbgrader_config.py").read_text())
    nbformat.write(nbformat.v4.new_notebook(), course / "notebooks" / LESSON / NOTEBOOK)
    return course


def download(path: Path, names: list[str]) -> Path:
    import nbformat

    with zipfile.ZipFile(path, "w") as z:
        for name in names:
            z.writestr(name, nbformat.writes(nbformat.v4.new_notebook()) if name.endswith(".ipynb") else "<p>text</p>")
    return path


def submitted(course: Path) -> list[str]:
    folder = course / ".grading" / "submitted"
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.ipynb")) if folder.is_dir() else []


def test_each_moodle_download_layout_is_collected_by_participant_id(moodle_course, tmp_path):
    from grading.collect import collect

    zipped = download(tmp_path / "moodle.zip", [
        f"Ada Lovelace_1000001_assignsubmission_file/{NOTEBOOK}",    # Moodle 4.1 and later
        f"Alan Turing_1000002_assignsubmission_file_/{NOTEBOOK}",    # Moodle 3.1 to 4.0
        f"Grace Hopper_1000003_assignsubmission_file_{NOTEBOOK}",    # "Download submissions in folders" off
        "Grace Hopper_1000003_assignsubmission_onlinetext_onlinetext.html",
    ])
    collected = collect(LESSON, [zipped], moodle_course)
    assert sorted(collected.students) == ["1000001", "1000002", "1000003"]
    assert submitted(moodle_course) == [f"{student}/{LESSON}/{NOTEBOOK}" for student in ("1000001", "1000002", "1000003")]
    assert collected.not_notebooks == ["moodle/Grace Hopper_1000003_assignsubmission_onlinetext_onlinetext.html"]
    assert collected.unmatched == [] and collected.renamed == {}


def test_a_later_lessons_participant_ids_are_collected_under_the_roster_ids(moodle_course, tmp_path):
    from grading.collect import collect
    from grading.lms import roster

    lesson1, lesson2 = tmp_path / "lesson1.csv", tmp_path / "lesson2.csv"
    lesson1.write_text(WORKSHEET_HEADER + "Participant 1000001,Ada Lovelace,ada@example.org,Submitted,,100\n"
                       "Participant 1000002,Alan Turing,alan@example.org,Submitted,,100\n")
    lesson2.write_text(WORKSHEET_HEADER + "Participant 1000011,Ada Lovelace,ada@example.org,Submitted,,100\n"
                       "Participant 1000012,Alan Turing,Alan@Example.org,Submitted,,100\n"
                       "Participant 1000013,Blaise Pascal,blaise@example.org,Submitted,,100\n")
    zipped = download(tmp_path / "lesson2.zip", [f"Ada Lovelace_1000011_assignsubmission_file/{NOTEBOOK}",
                                                 f"Alan Turing_1000012_assignsubmission_file/{NOTEBOOK}",
                                                 f"Blaise Pascal_1000013_assignsubmission_file/{NOTEBOOK}"])
    roster(lesson1, moodle_course)
    with pytest.raises(CollectError) as error:
        collect(LESSON, [zipped], moodle_course)
    assert str(error.value).endswith(
        "3 Moodle participant id(s) in neither the roster nor its aliases, not collected (1000011, 1000012, 1000013): "
        "Moodle gives every assignment new participant ids. Hint: run `python -m grading roster WORKSHEET.csv` with this "
        f"lesson's grading worksheet first, then python -m grading collect {LESSON} (it collects again what the archive "
        "folder holds)")
    assert submitted(moodle_course) == [], "nothing is filed under a participant id the roster does not know"

    roster(lesson2, moodle_course)
    collected = collect(LESSON, None, moodle_course)
    assert collected.roster_ids == {"1000001": "1000011", "1000002": "1000012"}
    assert submitted(moodle_course) == [f"{student}/{LESSON}/{NOTEBOOK}" for student in ("1000001", "1000002", "1000013")]


def test_collect_names_a_participant_id_the_roster_does_not_know_and_exits_1(moodle_course, tmp_path, capsys):
    from grading.collect import main
    from grading.lms import roster

    lesson1 = tmp_path / "lesson1.csv"
    lesson1.write_text(WORKSHEET_HEADER + "Participant 1000001,Ada Lovelace,ada@example.org,Submitted,,100\n")
    roster(lesson1, moodle_course)
    zipped = download(tmp_path / "mixed.zip", [f"Ada Lovelace_1000001_assignsubmission_file/{NOTEBOOK}",
                                               f"Alan Turing_1000012_assignsubmission_file/{NOTEBOOK}"])
    assert main([LESSON, str(zipped), "--course", str(moodle_course)]) == 1
    said = capsys.readouterr()
    assert said.out.startswith("collected 1 notebook(s) of 1 student(s)")
    assert "  1000001 Ada Lovelace: 01_gradient_descent.ipynb" in said.out, "the roster names the student"
    assert "1 Moodle participant id(s) in neither the roster nor its aliases, not collected (1000012)" in said.err
    assert submitted(moodle_course) == [f"1000001/{LESSON}/{NOTEBOOK}"]


def test_of_two_versions_the_newer_by_the_downloads_dates_is_graded_and_the_older_kept(moodle_course, tmp_path, capsys):
    import nbformat

    from grading.classgrade import StudentReport, adopt_newest, adopt_renamed, check_files
    from grading.collect import collect

    draft, finished = nbformat.v4.new_notebook(), nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    folder = "Emile Borel_1000004_assignsubmission_file"
    zipped = tmp_path / "moodle.zip"
    with zipfile.ZipFile(zipped, "w") as z:  # the draft handed in on the 30th, the finished work on the 2nd, as Copy1
        z.writestr(zipfile.ZipInfo(f"{folder}/{NOTEBOOK}", (2026, 11, 30, 10, 0, 0)), nbformat.writes(draft))
        z.writestr(zipfile.ZipInfo(f"{folder}/{LESSON}-Copy1.ipynb", (2026, 12, 2, 9, 14, 0)), nbformat.writes(finished))
    kept = moodle_course / ".grading" / "submitted" / "1000004" / LESSON
    for _ in range(2):  # the same download collected again gives the same choice
        collected = collect(LESSON, [zipped], moodle_course)
        dates = {p.name: time.strftime("%Y-%m-%d %H:%M", time.localtime(p.stat().st_mtime)) for p in kept.iterdir()}
        assert dates == {NOTEBOOK: "2026-12-02 09:14", f"{LESSON}-Copy1.ipynb": "2026-12-02 09:14",
                         f"{NOTEBOOK}.older": "2026-11-30 10:00"}, "the zip's dates, not the collection's"
        assert nbformat.reads((kept / NOTEBOOK).read_text(), 4) == finished, "the newer version is graded"
        assert nbformat.reads((kept / f"{NOTEBOOK}.older").read_text(), 4) == draft, "the older one is kept"
        assert adopt_newest(kept, [NOTEBOOK]) == [] and adopt_renamed(kept, [NOTEBOOK]) == [], "adopted once"
        assert collected.newer == {"1000004": [f"{LESSON}-Copy1.ipynb"]}, "collect says which version it chose"
        files = check_files(kept, LESSON, [NOTEBOOK])
        assert files == [f"renamed notebook {LESSON}-Copy1.ipynb graded as {NOTEBOOK}",
                         f"older version of {NOTEBOOK} (2026-11-30 10:00), handed in under its name, kept as "
                         f"{NOTEBOOK}.older and not graded: the newer one (2026-12-02 09:14) was graded"]
        assert StudentReport("1000004", graded=True, files=files).status == "note"
    from grading.collect import main

    assert main([LESSON, str(zipped), "--course", str(moodle_course)]) == 0
    said = capsys.readouterr().out
    assert (f"  1000004: {LESSON}-Copy1.ipynb, {NOTEBOOK}  (two versions: the newer, {LESSON}-Copy1.ipynb, is graded under "
            "the lesson's name; the older kept as .older)\n") in said, said


def test_of_two_versions_an_older_one_under_a_near_name_is_a_note(folder_of_versions):
    kept, check_files, StudentReport = folder_of_versions
    files = check_files(kept, LESSON, [NOTEBOOK])
    assert files == [f"older version {LESSON}-Copy1.ipynb (2026-11-30 10:00) not graded: {NOTEBOOK} (2026-12-02 09:14), "
                     "the newer, was graded"]
    assert StudentReport("1000004", graded=True, files=files).status == "note"


def test_collect_says_which_files_beside_the_lessons_notebook_are_left_for_the_report(moodle_course, tmp_path, capsys):
    from grading.collect import main

    folder = "Grace Hopper_1000003_assignsubmission_file"
    zipped = download(tmp_path / "moodle.zip", [f"{folder}/{NOTEBOOK}", f"{folder}/{LESSON}-Copy1.ipynb",
                                                f"Alan Turing_1000002_assignsubmission_file/{LESSON} (1).ipynb"])
    assert main([LESSON, str(zipped), "--course", str(moodle_course)]) == 0
    said = capsys.readouterr().out
    assert f"1000003: {LESSON}-Copy1.ipynb, {NOTEBOOK}  (also {LESSON}-Copy1.ipynb: see the class command's report)" in said
    assert f"1000002: {LESSON} (1).ipynb  (not the lesson's notebook name: see the class command's report)" in said


def test_a_newer_version_in_a_folder_not_collected_from_a_download_is_a_problem_not_graded(folder_of_versions):
    import os

    kept, check_files, StudentReport = folder_of_versions  # a JupyterHub's folder: the copy may be an experiment
    os.utime(kept / f"{LESSON}-Copy1.ipynb", (os.path.getmtime(kept / NOTEBOOK) + 3600,) * 2)
    files = check_files(kept, LESSON, [NOTEBOOK])
    assert files[0].startswith(f"another version of {NOTEBOOK}: {LESSON}-Copy1.ipynb, newer (2026-12-02 10:14) than "
                               f"{NOTEBOOK} (2026-12-02 09:14); {NOTEBOOK} was graded: if {LESSON}-Copy1.ipynb is the "
                               f"submission, delete {kept / NOTEBOOK}")
    assert StudentReport("1000004", graded=True, files=files).status == "problems"


def test_two_versions_dated_alike_are_a_problem_that_names_the_file_to_delete(folder_of_versions):
    import os

    kept, check_files, StudentReport = folder_of_versions
    os.utime(kept / f"{LESSON}-Copy1.ipynb", (os.path.getmtime(kept / NOTEBOOK),) * 2)
    files = check_files(kept, LESSON, [NOTEBOOK])
    assert files == [f"another version of {NOTEBOOK}: {LESSON}-Copy1.ipynb, handed in at the same time as {NOTEBOOK} "
                     f"(2026-12-02 09:14): the dates do not tell which is newer; {NOTEBOOK} was graded: if "
                     f"{LESSON}-Copy1.ipynb is the submission, delete {kept / NOTEBOOK} and run the class command again "
                     "(it grades only this student)"]
    assert StudentReport("1000004", graded=True, files=files).status == "problems", "a grade that may be the draft's"


@pytest.fixture
def folder_of_versions(tmp_path):
    """A student's folder: the lesson's notebook handed in on the 2nd, a near name with other content on the 30th."""
    import os

    import nbformat

    from grading.classgrade import StudentReport, adopt_newest, check_files

    kept = tmp_path / "1000004" / LESSON
    kept.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), kept / NOTEBOOK)
    nbformat.write(nbformat.v4.new_notebook(), kept / f"{LESSON}-Copy1.ipynb")
    for name, when in ((NOTEBOOK, (2026, 12, 2, 9, 14)), (f"{LESSON}-Copy1.ipynb", (2026, 11, 30, 10, 0))):
        at = time.mktime((*when, 0, 0, 0, -1))
        os.utime(kept / name, (at, at))
    assert adopt_newest(kept, [NOTEBOOK]) == [], "the newer is the lesson's name already"
    return kept, check_files, StudentReport
