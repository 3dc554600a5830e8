"""Build the student edition of the course: the folder students clone, without solutions, hidden tests or grader.

Run from the full course (this repository)::

    python -m grading.edition OUT_DIR [--force]

``OUT_DIR`` receives ``notebooks/`` (as released by nbgrader), the ``helpers`` package, ``data/``, a student
``pyproject.toml`` and ``environment.yml`` (the course's pinned runtime dependencies, package ``helpers``
only), ``README.md`` (from ``grading/student_README.md``), a ``.gitignore`` and the course's licence file if
it has one. It never receives ``solutions/``, ``tests/``, ``grading/``, ``benchmarks/``, ``.ci/``, the
instructor's ``nbgrader_config.py`` or anything under ``.grading/``.

The edition is first written to a temporary folder next to ``OUT_DIR`` and scanned (:func:`find_leaks`):
every file is searched for nbgrader's solution and hidden-test markers and for every line of every hidden
test in ``solutions/``. Only a clean edition reaches ``OUT_DIR``; otherwise the command exits with 1 and
names each file and line at fault. A non-empty ``OUT_DIR`` is replaced only with ``--force``, which keeps a
``.git`` folder in it, so that ``OUT_DIR`` can be a clone of the public repository.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "COURSE_ROOT",
    "EditionError",
    "Leak",
    "LeakError",
    "MARKERS",
    "MIN_LINE_LENGTH",
    "build_edition",
    "check_edition",
    "find_leaks",
    "hidden_test_lines",
    "main",
    "student_environment",
    "student_pyproject",
    "write_edition",
]

COURSE_ROOT = Path(__file__).resolve().parents[1]
"""The full course this module belongs to (the repository root)."""

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
"""nbgrader's delimiters: none of them may appear anywhere in the student edition."""

MIN_LINE_LENGTH = 12
"""Hidden-test lines shorter than this (``assert ok``, ``)``) are too common to be searched for."""

COPIED_FOLDERS = ("notebooks", "helpers", "data")
"""Folders of the course copied into the edition, file for file."""

TEMPLATE = Path("grading") / "student_README.md"
"""The student README, relative to the course root."""

INSTRUCTOR_ONLY = ("solutions", "tests", "grading", "benchmarks", ".ci", ".grading", "nbgrader_config.py")
"""Names that must not occur anywhere in the edition (folders or files)."""

LICENCE_STEMS = ("LICENSE", "LICENCE", "COPYING")

# Not copied from the course's folders: editor, cache and build leftovers, and the optional full MNIST set,
# which a student downloads or places in data/MNIST/ (it is large, and git ignores it).
_SKIPPED_NAMES = ("__pycache__",)
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
_SKIPPED_DATA = ("MNIST",)

_IMPORTS_GRADING = re.compile(r"^\s*(?:from|import)\s+grading\b", re.MULTILINE)

STUDENT_GITIGNORE = """\
.venv/
__pycache__/
*.pyc
.ipynb_checkpoints/
*.egg-info/
build/
data/MNIST/
"""


class EditionError(Exception):
    """The student edition cannot be built; the message says what is wrong and how to fix it."""


class Leak(NamedTuple):
    """Something in the edition that students must not see.

    Attributes
    ----------
    path : str
        The file, relative to the edition's root (``/``-separated).
    location : str
        Where in the file: ``line N``, or ``cell C, line N`` in a notebook; empty for a whole file.
    what : str
        What was found there.
    """

    path: str
    location: str
    what: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.location}" if self.location else self.path
        return f"{where}: {self.what}"


class LeakError(EditionError):
    """The edition contains solutions, hidden tests or instructor-only files; ``leaks`` lists them."""

    def __init__(self, leaks: list[Leak]):
        self.leaks = leaks
        listed = "\n".join(f"  {leak}" for leak in leaks)
        super().__init__(
            f"the student edition would reveal what students must not see ({len(leaks)} finding(s)):\n{listed}\n"
            "Nothing was written to the output folder. Remove these lines from the course's helpers/ or data/, "
            "or regenerate the student notebooks with `nbgrader generate_assignment LESSON --force`, then build again."
        )


# --- reading the course -----------------------------------------------------------------------------------


def _check_course(course: Path) -> Path:
    """Return ``course`` resolved, or raise :class:`EditionError` naming what it lacks.

    Parameters
    ----------
    course : Path
        The root of the full course.

    Returns
    -------
    Path
        The resolved course root.
    """
    course = Path(course).resolve()
    needed = [*COPIED_FOLDERS, "solutions", "pyproject.toml", "environment.yml", str(TEMPLATE)]
    missing = [name for name in needed if not (course / name).exists()]
    if missing:
        raise EditionError(
            f"{course} is not the full course: it has no {', '.join(missing)}. "
            "Run the command from the course repository, or pass --course with its path."
        )
    return course


def _lessons(course: Path) -> list[str]:
    """Return the lessons of the course: the folders of ``solutions/`` that hold their notebook.

    Parameters
    ----------
    course : Path
        The root of the full course.

    Returns
    -------
    list of str
        Lesson names such as ``01_gradient_descent``, sorted.
    """
    lessons = sorted(p.parent.name for p in (course / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)
    if not lessons:
        raise EditionError(f"no lesson in {course / 'solutions'}: expected solutions/NN_name/NN_name.ipynb")
    for lesson in lessons:
        if not (course / "notebooks" / lesson / f"{lesson}.ipynb").is_file():
            raise EditionError(
                f"lesson {lesson} has no student notebook notebooks/{lesson}/{lesson}.ipynb; "
                f"make it with `nbgrader generate_assignment {lesson} --force`"
            )
    return lessons


def _cell_sources(path: Path) -> list[str]:
    """Return the source of every cell of the notebook at ``path``.

    Parameters
    ----------
    path : Path
        A notebook.

    Returns
    -------
    list of str
        One string per cell, in order.
    """
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EditionError(f"cannot read the notebook {path}: {error}") from None
    return [_joined(cell.get("source", "")) for cell in notebook.get("cells", [])]


def _joined(value: str | list[str]) -> str:
    """Return a notebook text field, stored as a string or as a list of lines, as one string."""
    return "".join(value) if isinstance(value, list) else value


def _hidden_blocks(source: str) -> Iterator[str]:
    """Yield every line of ``source`` that lies between the hidden-test markers, stripped.

    Parameters
    ----------
    source : str
        The source of one cell.

    Yields
    ------
    str
        A line of a hidden test, without surrounding white space.
    """
    hidden = False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif hidden:
            yield line.strip()


def hidden_test_lines(course: Path = COURSE_ROOT) -> dict[str, str]:
    """Return the lines of the course's hidden tests that must not appear in the student edition.

    A line counts when it lies between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in a
    notebook of ``solutions/``, is at least :data:`MIN_LINE_LENGTH` characters long once stripped, and does
    not occur in any student notebook of ``notebooks/`` (a line students already see, such as
    ``torch.manual_seed(1)``, reveals nothing).

    Parameters
    ----------
    course : Path
        The root of the full course.

    Returns
    -------
    dict
        Each hidden line, stripped, mapped to the lesson it comes from (the first one, if several).
    """
    course = Path(course)
    lessons = _lessons(course)
    released = "\n".join(source for lesson in lessons for source in _cell_sources(course / "notebooks" / lesson / f"{lesson}.ipynb"))
    lines: dict[str, str] = {}
    for lesson in lessons:
        for source in _cell_sources(course / "solutions" / lesson / f"{lesson}.ipynb"):
            for line in _hidden_blocks(source):
                if len(line) >= MIN_LINE_LENGTH and line not in released:
                    lines.setdefault(line, lesson)
    return lines


# --- writing the edition -----------------------------------------------------------------------------------


def _skip_in_copy(folder: str, names: list[str]) -> set[str]:
    """``shutil.copytree`` ignore function: leave out hidden files, caches, build leftovers and full MNIST."""
    skipped = {n for n in names if n.startswith(".") or n in _SKIPPED_NAMES or n.endswith(_SKIPPED_SUFFIXES)}
    if Path(folder).name == "data":
        skipped |= {n for n in names if n in _SKIPPED_DATA}
    return skipped


def _toml_value(value: Any) -> str:
    """Return ``value`` (a string, number, boolean, list or table) written as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        if value and all(isinstance(item, str) for item in value) and len(value) > 2:
            return "[\n" + "".join(f"    {_toml_value(item)},\n" for item in value) + "]"
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + " }"
    raise EditionError(f"cannot write {value!r} to the student pyproject.toml: unsupported type {type(value).__name__}")


def _toml_table(name: str, table: dict[str, Any]) -> str:
    """Return the TOML table ``[name]`` holding the keys of ``table``."""
    return f"[{name}]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in table.items())


# Keys of [project] that a student edition keeps; the rest (optional-dependencies, scripts, entry points)
# serve instructors and contributors.
_PROJECT_KEYS = ("name", "version", "description", "readme", "license", "requires-python", "authors", "urls", "dependencies")


def student_pyproject(course_pyproject: str) -> str:
    """Return the student ``pyproject.toml`` made from the course's.

    It keeps the build system, the project's metadata and its pinned runtime dependencies (so the lessons
    and ``nbgrader validate`` run as in the course), and installs the package ``helpers`` only: no
    ``grading``, no development extras, no pytest or ruff configuration.

    Parameters
    ----------
    course_pyproject : str
        The text of the course's ``pyproject.toml``.

    Returns
    -------
    str
        The text of the student ``pyproject.toml``.
    """
    course = tomllib.loads(course_pyproject)
    project = {key: course["project"][key] for key in _PROJECT_KEYS if key in course["project"]}
    if not project.get("dependencies"):
        raise EditionError("the course's pyproject.toml has no [project] dependencies to give the student edition")
    project["readme"] = "README.md"
    text = (
        "# The student edition of the course, generated by `python -m grading.edition` from the course's\n"
        "# pyproject.toml: the same pinned dependencies, and only the `helpers` package.\n\n"
        + _toml_table("build-system", course["build-system"])
        + "\n"
        + _toml_table("project", project)
        + "\n"
        + _toml_table("tool.setuptools", {"packages": ["helpers"]})
    )
    tomllib.loads(text)  # what we write must read back
    return text


def _requirement_name(requirement: str) -> str:
    """Return the normalised project name of a requirement such as ``torch==2.14.1``."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else ""


def student_environment(course_environment: str, course_pyproject: str) -> str:
    """Return the student ``environment.yml`` made from the course's.

    The course's file is kept line for line (name, channels, Python, runtime packages and ``-e .``, which
    installs the edition's own ``pyproject.toml``), except its leading comment, which speaks of the course's
    tests, and the packages that only the course's optional extras (``dev``) need.

    Parameters
    ----------
    course_environment : str
        The text of the course's ``environment.yml``.
    course_pyproject : str
        The text of the course's ``pyproject.toml``.

    Returns
    -------
    str
        The text of the student ``environment.yml``.
    """
    project = tomllib.loads(course_pyproject)["project"]
    runtime = {_requirement_name(r) for r in project.get("dependencies", [])}
    extras = {_requirement_name(r) for reqs in project.get("optional-dependencies", {}).values() for r in reqs} - runtime
    lines = course_environment.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    kept = []
    for line in lines:
        item = re.match(r"\s*-\s+(\S.*?)\s*$", line)
        value = item.group(1) if item else ""
        if value.startswith("-") and value.split() != ["-e", "."]:
            raise EditionError(
                f"environment.yml: {line.strip()!r} refers to a file the student edition may not have; "
                "the edition supports `-e .` only: list the packages themselves instead"
            )
        if item and _requirement_name(value) in extras:
            continue
        kept.append(line)
    header = (
        "# The course's environment for conda and Binder, generated by `python -m grading.edition`: the same\n"
        "# packages, at the same versions, as pyproject.toml, and the course's `helpers` package (`-e .`).\n"
    )
    return header + "\n".join(kept) + "\n"


def _licence_files(course: Path) -> list[Path]:
    """Return the course's licence files (``LICENSE``, ``LICENCE``, ``COPYING``, with any extension)."""
    return sorted(p for p in course.iterdir() if p.is_file() and p.name.split(".")[0].upper() in LICENCE_STEMS)


def write_edition(dest: Path, course: Path = COURSE_ROOT) -> list[Path]:
    """Write the student edition of ``course`` into the empty folder ``dest``, without checking it.

    Parameters
    ----------
    dest : Path
        An existing, empty folder.
    course : Path
        The root of the full course.

    Returns
    -------
    list of Path
        Every file written, relative to ``dest``.
    """
    course = _check_course(course)
    dest = Path(dest)
    for folder in COPIED_FOLDERS:
        shutil.copytree(course / folder, dest / folder, ignore=_skip_in_copy)
    pyproject = (course / "pyproject.toml").read_text(encoding="utf-8")
    environment = (course / "environment.yml").read_text(encoding="utf-8")
    (dest / "pyproject.toml").write_text(student_pyproject(pyproject), encoding="utf-8")
    (dest / "environment.yml").write_text(student_environment(environment, pyproject), encoding="utf-8")
    shutil.copyfile(course / TEMPLATE, dest / "README.md")
    (dest / ".gitignore").write_text(STUDENT_GITIGNORE, encoding="utf-8")
    for licence in _licence_files(course):
        shutil.copyfile(licence, dest / licence.name)
    return sorted(p.relative_to(dest) for p in dest.rglob("*") if p.is_file())


# --- checking the edition ------------------------------------------------------------------------------------


def _text_units(path: Path) -> Iterator[tuple[str, str]]:
    """Yield the texts of a file to search, each with a prefix for the location of a finding.

    A notebook yields the source and the text outputs of each cell, decoded from JSON (where quotes and
    backslashes are escaped), and its metadata; an unreadable notebook and any other file yield the file's
    text (undecodable bytes replaced).

    Parameters
    ----------
    path : Path
        A file of the edition.

    Yields
    ------
    tuple of (str, str)
        A location prefix (``""`` or ``"cell 3, "``) and a text.
    """
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(raw)
        except ValueError:
            notebook = None
        if isinstance(notebook, dict):
            for number, cell in enumerate(notebook.get("cells", []), 1):
                yield f"cell {number}, ", _joined(cell.get("source", ""))
                for output in cell.get("outputs", []):
                    yield f"cell {number} output, ", json.dumps(output, ensure_ascii=False, indent=1)
                yield f"cell {number} metadata, ", json.dumps(cell.get("metadata", {}), ensure_ascii=False, indent=1)
            yield "notebook metadata, ", json.dumps(notebook.get("metadata", {}), ensure_ascii=False, indent=1)
            return
    yield "", raw


def _findings(text: str, needles: dict[str, str]) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, description)`` for each line of ``text`` that contains one of ``needles``.

    Parameters
    ----------
    text : str
        The text to search.
    needles : dict
        Each string to look for, mapped to a description of what it is.

    Yields
    ------
    tuple of (int, str)
        A 1-based line number and the description of the needle found there.
    """
    present = [needle for needle in needles if needle in text]  # one fast pass per needle over the whole text
    if not present:
        return
    for number, line in enumerate(text.splitlines(), 1):
        for needle in present:
            if needle in line:
                yield number, needles[needle]


def _instructor_only(relative: Path) -> str:
    """Return why ``relative`` (a path in the edition) must not be there, or ``""`` if it may."""
    for part in relative.parts:
        if part in INSTRUCTOR_ONLY:
            return f"{part!r} is the instructors' and must not be in the student edition"
    return ""


def find_leaks(edition: Path, course: Path = COURSE_ROOT) -> list[Leak]:
    """Search every file of a built edition for what students must not see.

    Reported: an instructor-only file or folder (:data:`INSTRUCTOR_ONLY`, at any depth); any of nbgrader's
    :data:`MARKERS`; any line of a hidden test of the course (:func:`hidden_test_lines`); code that imports
    the instructor-only ``grading`` package. A ``.git`` folder at the top is not searched.

    Parameters
    ----------
    edition : Path
        The root of a student edition.
    course : Path
        The full course whose hidden tests are searched for.

    Returns
    -------
    list of Leak
        Every finding, by file and line; empty when the edition is clean.
    """
    edition = Path(edition)
    needles = {marker: f"nbgrader marker {marker!r}" for marker in MARKERS}
    needles |= {line: f"line of a hidden test of {lesson}: {line!r}" for line, lesson in hidden_test_lines(course).items()}
    leaks = []
    for path in sorted(edition.rglob("*")):
        relative = path.relative_to(edition)
        if relative.parts[0] == ".git":
            continue
        if reason := _instructor_only(relative):
            leaks.append(Leak(relative.as_posix(), "", reason))
        if not path.is_file():
            continue
        for prefix, text in _text_units(path):
            for number, what in _findings(text, needles):
                leaks.append(Leak(relative.as_posix(), f"{prefix}line {number}", what))
            if path.suffix in (".py", ".ipynb"):
                for match in _IMPORTS_GRADING.finditer(text):
                    number = text.count("\n", 0, match.start()) + 1
                    leaks.append(Leak(relative.as_posix(), f"{prefix}line {number}", "imports the instructor-only package `grading`"))
    return leaks


def check_edition(edition: Path, course: Path = COURSE_ROOT) -> None:
    """Raise :class:`LeakError` if :func:`find_leaks` finds anything in ``edition``.

    Parameters
    ----------
    edition : Path
        The root of a student edition.
    course : Path
        The full course whose hidden tests are searched for.
    """
    leaks = find_leaks(edition, course)
    if leaks:
        raise LeakError(leaks)


# --- building into OUT_DIR -------------------------------------------------------------------------------------


def _occupied(folder: Path) -> list[Path]:
    """Return what ``folder`` holds, apart from a ``.git`` folder; empty if it does not exist."""
    return sorted(p for p in folder.iterdir() if p.name != ".git") if folder.is_dir() else []


def _check_out_dir(out_dir: Path, course: Path, force: bool) -> None:
    """Raise :class:`EditionError` unless the edition may be written to ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        The resolved output folder.
    course : Path
        The resolved course root.
    force : bool
        Whether the contents of a non-empty ``out_dir`` may be replaced.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise EditionError(f"{out_dir} is a file, not a folder; choose a folder for the student edition")
    if out_dir == course or out_dir.is_relative_to(course) or course.is_relative_to(out_dir):
        raise EditionError(
            f"{out_dir} overlaps the course folder {course}; choose a folder outside it, e.g. {course.parent / 'course-student'}"
        )
    if _occupied(out_dir) and not force:
        raise EditionError(
            f"{out_dir} is not empty; pass --force to replace its contents (a .git folder in it is kept), "
            "or choose an empty or new folder"
        )


def _install(staging: Path, out_dir: Path) -> None:
    """Move the checked edition from ``staging`` to ``out_dir``, replacing all but its ``.git`` folder."""
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    for old in _occupied(out_dir):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
    for new in staging.iterdir():
        new.rename(out_dir / new.name)


def build_edition(out_dir: Path, *, course: Path = COURSE_ROOT, force: bool = False) -> Path:
    """Build the student edition of ``course`` in ``out_dir``, and check it before it gets there.

    The edition is written to a temporary folder next to ``out_dir``, checked with :func:`check_edition`,
    and only then moved to ``out_dir``; a failed check leaves ``out_dir`` as it was.

    Parameters
    ----------
    out_dir : Path
        The folder to build into: new, empty, or (with ``force``) replaced except for its ``.git`` folder.
    course : Path
        The root of the full course.
    force : bool
        Replace the contents of a non-empty ``out_dir``.

    Returns
    -------
    Path
        ``out_dir``, resolved.

    Raises
    ------
    EditionError
        If ``course`` is not the full course or ``out_dir`` cannot be used.
    LeakError
        If the edition would contain a marker, a hidden-test line or an instructor-only file.
    """
    course = _check_course(course)
    out_dir = Path(out_dir).expanduser().resolve()
    _check_out_dir(out_dir, course, force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-staging-", dir=out_dir.parent))
    try:
        staging = scratch / "edition"
        staging.mkdir()  # not the private scratch folder itself: the edition gets the usual permissions
        write_edition(staging, course)
        check_edition(staging, course)
        _install(staging, out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m grading.edition``; return the exit status (0 built, 1 refused or leaking).

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m grading.edition",
        description="Build the student edition of the course (notebooks, helpers, data; no solutions, hidden tests "
        "or grader) in OUT_DIR, and check that it reveals nothing students must not see.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="the folder to build into (new or empty, unless --force)")
    parser.add_argument("--force", action="store_true", help="replace the contents of a non-empty OUT_DIR (its .git folder is kept)")
    parser.add_argument("--course", type=Path, default=COURSE_ROOT, help=f"the full course to build from (default: {COURSE_ROOT})")
    args = parser.parse_args(argv)
    try:
        out_dir = build_edition(args.out_dir, course=args.course, force=args.force)
    except EditionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    count = sum(1 for p in out_dir.rglob("*") if p.is_file() and ".git" not in p.relative_to(out_dir).parts[:1])
    print(f"student edition written to {out_dir}: {count} files, checked for solutions, hidden tests and grader files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
