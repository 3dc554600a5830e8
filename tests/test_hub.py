"""The class hub end to end, with real processes: ``python -m hub`` on localhost, real Linux accounts, nbgrader's
exchange, the course's sandboxed grader, and a student driven through the hub in Debian's Chromium.

Two students and an instructor are made with ``useradd`` (so the tests must run as root; elsewhere they are skipped,
and CI runs as root). The instructor releases lesson 1; Alice logs in through the hub's login page, fetches it from the
Assignments tab and submits her (correct) answers there; Bob fetches and submits two wrong answers from the command
line, as in a terminal of his JupyterLab; the instructor collects, grades with the class command (sandboxed), makes
and releases the feedback; each student fetches theirs. Then each student tries, as the other's adversary, to list or
read the other's submission and feedback (in the exchange, in the course, in their home) and the course's solutions
and gradebook.

Everything happens in a folder of its own under /tmp (a copy of the course, the exchange, the hub's state). Users'
processes run the course environment's Python, as on a machine set up for a class: where it lies behind a folder
they cannot enter (pyenv's Python under /root, a clone in a private folder), the tests let other users pass through
that folder (o+x: no listing) and restore its mode after. One hub serves the whole module; stopping it stops the
users' servers and the proxy; the users, groups and folders are removed after.
A screenshot of every browser step and the hub's log go to ``test-artifacts/hub/``.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from test_browser import TIMEOUT_MS, launch_chromium

from course import REPO, graded_cells, main_wrong_answers, read, scores, source_notebook

pytestmark = [pytest.mark.xdist_group("hub")]

LESSON = "01_gradient_descent"
ARTIFACTS = REPO / "test-artifacts" / "hub"
SLOW_MS = 180_000  # a user's JupyterLab starting, or nbgrader fetching and submitting, on a loaded 2-core machine
PREFIX = "hnltest"
STUDENTS, INSTRUCTORS = f"{PREFIX}-students", f"{PREFIX}-teachers"
ALICE, BOB, TEACHER = f"{PREFIX}-alice", f"{PREFIX}-bob", f"{PREFIX}-teacher"
# Bob's two mistakes: each must cost exactly its own exercise's test cell.
BOB_WRONG = ("predict", "mse")

if sys.platform != "linux" or os.geteuid() != 0:
    pytest.skip("the class hub's tests make Linux accounts and start JupyterHub as root (CI runs as root)",
                allow_module_level=True)

sys.path.insert(0, str(REPO))  # the hub's package, hub/, at the repository's root
from hub import Settings, unreachable_by_others, user_environment  # noqa: E402


# -- the machine: accounts, a course, the users' Python -----------------------------------------------------------
@dataclass
class Machine:
    work: Path  # everything of this test: /tmp/course-hub-*
    course: Path
    exchange: Path
    python: Path  # the Python users' servers run
    passwords: dict[str, str]

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)


def _pids_of(user: str) -> list[int]:
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def _remove_accounts() -> None:
    """Remove the test's accounts and groups (left over by an interrupted run, or after this one): their processes
    first, by id, then the accounts with their homes."""
    for user in (ALICE, BOB, TEACHER):
        deadline = time.monotonic() + 20
        while (pids := _pids_of(user)) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            subprocess.run(["userdel", "--remove", user], capture_output=True, check=False)
    for group in (STUDENTS, INSTRUCTORS):
        subprocess.run(["groupdel", group], capture_output=True, check=False)


def _open_the_way(paths: list[Path], opened: list[tuple[Path, int]]) -> None:
    """Let other users pass through (not list) the folders on the way to ``paths`` (pyenv's Python under /root, a
    clone in a private folder); ``opened`` records each folder and its mode, restored after the tests."""
    for path in paths:
        while (blocked := unreachable_by_others(path)) is not None:
            mode = stat.S_IMODE(blocked.stat().st_mode)
            opened.append((blocked, mode))
            os.chmod(blocked, mode | stat.S_IXOTH)
            print(f"\nlet other users pass through {blocked} (mode {mode:o}) for these tests")


def _course_copy(course: Path) -> None:
    """A clone of the course as an instructor keeps it for the hub: lesson 1's solution and student copy, the grader,
    the helpers and the data (the course environment stays where it is)."""
    course.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "MNIST")
    for folder in ("solutions", "notebooks"):
        shutil.copytree(REPO / folder / LESSON, course / folder / LESSON, ignore=ignore)
    for folder in ("grading", "helpers", "data"):
        shutil.copytree(REPO / folder, course / folder, ignore=ignore)


@pytest.fixture(scope="module")
def machine():
    if shutil.which("useradd") is None or shutil.which("npm") is None:
        pytest.fail("the class hub's test needs useradd (passwd) and npm (apt-get install nodejs npm)", pytrace=False)
    _remove_accounts()
    work = Path(tempfile.mkdtemp(prefix="course-hub-", dir="/tmp"))
    work.chmod(0o755)
    opened: list[tuple[Path, int]] = []
    try:
        for group in (STUDENTS, INSTRUCTORS):
            subprocess.run(["groupadd", group], check=True)
        passwords = {}
        # Homes as Debian's useradd makes them (0755): the hub must make them private.
        for user, group in ((ALICE, STUDENTS), (BOB, STUDENTS), (TEACHER, INSTRUCTORS)):
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, user], check=True)
            passwords[user] = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input="".join(f"{u}:{p}\n" for u, p in passwords.items()), text=True, check=True)
        # Users run the course environment's Python and packages (the editable install's helpers) and read the roles'
        # configuration: as on a machine set up for a class, where the environment is made from a Python they can run.
        python = Path(sys.prefix) / "bin" / "python"
        _open_the_way([python, Path(sysconfig.get_paths()["purelib"]), REPO / "helpers", REPO / "hub" / "roles"], opened)
        course = work / "course"
        _course_copy(course)
        yield Machine(work=work, course=course, exchange=work / "exchange", python=python, passwords=passwords)
    finally:
        _remove_accounts()
        for folder, mode in reversed(opened):
            with contextlib.suppress(OSError):
                os.chmod(folder, mode)
        if os.environ.get("COURSE_HUB_TEST_KEEP"):  # to look into a failure: the course, exchange and hub's state
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# -- the hub ------------------------------------------------------------------------------------------------------
@dataclass
class Hub:
    url: str
    settings: Settings
    started_in: float  # seconds from the command to a hub that answers


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def hub(machine):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "hub", "--course", str(machine.course), "--python", str(machine.python),
               "--exchange", str(machine.exchange), "--state", str(machine.work / "state"), "--port", str(port),
               "--students-group", STUDENTS, "--instructors-group", INSTRUCTORS]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("COURSE_", "JUPYTER"))}
    log_path = ARTIFACTS / "hub.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                pytest.fail(f"python -m hub exited with {process.returncode}; see {log_path}:\n{log_path.read_text()[-4000:]}")
            with contextlib.suppress(OSError):
                if _status(f"{url}/hub/api") == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"the hub did not answer within 300 s; see {log_path}:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        started_in = time.monotonic() - started
        print(f"\nthe class hub answered {started_in:.1f} s after `python -m hub`")
        settings = Settings(
            course=str(machine.course), course_id="learning-by-gradients", python=str(machine.python),
            exchange=str(machine.exchange), state=str(machine.work / "state"), students_group=STUDENTS,
            instructors_group=INSTRUCTORS, ip="127.0.0.1", port=port, hub_port=0, proxy_api_port=0)
        yield Hub(url=url, settings=settings, started_in=started_in)
    finally:
        # JupyterHub stops every user's server and the proxy when it is told to stop.
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        proxy_pid = machine.work / "state" / "jupyterhub-proxy.pid"
        if proxy_pid.exists():
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                os.kill(int(proxy_pid.read_text().strip()), signal.SIGTERM)


def run_as(user: str, role: str, hub: Hub, args: list[str], cwd: Path | None = None, timeout: float = 900,
           check: bool = True, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command as ``user`` with the environment the hub gives their JupyterLab (a terminal in it)."""
    entry = pwd.getpwnam(user)

    def demote():
        os.setgroups(os.getgrouplist(user, entry.pw_gid))
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    env = {**user_environment(role, hub.settings, entry.pw_dir), "USER": user, "LOGNAME": user, "PYTHONHASHSEED": "0",
           **(extra_env or {})}
    result = subprocess.run(args, cwd=cwd or entry.pw_dir, env=env, preexec_fn=demote, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"as {user}: {' '.join(map(str, args))} exited with {result.returncode}:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def nbgrader_as(user: str, role: str, hub: Hub, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return run_as(user, role, hub, [hub.settings.python, "-m", "nbgrader", *args], **kwargs)


# -- the browser --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


class Steps:
    """Named browser steps, each with a screenshot (``test-artifacts/hub/NN_who_step.png``), failing with its name."""

    count = 0

    def __init__(self, page, who: str):
        self.page, self.who = page, who

    @contextlib.contextmanager
    def __call__(self, name: str):
        from playwright.sync_api import Error as PlaywrightError

        Steps.count += 1
        shot = ARTIFACTS / f"{Steps.count:02d}_{self.who}_{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}.png"
        failure = None
        try:
            yield
        except (PlaywrightError, AssertionError) as error:
            failure = error
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(shot))
        if failure is not None:
            text = str(failure).strip() or type(failure).__name__
            raise AssertionError(f"step '{name}' failed: {text.splitlines()[0][:300]}\n(screenshot: {shot})\n{text[:2000]}") from None


def log_in(browser, hub: Hub, machine: Machine, user: str):
    """A browser of the user's own: the hub's login page, then their JupyterLab (started by the hub)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    step = Steps(page, user.removeprefix(f"{PREFIX}-"))
    with step("log in on the hub's login page"):
        page.goto(f"{hub.url}/hub/login")
        page.locator("#username_input").fill(user)
        page.locator("#password_input").fill(machine.passwords[user])
        page.locator("#login_submit").click()
    with step("the hub starts their JupyterLab"):
        page.wait_for_url(re.compile(rf"/user/{re.escape(user)}/lab"), timeout=SLOW_MS)
        page.locator(".jp-DirListing-content").wait_for(timeout=SLOW_MS)
    return context, page, step


# In the user's JupyterLab page: open a terminal (Jupyter Server's REST API, with the page's cookies) and type into it
# over its websocket; returns what the terminal printed, up to the marker (typed as END""MARK, printed as ENDMARK).
TERMINAL = """async (base) => {
    const xsrf = (document.cookie.split('; ').find(c => c.startsWith('_xsrf=')) || '').slice(6);
    const created = await fetch(base + 'api/terminals', {method: 'POST', headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
    if (!created.ok) return 'POST api/terminals: ' + created.status;
    const name = (await created.json()).name;
    return await new Promise((resolve) => {
        const ws = new WebSocket(base.replace(/^http/, 'ws') + 'terminals/websocket/' + name);
        let out = '';
        const timer = setTimeout(() => { ws.close(); resolve(out); }, 60000);
        ws.onopen = () => ws.send(JSON.stringify(
            ['stdin', 'command -v python; python -c "import helpers; print(helpers.__file__)"; echo END""MARK\\r']));
        ws.onmessage = (event) => {
            const [kind, text] = JSON.parse(event.data);
            if (kind === 'stdout') out += text;
            if (out.includes('ENDMARK')) { clearTimeout(timer); ws.close(); resolve(out); }
        };
        ws.onerror = () => { clearTimeout(timer); resolve(out + ' [websocket error]'); };
    });
}"""


def nbgrader_menu_items(page) -> list[str]:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    menu = page.locator(".lm-Menu").last
    menu.wait_for()
    items = [text.strip() for text in menu.locator(".lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel").all_inner_texts()]
    page.keyboard.press("Escape")
    return [item for item in items if item]


# -- the tests ----------------------------------------------------------------------------------------------------
def test_the_hub_starts_with_one_command_and_closes_the_course_to_students(hub, machine):
    assert hub.started_in < 120, f"the hub took {hub.started_in:.0f} s to answer"
    for user in (ALICE, BOB, TEACHER):
        mode = stat.S_IMODE(machine.home(user).stat().st_mode)
        assert mode & 0o077 == 0, f"{user}'s home is {mode:o}: other users can read it"
    course_mode = stat.S_IMODE(machine.course.stat().st_mode)
    assert course_mode & 0o007 == 0o001, f"the course folder is {course_mode:o}: others may pass through it, no more"
    for private in ("solutions", "grading", "nbgrader_config.py", ".grading"):
        mode = stat.S_IMODE((machine.course / private).stat().st_mode)
        assert mode & 0o007 == 0, f"the course's {private} is {mode:o}: students must not read it"
    exchange_course = machine.exchange / "learning-by-gradients"
    assert (exchange_course.stat().st_uid, exchange_course.stat().st_gid) == (0, grp.getgrnam(INSTRUCTORS).gr_gid)
    assert stat.S_IMODE(exchange_course.stat().st_mode) == 0o2775
    # nbgrader requires every user to be able to write the exchange's root; sticky, so no one renames another's entry.
    assert stat.S_IMODE(machine.exchange.stat().st_mode) == 0o1777


def test_a_student_sees_assignments_and_validate_the_instructor_every_nbgrader_tool(hub, machine, browser):
    from playwright.sync_api import expect

    context, page, step = log_in(browser, hub, machine, BOB)
    try:
        with step("the Nbgrader menu offers the Assignment List only"):
            items = nbgrader_menu_items(page)
            assert "Assignment List" in items, items
            for hidden in ("Formgrader", "Formgrader (local)", "Course List", "Create assignment"):
                assert hidden not in items, f"a student's Nbgrader menu offers {hidden}: {items}"
        with step("no Create Assignment sidebar, and the formgrader's pages answer 404"):
            expect(page.locator('.lm-TabBar-tab[data-id="nbgrader-create_assignemnt"]')).to_have_count(0)
            assert page.request.get(f"{hub.url}/user/{BOB}/formgrader").status == 404
            assert page.request.get(f"{hub.url}/user/{BOB}/formgrader/api/assignments").status == 404
        with step("a notebook has the Validate button"):
            page.locator(".jp-LauncherCard", has_text=re.compile(r"Python 3")).first.click()
            expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar .validate-button")).to_be_visible(timeout=SLOW_MS)
        with step("a terminal of their JupyterLab runs the course's Python and imports the helpers"):
            # JupyterLab's terminals run bash as a non-login shell: a login shell's /etc/profile would reset PATH
            out = page.evaluate(TERMINAL, f"{hub.url}/user/{BOB}/")
            assert "ENDMARK" in out, f"the terminal did not answer within 60 s: {out[-1000:]!r}"
            assert f"{hub.settings.python_bin}/python" in out, f"a terminal's python is not the course's: {out[-1000:]!r}"
            assert "helpers/__init__.py" in out, f"a terminal's python cannot import the helpers: {out[-1000:]!r}"
    finally:
        context.close()

    nbgrader_as(TEACHER, "instructor", hub, "generate_assignment", LESSON, "--force", cwd=machine.course)
    context, page, step = log_in(browser, hub, machine, TEACHER)
    try:
        with step("the instructor's Nbgrader menu offers every tool"):
            items = nbgrader_menu_items(page)
            for tool in ("Assignment List", "Course List", "Formgrader", "Create assignment"):
                assert tool in items, f"the instructor's Nbgrader menu lacks {tool}: {items}"
            expect(page.locator('.lm-TabBar-tab[data-id="nbgrader-create_assignemnt"]')).to_have_count(1)
        with step("the instructor's JupyterLab opens in the course folder"):
            expect(page.locator(".jp-DirListing-itemText", has_text=re.compile(r"^solutions$"))).to_have_count(1)
        with step("the formgrader, in a browser tab of its own, lists the lesson"):
            # Inside JupyterLab its panel stays blank: JupyterHub >= 4.1 forbids framing a user's pages
            # (Content-Security-Policy: frame-ancestors 'none'), so the README says to open it in a tab.
            response = page.goto(f"{hub.url}/user/{TEACHER}/formgrader/manage_assignments")
            assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
            expect(page.locator("body")).to_contain_text("Manage Assignments")
            expect(page.locator("tr", has_text=LESSON).first).to_be_visible()
    finally:
        context.close()


def _answered(notebook: Path, wrong: dict[str, str] | None = None) -> nbformat.NotebookNode:
    from course import fill_answers

    return fill_answers(read(notebook), read(source_notebook(LESSON)), replace=wrong)


def _write_as(user: str, path: Path, nb) -> None:
    nbformat.write(nb, str(path))
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


ADVERSARY = r"""
import glob, json, os, sys
targets = json.loads(sys.argv[1])
results = {}
for name, (kind, path) in targets.items():
    try:
        if kind == "list":
            results[name] = "listed: " + ", ".join(sorted(os.listdir(path)))
        elif kind == "glob":
            found = glob.glob(path)
            results[name] = ("found: " + ", ".join(found)) if found else "nothing"
        else:
            with open(path, "rb") as f:
                results[name] = f"read {len(f.read())} bytes"
    except OSError as error:
        results[name] = type(error).__name__
print(json.dumps(results))
"""


FORGE = r"""
import os, shutil, sys
folder, notebook, timestamp = sys.argv[1:]
os.mkdir(folder)
shutil.copy(notebook, folder)
with open(os.path.join(folder, "timestamp.txt"), "w") as f:
    f.write(timestamp)
"""

RESUBMIT = r"""
import shutil, sys
source, folder, timestamp = sys.argv[1:]
shutil.copytree(source, folder)
with open(folder + "/timestamp.txt", "w") as f:
    f.write(timestamp)
"""
REPLACE = r"""
import os, shutil, sys
target, notebook = sys.argv[1:]
os.remove(target)
shutil.copy(notebook, target)
"""


def test_release_fetch_submit_collect_grade_feedback_and_no_student_reads_another(hub, machine, browser):
    from playwright.sync_api import expect

    timings = {}
    course = machine.course
    started = time.monotonic()
    nbgrader_as(TEACHER, "instructor", hub, "generate_assignment", LESSON, "--force", cwd=course)
    nbgrader_as(TEACHER, "instructor", hub, "release_assignment", LESSON, "--force", cwd=course)
    timings["release"] = time.monotonic() - started

    # Alice, in her browser through the hub: the Assignments tab, Fetch, (her answers), Submit.
    started = time.monotonic()
    context, page, step = log_in(browser, hub, machine, ALICE)
    try:
        with step("open the Assignments tab: the lesson is released"):
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Assignment List$")).click()
            released = page.locator("#released_assignments_list .list_item", has_text=LESSON)
            expect(released).to_have_count(1, timeout=SLOW_MS)
        with step("fetch the lesson"):
            released.locator("button", has_text="Fetch").click()
            fetched = page.locator("#fetched_assignments_list .list_item", has_text=LESSON).first
            expect(fetched).to_be_visible(timeout=SLOW_MS)
            notebook = machine.home(ALICE) / LESSON / f"{LESSON}.ipynb"
            assert notebook.is_file(), f"Fetch put nothing at {notebook}"
        # Her work: every exercise answered as the solution does (typing it all in would only take longer).
        _write_as(ALICE, notebook, _answered(notebook))
        with step("submit the lesson"):
            fetched.locator("button", has_text="Submit").click()
            submitted = page.locator("#submitted_assignments_list .list_item", has_text=LESSON).first
            expect(submitted).to_be_visible(timeout=SLOW_MS)
    finally:
        context.close()
    timings["alice in the browser"] = time.monotonic() - started

    # Bob, in a terminal of his JupyterLab: fetch, two wrong answers, submit.
    started = time.monotonic()
    nbgrader_as(BOB, "student", hub, "fetch_assignment", LESSON)
    bob_notebook = machine.home(BOB) / LESSON / f"{LESSON}.ipynb"
    wrong = {exercise: main_wrong_answers(LESSON)[exercise] for exercise in BOB_WRONG}
    _write_as(BOB, bob_notebook, _answered(bob_notebook, wrong))
    nbgrader_as(BOB, "student", hub, "submit", LESSON)
    timings["bob on the command line"] = time.monotonic() - started
    # Bob also drops a later "submission" in Alice's name (every student can write inbound/): his wrong answers.
    exchange = machine.exchange / "learning-by-gradients"
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    forged = exchange / "inbound" / f"{ALICE}+{LESSON}+{later}+forged"
    run_as(BOB, "student", hub, [hub.settings.python, "-c", FORGE, str(forged), str(bob_notebook), later])
    # Alice had handed in the same answers an hour earlier (a copy of her submission, with that time); Bob, who
    # learnt the name of her latest submission's folder (nbgrader makes it writable by all), puts his notebook in it.
    earlier = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (alice_latest,) = [p for p in (exchange / "inbound").glob(f"{ALICE}+{LESSON}+*") if p != forged]
    alice_earlier = exchange / "inbound" / f"{ALICE}+{LESSON}+{earlier}+earlier"
    run_as(ALICE, "student", hub, [hub.settings.python, "-c", RESUBMIT, str(alice_latest), str(alice_earlier), earlier])
    run_as(BOB, "student", hub, [hub.settings.python, "-c", REPLACE, str(alice_latest / f"{LESSON}.ipynb"), str(bob_notebook)])

    # The instructor: collect, grade with the class command in the sandbox, feedback, release it.
    started = time.monotonic()
    collect = nbgrader_as(TEACHER, "instructor", hub, "collect", LESSON, cwd=course)
    collected = sorted(p.name for p in (course / ".grading" / "submitted").iterdir())
    assert collected == sorted([ALICE, BOB]), collected
    for left_out in (forged, alice_latest):
        assert f"Leaving out {left_out.name}: it names {ALICE} but it or a file in it belongs to {BOB}" in collect.stderr, \
            collect.stderr[-3000:]
    assert (course / ".grading" / "submitted" / ALICE / LESSON / "timestamp.txt").read_text().strip() == earlier
    grading = run_as(TEACHER, "instructor", hub, [hub.settings.python, "-m", "grading", LESSON, "-j", "2"], cwd=course,
                     extra_env={"COURSE_GRADING_SANDBOX": "require"})
    assert "UNSANDBOXED" not in grading.stdout, grading.stdout[-3000:]
    timings["grading"] = time.monotonic() - started
    started = time.monotonic()
    nbgrader_as(TEACHER, "instructor", hub, "generate_feedback", LESSON, cwd=course)
    nbgrader_as(TEACHER, "instructor", hub, "release_feedback", LESSON, cwd=course)
    for student in (ALICE, BOB):
        nbgrader_as(student, "student", hub, "fetch_feedback", LESSON)
    timings["feedback"] = time.monotonic() - started
    print("\n" + ", ".join(f"{name}: {seconds:.0f} s" for name, seconds in timings.items()))

    # The grades: Alice full marks, Bob loses exactly his two exercises' test cells.
    tests = graded_cells(LESSON).tests
    grades = scores(course, LESSON)
    for student, lost in ((ALICE, set()), (BOB, {f"test_{exercise}" for exercise in BOB_WRONG})):
        got_lost = {cell for cell in tests if grades[student][cell][0] < grades[student][cell][1]}
        assert got_lost == lost, f"{student} lost {sorted(got_lost)}, expected {sorted(lost)}"

    # Each student fetched their own feedback page, and only theirs.
    fetched_pages = {}
    for student in (ALICE, BOB):
        pages = glob.glob(str(machine.home(student) / LESSON / "feedback" / "*" / f"{LESSON}.html"))
        assert len(pages) == 1, f"{student} fetched {pages}"
        fetched_pages[student] = Path(pages[0])
        made = course / ".grading" / "feedback" / student / LESSON / f"{LESSON}.html"
        assert fetched_pages[student].read_bytes() == made.read_bytes(), f"{student} fetched another page than theirs"
    assert fetched_pages[ALICE].read_bytes() != fetched_pages[BOB].read_bytes()

    # Each student, as the other's adversary.
    for attacker, victim in ((BOB, ALICE), (ALICE, BOB)):
        timestamp = (course / ".grading" / "submitted" / victim / LESSON / "timestamp.txt").read_text().strip()
        victim_home = machine.home(victim)
        targets = {
            "list the exchange's inbound": ("list", exchange / "inbound"),
            "find the victim's submissions in inbound": ("glob", exchange / "inbound" / f"{victim}+*"),
            # nbgrader#978: submission folders were named <student>+<lesson>+<timestamp>: known to the second,
            # guessable. They now end in 72 random bits; the exact timestamp alone finds nothing.
            "open the victim's submission by its timestamp": ("read", exchange / "inbound" / f"{victim}+{LESSON}+{timestamp}"),
            "list the exchange's feedback": ("list", exchange / "feedback"),
            "list the victim's home": ("list", victim_home),
            "read the victim's fetched notebook": ("read", victim_home / LESSON / f"{LESSON}.ipynb"),
            "read the victim's fetched feedback": ("read", fetched_pages[victim]),
            "list the course folder": ("list", course),
            "read the course's solution": ("read", course / "solutions" / LESSON / f"{LESSON}.ipynb"),
            "list the course's .grading": ("list", course / ".grading"),
            "read the victim's collected submission": ("read", course / ".grading" / "submitted" / victim / LESSON / f"{LESSON}.ipynb"),
            "read the victim's feedback in the course": ("read", course / ".grading" / "feedback" / victim / LESSON / f"{LESSON}.html"),
            "read the gradebook": ("read", course / ".grading" / "gradebook.db"),
        }
        result = run_as(attacker, "student", hub, [hub.settings.python, "-c", ADVERSARY,
                                                   json.dumps({k: (kind, str(p)) for k, (kind, p) in targets.items()})])
        outcomes = json.loads(result.stdout)
        print(f"{attacker} against {victim}: " + "; ".join(f"{name}: {outcome}" for name, outcome in outcomes.items()))
        leaks = {name: outcome for name, outcome in outcomes.items()
                 if outcome not in ("PermissionError", "FileNotFoundError", "nothing")}
        assert not leaks, f"{attacker} reached {victim}'s work: {leaks}"
    # What a student may read: the released lesson.
    released = run_as(BOB, "student", hub, [hub.settings.python, "-c", ADVERSARY,
                                            json.dumps({"outbound": ("read", str(exchange / "outbound" / LESSON / f"{LESSON}.ipynb"))})])
    assert json.loads(released.stdout)["outbound"].startswith("read "), released.stdout
