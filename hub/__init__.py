"""The class hub: JupyterHub on one Linux machine for a class taking the course through nbgrader's exchange.

``python -m hub`` (run as root from the repository root, see ``hub/__main__.py``) prepares the machine and starts
JupyterHub with ``hub/jupyterhub_config.py``. Both read the same :class:`Settings`, passed from the command to the
configuration in ``COURSE_HUB_*`` environment variables. Students and instructors are local Linux accounts in two
groups; each user's JupyterLab runs as that user, with the course's Python environment, and with the configuration
of their role from ``hub/roles/``: students get the Assignments tab and Validate, instructors also the formgrader and
Create Assignment.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import asdict, dataclass, fields
from pathlib import Path

__all__ = ["HUB_DIR", "REPO_DIR", "ROLES_DIR", "Settings", "role_of", "user_environment", "make_home_private",
           "unreachable_by_others"]

HUB_DIR = Path(__file__).resolve().parent
REPO_DIR = HUB_DIR.parent
ROLES_DIR = HUB_DIR / "roles"
PROXY = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"


@dataclass(frozen=True)
class Settings:
    """What the hub serves and where: every field is a ``COURSE_HUB_<FIELD>`` environment variable."""

    course: str  # the course folder (a clone of this repository): nbgrader_config.py, solutions/, notebooks/
    course_id: str  # nbgrader's course id, as in the course's nbgrader_config.py
    python: str  # the Python of the course environment that users' JupyterLab and kernels run
    exchange: str  # nbgrader's exchange root; the course's own folder in it is <exchange>/<course_id>
    state: str  # the hub's private files (its database, cookie secret), root only
    students_group: str
    instructors_group: str
    ip: str
    port: int  # the address students open: http://ip:port
    hub_port: int  # JupyterHub's own API, on 127.0.0.1
    proxy_api_port: int  # configurable-http-proxy's REST API, on 127.0.0.1

    def to_environment(self) -> dict[str, str]:
        return {f"COURSE_HUB_{key.upper()}": str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_environment(cls, environ=os.environ) -> Settings:
        values = {}
        for field in fields(cls):
            name = f"COURSE_HUB_{field.name.upper()}"
            if name not in environ:
                raise KeyError(f"{name} is not set: start the hub with `python -m hub` (it sets every COURSE_HUB_* variable)")
            values[field.name] = int(environ[name]) if field.type == "int" else environ[name]
        return cls(**values)

    @property
    def python_bin(self) -> str:
        return str(Path(self.python).parent)

    @property
    def exchange_course(self) -> Path:
        return Path(self.exchange) / self.course_id


def group_members(group: str) -> set[str]:
    """Users in ``group``: named as members, or with it as their primary group."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return set()
    return set(entry.gr_mem) | {user.pw_name for user in pwd.getpwall() if user.pw_gid == entry.gr_gid}


def role_of(username: str, settings: Settings) -> str | None:
    """``"instructor"``, ``"student"`` or ``None`` (neither group): instructors win if a user is in both."""
    if username in group_members(settings.instructors_group):
        return "instructor"
    if username in group_members(settings.students_group):
        return "student"
    return None


def user_environment(role: str, settings: Settings, home: str | None = None) -> dict[str, str]:
    """The environment a user's JupyterLab runs in (and the same for the command line, in the tests).

    ``JUPYTER_CONFIG_PATH`` puts the role's configuration first, before the environment's and the user's own, so a
    student cannot turn the formgrader back on: ``roles/<role>/`` (which extensions), then ``roles/common/`` (the
    course id and the exchange, in ``nbgrader_config.py``).
    """
    environment = {
        "PATH": os.pathsep.join([settings.python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(ROLES_DIR / role), str(ROLES_DIR / "common")]),
        "COURSE_HUB_ROLE": role,
        "COURSE_HUB_COURSE_ID": settings.course_id,
        "COURSE_HUB_EXCHANGE": settings.exchange,
    }
    if role == "instructor":
        environment["COURSE_HUB_COURSE"] = settings.course
        # The grader and helpers of the course the hub serves, whatever clone the environment was installed from: the
        # class command's Dask workers import them from here, and the sandbox hides this course from graded kernels.
        environment["PYTHONPATH"] = settings.course
    if home:
        environment["HOME"] = home
    return environment


def make_home_private(username: str) -> bool:
    """Make the user's home folder readable by its owner alone (Debian's ``useradd -m`` leaves it 0755, which lets
    every student read every other's fetched lessons and feedback). Returns whether it changed anything."""
    home = Path(pwd.getpwnam(username).pw_dir)
    if not home.is_dir():
        return False
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        os.chmod(home, mode & 0o700)
        return True
    return False


def unreachable_by_others(path: str | os.PathLike) -> Path | None:
    """The first folder on the way to ``path`` (symlinks resolved) that other users cannot enter, or ``None``."""
    target = Path(path).resolve()
    for folder in [*reversed(target.parents), target]:
        if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None
