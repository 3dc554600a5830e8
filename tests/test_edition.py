"""The student edition (`python -m grading.edition`) has what students need and nothing they must not see."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from grading.edition import EditionError, LeakError, build_edition, check_edition, find_leaks, hidden_test_lines, main

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
INSTRUCTOR_ONLY = ["solutions", "tests", "grading", "benchmarks", ".ci", "nbgrader_config.py"]


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    return build_edition(tmp_path_factory.mktemp("edition") / "course")


def files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def sources(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def test_the_edition_has_what_a_student_needs(edition):
    for name in ["README.md", "pyproject.toml", "environment.yml", ".gitignore", "data/README.md", "data/house_prices.csv"]:
        assert (edition / name).is_file(), name
    for lesson in LESSONS:
        assert (edition / "notebooks" / lesson / f"{lesson}.ipynb").is_file(), lesson
    helpers = [p for p in files(REPO / "helpers") if p.suffix == ".py"]
    assert helpers and all((edition / "helpers" / p).read_bytes() == (REPO / "helpers" / p).read_bytes() for p in helpers)
    licences = [p.name for p in REPO.iterdir() if p.is_file() and p.name.split(".")[0].upper() in ("LICENSE", "LICENCE", "COPYING")]
    assert all((edition / name).is_file() for name in licences)


def test_the_edition_has_nothing_of_the_instructors(edition):
    for name in INSTRUCTOR_ONLY:
        assert not (edition / name).exists(), name
    everything = [p.relative_to(edition) for p in edition.rglob("*")]
    assert not [p for p in everything if {".grading", "grading", "solutions", "__pycache__", ".ipynb_checkpoints"} & set(p.parts)]
    assert not [p for p in everything if p.name == "nbgrader_config.py"]


def test_the_scan_finds_nothing_in_the_edition(edition):
    assert find_leaks(edition) == []
    assert len(hidden_test_lines()) > 100, "the scan must know the hidden tests of every lesson"


def test_a_plain_search_finds_no_marker_and_no_line_of_a_hidden_test(edition):
    # Independent of grading.edition: hidden lines read straight from the solutions, searched in every file's
    # text and, for notebooks, in each cell's decoded source (JSON escapes quotes).
    released = "\n".join(s for lesson in LESSONS for s in sources(REPO / "notebooks" / lesson / f"{lesson}.ipynb"))
    hidden = set()
    for lesson in LESSONS:
        for source in sources(REPO / "solutions" / lesson / f"{lesson}.ipynb"):
            for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, flags=re.S):
                hidden |= {line.strip() for line in block.splitlines() if len(line.strip()) >= 12 and line.strip() not in released}
    assert len(hidden) > 100
    needles = hidden | {"BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"}
    for path in files(edition):
        texts = [(edition / path).read_text(encoding="utf-8", errors="replace")]
        if path.suffix == ".ipynb":
            texts += sources(edition / path)
        found = [needle for needle in needles for text in texts if needle in text]
        assert not found, f"{path} contains {found}"


def test_every_lesson_notebook_is_the_released_one_byte_for_byte(edition):
    assert files(edition / "notebooks") == [p for p in files(REPO / "notebooks") if ".ipynb_checkpoints" not in p.parts]
    for path in files(edition / "notebooks"):
        assert (edition / "notebooks" / path).read_bytes() == (REPO / "notebooks" / path).read_bytes(), path


def test_the_student_pyproject_installs_helpers_only_with_the_course_pins(edition):
    course = tomllib.loads((REPO / "pyproject.toml").read_text())
    student = tomllib.loads((edition / "pyproject.toml").read_text())
    assert student["tool"] == {"setuptools": {"packages": ["helpers"]}}
    assert student["project"]["dependencies"] == course["project"]["dependencies"]
    assert "optional-dependencies" not in student["project"]
    assert student["project"]["readme"] == "README.md" and student["build-system"] == course["build-system"]


def test_the_student_environment_installs_the_same_packages_as_its_pyproject(edition):
    env = yaml.safe_load((edition / "environment.yml").read_text())
    course_env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    student = tomllib.loads((edition / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [r for r in pip if not r.startswith("-")] == student
    assert [r for r in pip if r.startswith("-")] == ["-e ."]
    assert [d for d in env["dependencies"] if isinstance(d, str)] == [d for d in course_env["dependencies"] if isinstance(d, str)]
    assert env["name"] == course_env["name"] and env["channels"] == course_env["channels"]


def test_the_student_readme_links_every_lesson_and_points_at_the_public_edition(edition):
    readme = (edition / "README.md").read_text()
    for lesson in LESSONS:
        assert f"](notebooks/{lesson}/{lesson}.ipynb)" in readme, lesson
    for link in re.findall(r"\]\(((?!https?:)[^)]+)\)", readme):
        assert (edition / link).exists(), link
    assert "mybinder.org/v2/gh/how-networks-learn/course/" in readme
    assert "colab.research.google.com/github/how-networks-learn/course/" in readme
    assert "Validate" in readme and "nbgrader validate" in readme


def test_helpers_load_data_from_the_edition_alone(edition):
    env = {k: v for k, v in os.environ.items() if k != "COURSE_DATA_DIR"} | {"PYTHONPATH": str(edition)}
    code = "import helpers; d = helpers.load_house_prices(); print(helpers.__file__); print(len(d))"
    result = subprocess.run([sys.executable, "-c", code], cwd=edition, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    where, count = result.stdout.split()
    assert Path(where).resolve().is_relative_to(edition.resolve()) and int(count) > 0


def planted_copy(edition: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "edition"
    shutil.copytree(edition, copy)
    return copy


def test_the_scan_catches_a_planted_hidden_test_line(edition, tmp_path):
    copy = planted_copy(edition, tmp_path)
    line, lesson = next(iter(hidden_test_lines().items()))
    target = copy / "helpers" / "plotting.py"
    target.write_text(target.read_text() + f"\n# {line}\n")
    leaks = find_leaks(copy)
    assert [leak.path for leak in leaks] == ["helpers/plotting.py"] and lesson in leaks[0].what
    assert leaks[0].location == f"line {target.read_text().splitlines().index(f'# {line}') + 1}"
    with pytest.raises(LeakError, match="helpers/plotting.py: line"):
        check_edition(copy)


def test_the_scan_catches_a_planted_solution_marker_in_a_notebook(edition, tmp_path):
    copy = planted_copy(edition, tmp_path)
    notebook = copy / "notebooks" / LESSONS[0] / f"{LESSONS[0]}.ipynb"
    content = json.loads(notebook.read_text())
    content["cells"][2]["source"] = ["x = 1\n", "### BEGIN SOLUTION\n", "x = 2\n"]
    notebook.write_text(json.dumps(content))
    leaks = find_leaks(copy)
    assert [(leak.path, leak.location) for leak in leaks] == [(f"notebooks/{LESSONS[0]}/{LESSONS[0]}.ipynb", "cell 3, line 2")]


def test_the_scan_catches_an_instructor_folder(edition, tmp_path):
    copy = planted_copy(edition, tmp_path)
    (copy / "solutions").mkdir()
    assert [leak.path for leak in find_leaks(copy)] == ["solutions"]


def test_a_leaking_course_is_refused_and_nothing_is_written(tmp_path, capsys):
    course = tmp_path / "course"
    for name in ["notebooks", "solutions", "helpers", "data"]:
        shutil.copytree(REPO / name, course / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    for name in ["pyproject.toml", "environment.yml", "grading/student_README.md"]:
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, course / name)
    line = next(iter(hidden_test_lines(course)))
    (course / "data" / "notes.txt").write_text(f"first line\n{line}\n")
    out = tmp_path / "out"
    assert main([str(out), "--course", str(course)]) == 1
    assert "data/notes.txt: line 2" in capsys.readouterr().err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["course"]


def test_a_non_empty_folder_is_replaced_only_with_force(tmp_path):
    out = tmp_path / "public"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "stale.txt").write_text("from the last release")
    command = [sys.executable, "-m", "grading.edition", str(out)]
    refused = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "--force" in refused.stderr and str(out) in refused.stderr
    assert (out / "stale.txt").exists() and not (out / "README.md").exists()
    forced = subprocess.run([*command, "--force"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert not (out / "stale.txt").exists() and (out / "README.md").is_file()
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"


def test_an_output_folder_inside_the_course_is_refused():
    with pytest.raises(EditionError, match="outside"):
        build_edition(REPO / "build" / "edition")
    assert not (REPO / "build" / "edition").exists()
