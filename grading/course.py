"""The course folder an instructor command works on: its nbgrader configuration, and the folders it names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CourseFolders", "course_folders", "first_paragraph", "full_name", "labelled", "load_config"]


def load_config(course: Path | None = None):
    """``(course, config)``: the course folder, resolved (default: the current folder), and its ``nbgrader_config.py``.

    Raises
    ------
    FileNotFoundError
        If the folder has no ``nbgrader_config.py``; the message says where to run from.
    """
    from traitlets.config import Config, PyFileConfigLoader

    course = Path(course or Path.cwd()).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise FileNotFoundError(f"no nbgrader_config.py in {course}: run this from the course folder or pass --course")
    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
    return course, config


@dataclass(frozen=True)
class CourseFolders:
    """The folders of a course, as its configuration names them (``reports`` holds one folder per lesson)."""

    root: Path
    source: Path
    release: Path
    submitted: Path
    reports: Path

    @classmethod
    def of(cls, coursedir) -> CourseFolders:
        """The folders of nbgrader's ``CourseDirectory``; the reports go beside the submitted folder."""
        root = Path(coursedir.root)
        submitted = root / coursedir.submitted_directory
        return cls(root, root / coursedir.source_directory, root / coursedir.release_directory, submitted,
                   submitted.parent / "reports")


def course_folders(course: Path | None = None) -> CourseFolders:
    """The folders of the course in ``course`` (default: the current folder)."""
    from nbgrader.coursedir import CourseDirectory

    return CourseFolders.of(CourseDirectory(config=load_config(course)[1]))


def full_name(first: str | None, last: str | None) -> str:
    """"First Last" from a roster's or a gradebook's name parts, either of which may be missing or padded."""
    return " ".join(filter(None, ((first or "").strip(), (last or "").strip())))


def labelled(student: str, name: str) -> str:
    """A student id with the name beside it, ``"1000011 Ada Lovelace"`` (the id alone when there is no name)."""
    return " ".join(filter(None, [student, name]))


def first_paragraph(doc: str) -> str:
    """A module docstring's first paragraph on one line: a command's description for ``--help``."""
    return " ".join(doc.split("\n\n")[0].split())
