"""``sudo .venv/bin/python -m hub``: the class hub, in one command, from the repository root.

It prepares the machine, then runs JupyterHub (``hub/jupyterhub_config.py``) in the foreground until Ctrl+C, which
stops the proxy and every user's server too:

1. the students' and instructors' groups (created when missing) and their members' home folders made private;
2. the course folder: group-owned by the instructors (who may write it), closed to everyone else except what a
   student's JupyterLab needs (``helpers/``, ``data/``, ``hub/`` and the course environment, if it lives there):
   students never see ``solutions/``, ``.grading/`` (submissions, gradebook) or the git history;
3. nbgrader's exchange: ``<exchange>/<course id>`` owned by root and the instructors' group (instructors release,
   collect and return feedback there; students can only fetch what is released and drop submissions into
   ``inbound/``), in an exchange root that is sticky like /tmp;
4. configurable-http-proxy in ``hub/node_modules`` (``npm ci``, pinned by ``hub/package-lock.json``), when missing;
5. the course's Python must be runnable by every user (checked as ``nobody``): a virtual environment made from a
   Python under ``/root`` (pyenv's, for one) is not; make the course environment from a Python 3.11 installed
   where every user can run it (not Debian 12's 3.11.2, which fails on the feedback pages).
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

from hub import HUB_DIR, PROXY, REPO_DIR, Settings, group_members, make_home_private, unreachable_by_others

# What users' JupyterLab and kernels read from the course folder; everything else there is the instructors'.
PUBLIC = ("helpers", "data", "hub")


class HubError(RuntimeError):
    """A machine the hub cannot start on as it is, with what to do about it."""


def course_id_of(course: Path) -> str:
    config = course / "nbgrader_config.py"
    if not config.is_file():
        raise HubError(f"{course} holds no nbgrader_config.py: --course must name a clone of the course")
    match = re.search(r"""^c\.CourseDirectory\.course_id\s*=\s*["']([^"']+)["']""", config.read_text(), re.M)
    if not match:
        raise HubError(f"{config} sets no c.CourseDirectory.course_id")
    return match.group(1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_group(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(["groupadd", name], check=True)
        print(f"created group {name}")
        return grp.getgrnam(name).gr_gid


def check_python_for_users(settings: Settings) -> None:
    """Run the course's Python as ``nobody``: what every user's JupyterLab does first."""
    blocked = unreachable_by_others(Path(settings.python).parent) or unreachable_by_others(settings.python)
    if blocked is not None:
        raise HubError(
            f"the course's Python {settings.python} lies behind {blocked}, which other users cannot enter (mode "
            f"{stat.S_IMODE(blocked.stat().st_mode):o}): make the course environment with a Python every user can "
            "run (installed outside /root), or name one with --python")
    nobody = pwd.getpwnam("nobody")

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    # soupsieve: the feedback pages' HTML goes through it (nbconvert), and Debian 12's Python 3.11.2 cannot compile
    # its CSS selectors (a bug of its `re`, fixed in later 3.11 releases: 3.11.7 works)
    probe = "import jupyterhub.singleuser, jupyterlab, nbgrader, helpers, ipykernel, soupsieve; soupsieve.compile('img:not([alt])')"
    result = subprocess.run([settings.python, "-c", probe], preexec_fn=as_nobody, cwd="/", capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}, timeout=300)
    if result.returncode != 0:
        raise HubError(f"users cannot run the course's Python {settings.python} (tried as nobody: {probe}):\n"
                       + result.stderr[-2000:])


def secure_course(course: Path, gid: int, keep: tuple[Path, ...]) -> None:
    """Instructors' group owns the course and may write it; others pass through the course folder only to PUBLIC.
    ``keep``: folders left as they are (the course environment)."""
    os.chown(course, -1, gid)
    os.chmod(course, 0o2771)

    def close(path: Path, public: bool) -> None:
        os.lchown(path, -1, gid)
        if path.is_symlink():
            return
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            mode |= 0o2770
            mode = mode | 0o005 if public else mode & ~0o007
        else:
            mode |= 0o060
            mode = (mode | 0o004) & ~0o002 if public else mode & ~0o007
        os.chmod(path, mode)

    for entry in sorted(course.iterdir()):
        if entry.resolve() in keep:
            continue
        public = entry.name in PUBLIC
        close(entry, public)
        if not entry.is_dir() or entry.is_symlink():
            continue
        for folder, dirs, files in os.walk(entry):  # symlinks are not followed
            dirs[:] = [d for d in dirs if d != "node_modules" and (Path(folder) / d).resolve() not in keep]
            for name in dirs + files:
                close(Path(folder) / name, public)


def prepare_exchange(settings: Settings, gid: int) -> None:
    """``<exchange>`` writable by all, as nbgrader requires of every student's command, but sticky (like /tmp): nobody
    removes or renames another's entry. ``<exchange>/<course id>`` made here, root's and the instructors' group's
    (setgid, so nbgrader's inbound/, outbound/ and feedback/ belong to that group too), so no student can take the
    course's name first; nbgrader opens inbound/ to submissions (write-only) when a lesson is released."""
    root = Path(settings.exchange)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o1777)
    course = settings.exchange_course
    course.mkdir(exist_ok=True)
    os.chown(course, 0, gid)
    os.chmod(course, 0o2775)


def install_proxy() -> None:
    if PROXY.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise HubError("npm is missing: install Node.js >= 20 and npm (Debian 13: apt-get install nodejs npm; where nodejs "
                       "comes from NodeSource, its package includes npm)")
    print("installing configurable-http-proxy into hub/node_modules (npm ci)")
    # --engine-strict: a package that does not support this Node.js stops the install instead of warning
    subprocess.run([npm, "ci", "--engine-strict", "--no-audit", "--no-fund", "--prefix", str(HUB_DIR)], check=True)


def prepare(settings: Settings) -> None:
    if os.geteuid() != 0:
        raise HubError("run it as root (sudo): JupyterHub starts each user's JupyterLab as that user, and checks "
                       "their Linux password")
    check_python_for_users(settings)
    instructors = ensure_group(settings.instructors_group)
    ensure_group(settings.students_group)
    for name in sorted(group_members(settings.students_group) | group_members(settings.instructors_group)):
        if make_home_private(name):
            print(f"made the home folder of {name} private (0700)")
    course = Path(settings.course)
    (course / ".grading").mkdir(exist_ok=True)  # nbgrader's submissions and gradebook: made private below
    environment = Path(settings.python).parent.parent  # <env>/bin/python
    secure_course(course, instructors, keep=(environment.resolve(),) if environment.is_dir() else ())
    prepare_exchange(settings, instructors)
    state = Path(settings.state)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    install_proxy()


def parse(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m hub", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, default=REPO_DIR, help="the course folder (default: this repository)")
    parser.add_argument("--python", default=str(Path(sys.prefix) / "bin" / "python"),
                        help="the course environment's Python, which users' JupyterLab and kernels run (default: this one)")
    parser.add_argument("--exchange", default="/srv/nbgrader/exchange", help="nbgrader's exchange root (default: %(default)s)")
    parser.add_argument("--state", default="/var/lib/how-networks-learn-hub",
                        help="the hub's own database and secrets, root only (default: %(default)s)")
    parser.add_argument("--students-group", default="course-students", help="default: %(default)s")
    parser.add_argument("--instructors-group", default="course-instructors", help="default: %(default)s")
    parser.add_argument("--ip", default="127.0.0.1", help="the address to serve on (default: %(default)s; see the README "
                        "before serving beyond this machine)")
    parser.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    return Settings(
        course=str(course), course_id=course_id_of(course), python=os.path.abspath(args.python),
        exchange=os.path.abspath(args.exchange), state=os.path.abspath(args.state),
        students_group=args.students_group, instructors_group=args.instructors_group,
        ip=args.ip, port=args.port, hub_port=free_port(), proxy_api_port=free_port(),
    )


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse(argv)
        prepare(settings)
    except HubError as error:
        print(f"python -m hub: {error}", file=sys.stderr)
        return 1
    print(f"class hub for {settings.course_id}: http://{settings.ip}:{settings.port}/ (Ctrl+C stops it)\n"
          f"  students: group {settings.students_group}; instructors: group {settings.instructors_group}\n"
          f"  course {settings.course}; exchange {settings.exchange_course}; environment {settings.python}", flush=True)
    environment = {**os.environ, **settings.to_environment()}
    os.chdir(settings.state)
    command = [sys.executable, "-m", "jupyterhub", "-f", str(HUB_DIR / "jupyterhub_config.py")]
    os.execve(sys.executable, command, environment)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
