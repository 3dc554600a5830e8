"""The environment files, the README and CI agree with each other."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    reqs, todo = list(project["dependencies"]), list(extras["dev"])
    while todo:  # the dev extra names other extras of the course itself (how-networks-learn[gradebook])
        req = Requirement(todo.pop())
        if req.name == project["name"]:
            todo += [r for extra in req.extras for r in extras[extra]]
        else:
            reqs.append(str(req))
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in reqs}


def conda_requirements() -> tuple[dict[str, str], list[str]]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    editable = [r for r in pip_section if r.startswith("-e")]
    reqs = {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in pip_section if not r.startswith("-")}
    return reqs, editable


def test_environment_yml_and_pyproject_agree_on_every_package_and_pin():
    pyproject = pyproject_requirements()
    conda, editable = conda_requirements()
    only_pyproject = sorted(set(pyproject) - set(conda))
    only_conda = sorted(set(conda) - set(pyproject))
    assert not only_pyproject and not only_conda, f"only in pyproject.toml: {only_pyproject}; only in environment.yml: {only_conda}"
    differ = {name: (pyproject[name], conda[name]) for name in pyproject if pyproject[name] != conda[name]}
    assert not differ, f"pins differ (pyproject.toml, environment.yml): {differ}"
    assert editable == ["-e ."], "environment.yml must install the course's own package with `-e .`"


def test_the_pins_the_course_depends_on():
    pins = pyproject_requirements()
    assert pins["torch"] == "==2.14.1" and pins["torchvision"] == "==0.29.1"
    assert pins["nbgrader"] == "==0.9.6"
    assert Requirement(f"jupyterlab{pins['jupyterlab']}").specifier.contains("4.6.6")
    assert not Requirement(f"jupyterlab{pins['jupyterlab']}").specifier.contains("4.3.8")
    assert Requirement(f"notebook{pins['notebook']}").specifier.contains("7.4.0")
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def readme_command(marker: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"<!-- command:{marker} -->\s*```bash\n(.+?)\n```", text)
    assert match, f"README.md has no command after <!-- command:{marker} -->"
    return match.group(1)


def test_quick_start_has_exactly_two_commands_that_install_and_then_open_or_test():
    quick_start = (REPO / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    assert quick_start.count("```bash") == 2
    open_cmd, test_cmd = readme_command("open"), readme_command("test")
    assert "pip install -e ." in open_cmd and "jupyter lab" in open_cmd
    assert 'pip install -e ".[dev]"' in test_cmd and "pytest" in test_cmd


def test_ci_runs_the_readme_test_command():
    extracted = subprocess.run(
        ["bash", "-c", "awk '/<!-- command:test -->/{found=1; next} found && /^```/{if (inblock) exit; inblock=1; next} "
         "found && inblock {print; exit}' README.md"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert extracted == readme_command("test")
    ci = (REPO / ".ci" / "run").read_text()
    assert "<!-- command:test -->" in ci and 'bash -euo pipefail -c "$test_command"' in ci


def test_nbgrader_config_keeps_every_runtime_folder_under_one_ignored_folder(tmp_path):
    namespace: dict = {}
    config = (REPO / "nbgrader_config.py").read_text()

    class Config(dict):
        def __getattr__(self, key):
            return self.setdefault(key, Config())

        def __setattr__(self, key, value):
            self[key] = value

    c = Config()
    fake = tmp_path / "nbgrader_config.py"
    fake.write_text(config)
    namespace.update(get_config=lambda: c, __file__=str(fake))
    exec(compile(config, str(fake), "exec"), namespace)
    course_dir = c["CourseDirectory"]
    assert course_dir["source_directory"] == "solutions" and course_dir["release_directory"] == "notebooks"
    for key in ("submitted_directory", "autograded_directory", "feedback_directory"):
        assert course_dir[key].startswith(".grading"), key
    assert course_dir["db_url"] == f"sqlite:///{tmp_path / '.grading' / 'gradebook.db'}"
    assert (tmp_path / ".grading").is_dir(), "the config must create .grading/ when it is missing"
    assert c["Execute"]["timeout"] > 0 and c["Execute"]["interrupt_on_timeout"] is True
    assert ".grading/" in (REPO / ".gitignore").read_text().split()


@pytest.mark.parametrize("readme", ["README.md", "grading/student_README.md"])
def test_the_readmes_lesson_times_are_the_notebooks(readme):
    """Each lesson's first cell says how long it takes ("Time: about 90 minutes" / "about 2 hours"); the
    README's table (and the student edition's) says the same, and every lesson fits the course's budget: 90 to
    120 minutes and at most 55 cells."""
    import nbformat

    text = (REPO / readme).read_text()
    table = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"^\| (\d) \| .*\| (\d+) min \|$", text, re.M)}
    lessons = sorted(p for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())
    assert len(table) == len(lessons), f"{readme}'s table lists {len(table)} lessons, solutions/ holds {len(lessons)}"
    for number, folder in enumerate(lessons, start=1):
        cells = nbformat.read(str(folder / f"{folder.name}.ipynb"), as_version=4).cells
        said = re.search(r"Time: about\s+(\d+)\s+(minutes|hours?)", cells[0].source)
        assert said, f"{folder.name}: the first cell does not say how long the lesson takes (Time: about N minutes)"
        minutes = int(said.group(1)) * (60 if said.group(2).startswith("hour") else 1)
        assert table[number] == minutes, f"{folder.name}: the notebook says {minutes} min, {readme}'s table {table[number]} min"
        assert f"](notebooks/{folder.name}/{folder.name}.ipynb)" in text, f"{readme} does not link {folder.name}"
        assert 90 <= minutes <= 120, f"{folder.name}: {minutes} min, outside the course's 90-120 minutes per lesson"
        assert len(cells) <= 55, f"{folder.name}: {len(cells)} cells, over the course's budget of 55: merge or cut"
