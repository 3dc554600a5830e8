"""The student's JupyterLab and the instructor's formgrader, driven end to end in a real headless Chromium.

A JupyterLab server from this environment serves a temporary copy of the course (nothing in the repository
changes); Playwright drives Debian's Chromium (``/usr/bin/chromium``, or ``$COURSE_CHROMIUM``) through what a
student and an instructor do. Every step saves a screenshot to ``test-artifacts/browser/`` and the server's
log goes next to them. Needs ``pip install playwright`` (no ``playwright install``: the system's Chromium is
used) and ``apt-get install chromium``; without them these tests fail and say so.

All tests here share one server and one browser, so xdist must keep this module on one worker: the suite
runs with ``--dist loadscope`` (one module, one worker); the ``xdist_group`` mark does the same under
``--dist loadgroup``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course import REPO, graded_cells, nbgrader_meta, solution_source

pytestmark = [pytest.mark.xdist_group("browser")]

LESSON = "01_gradient_descent"
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless Chromium on a machine without a GPU, a sandbox for it or a network beyond loopback.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage",
]
TIMEOUT_MS = 30_000  # any single wait in the browser
KERNEL_TIMEOUT_MS = 120_000  # a wait for cells to run or for nbgrader to validate (a loaded 2-core CI machine)
# The answers a student who has done exercises 1 to 5 (not 6) has typed: the explorer needs them.
ANSWERED = ["predict", "mse", "gradients", "gradient_descent", "loss_surface"]
INSTALL_HINT = (
    "The browser tests need Playwright's Python package and Debian's Chromium: "
    "`pip install -e '.[dev]'` (or `pip install playwright`; do not run `playwright install`) and "
    "`apt-get install chromium` (or set COURSE_CHROMIUM to a Chromium/Chrome binary)."
)


# -- the server ------------------------------------------------------------------------------------------
@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the temporary course

    def at(self, path: str) -> str:
        return f"{self.url}/{path.lstrip('/')}?token={self.token}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answered_copy(notebook: Path, target: Path) -> None:
    """The student notebook with exercises 1 to 5 answered (as the solution does) and exercise 6 left alone."""
    source = nbformat.read(REPO / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    solutions = {nbgrader_meta(c).get("grade_id"): c.source for c in source.cells}
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in ANSWERED:
            cell.source = solution_source(solutions[grade_id])
    nbformat.write(nb, target)


def _course_copy(root: Path, env: dict[str, str]) -> None:
    for name in ("notebooks", "solutions"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    # The formgrader lists what the gradebook holds: release the lesson as an instructor would.
    released = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", LESSON, "--force"],
                              cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert released.returncode == 0, f"nbgrader generate_assignment failed:\n{released.stdout}\n{released.stderr}"
    folder = root / "notebooks" / LESSON
    _answered_copy(folder / f"{LESSON}.ipynb", folder / f"{LESSON}_answered.ipynb")


def _get(url: str, timeout: float = 5.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("browser")
    root, home = tmp / "course", tmp / "jupyter"
    root.mkdir()
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),  # nbgrader runs `alembic` from here
        # A fresh user configuration: no settings, workspaces or open tabs from the person running the tests.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
    }
    for variable in ("NBGRADER_EXECUTION", "COURSE_STATIC_EXPLORERS", "MPLBACKEND"):  # as in a student's JupyterLab
        env.pop(variable, None)
    # Every cell rendered with its editor (JupyterLab otherwise builds off-screen cells' editors only when
    # they are scrolled to), so that cells can be found by their source.
    tracker = home / "lab-settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # No "get Jupyter news?" pop-up over the notebook.
    (home / "config" / "labconfig").mkdir(parents=True)
    (home / "config" / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    _course_copy(root, env)

    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.getuid() == 0:
        command.append("--allow-root")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "jupyter-server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        the_lab = Lab(f"http://127.0.0.1:{port}", token, root)
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited with code {server.returncode} before it served; see {log_path}:\n"
                            + log_path.read_text()[-3000:])
            with contextlib.suppress(OSError):
                if _get(the_lab.at("api/status")) == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer within 90 s; see {log_path}:\n" + log_path.read_text()[-3000:])
            time.sleep(0.5)
        yield the_lab
    finally:
        # Ask the server to shut its kernels down and stop; then make sure it has.
        with contextlib.suppress(Exception):
            request = urllib.request.Request(f"{the_lab.url}/api/shutdown", method="POST",
                                             headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(request, timeout=10).close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# -- the browser -----------------------------------------------------------------------------------------
def launch_chromium():
    """Yield Debian's Chromium, headless, driven by Playwright (no ``playwright install``); closed after. Fails the
    test with what to install when Playwright or Chromium is missing. The browser fixtures of every module use it."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed. " + INSTALL_HINT, pytrace=False)
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}. " + INSTALL_HINT, pytrace=False)
    expect.set_options(timeout=TIMEOUT_MS)  # expect()'s own default is 5 s: too short on a loaded CI machine
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser():
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    yield from launch_chromium()


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


class Steps:
    """Named steps with a screenshot each (``NN_test_step.png``), failing with the step's name and screenshot."""

    count = 0

    def __init__(self, page, test: str):
        self.page, self.test = page, test

    @contextlib.contextmanager
    def __call__(self, name: str):
        from playwright.sync_api import Error as PlaywrightError

        Steps.count += 1
        shot = ARTIFACTS / f"{Steps.count:02d}_{self.test}_{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}.png"
        failure = None
        try:
            yield
        except (PlaywrightError, AssertionError) as error:
            failure = error
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(shot))
        if failure is not None:
            text = str(failure).strip() or type(failure).__name__
            detail = text if len(text) < 2000 else text[:2000] + " [...]"
            raise AssertionError(f"step '{name}' failed: {text.splitlines()[0][:300]}\n(screenshot: {shot})\n{detail}") from None


def open_lab(context, lab: Lab, workspace: str):
    """A new tab with JupyterLab in a workspace of its own (so it does not restore another test's tabs)."""
    page = context.new_page()
    page.goto(lab.at(f"lab/workspaces/{workspace}"))
    page.locator(".jp-DirListing-content").wait_for()
    return page


def open_from_file_browser(page, *names: str) -> None:
    page.locator(".jp-BreadCrumbs-home").click()  # from the top of the course
    for name in names:
        label = page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$"))
        item = page.locator(".jp-DirListing-item").filter(has=label)
        item.dblclick()
    # Ready when the status bar says the notebook's kernel is idle (the toolbar's indicator says so too early).
    kernel_status = page.locator(".jp-StatusBar-Widget").get_by_text(re.compile(r"^Python 3 \(ipykernel\) \| Idle$"))
    kernel_status.wait_for(timeout=KERNEL_TIMEOUT_MS)


def notebook(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def code_cell(page, containing: str):
    """The code cell whose source contains ``containing``."""
    cells = notebook(page).locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=containing))
    return cells.first


def menu(page, *labels: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).click()
    for label in labels[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()


def type_into(page, cell, source: str) -> None:
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(source)


def run_cell_and_next(page, cell) -> None:
    """Run ``cell`` and the cell after it (the exercise's tests), as a student does with Shift+Enter twice."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")


def outputs(cell):
    return cell.locator(".jp-OutputArea-output")


def wait_for_new_src(image, before: str, timeout_ms: int = KERNEL_TIMEOUT_MS) -> str:
    """Wait until ``image`` shows another picture than ``before``; fail saying so (not with two data URLs)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        src = image.get_attribute("src") if image.count() == 1 else None
        if src and src != before:
            return src
        time.sleep(0.25)
    raise AssertionError(f"the plot was not redrawn within {timeout_ms / 1000:.0f} s: its image is still the same "
                         f"{len(before) * 3 // 4 // 1024} kB PNG")


def answer_source(grade_id: str) -> str:
    for cell in nbformat.read(REPO / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4).cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return solution_source(cell.source)
    raise KeyError(grade_id)


@pytest.fixture(scope="module")
def answered_page(context, lab):
    """The lesson with exercises 1 to 5 answered, opened from the file browser and run top to bottom."""
    from playwright.sync_api import expect

    page = open_lab(context, lab, "answered")
    step = Steps(page, "answered")
    with step("open the answered lesson"):
        open_from_file_browser(page, "notebooks", LESSON, f"{LESSON}_answered.ipynb")
    with step("run all cells"):
        menu(page, "Run", "Run All Cells")
        # Run All stops at the first error: the tests of exercise 6, which is not answered.
        stopped = code_cell(page, "# Tests for largest_stable_lr")
        expect(outputs(stopped).filter(has_text="NotImplementedError")).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
    yield page
    page.close()


# -- the student -----------------------------------------------------------------------------------------
def test_student_sees_a_failing_test_then_a_passing_one_after_typing_an_answer(context, lab):
    from playwright.sync_api import expect

    page = open_lab(context, lab, "student")
    step = Steps(page, "student")
    with step("open the lesson from the file browser"):
        open_from_file_browser(page, "notebooks", LESSON, f"{LESSON}.ipynb")
        expect(notebook(page).locator(".jp-MarkdownCell").first).to_contain_text("Gradient descent by hand")
    with step("run all cells: the first exercise's test fails"):
        menu(page, "Run", "Run All Cells")
        tests = code_cell(page, "# Tests for predict")
        expect(outputs(tests).filter(has_text="NotImplementedError")).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
        tests.scroll_into_view_if_needed()
    with step("a plot is rendered as an image"):
        plot = code_cell(page, "plot_fit(X, Y, m, c")
        plot.scroll_into_view_if_needed()
        image = outputs(plot).locator("img")
        expect(image).to_have_count(1)
        assert image.get_attribute("src").startswith("data:image/png;base64,"), image.get_attribute("src")[:80]
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth") > 100, "the plot's image has no pixels"
    answer = code_cell(page, "def predict(x, m, c):")
    with step("a wrong answer: the test says what it expected and what it got"):
        wrong = answer_source("predict").replace("return m * np.asarray(x, dtype=float) + c", "return m * np.asarray(x, dtype=float)")
        assert wrong != answer_source("predict")
        type_into(page, answer, wrong)
        run_cell_and_next(page, answer)
        message = outputs(tests).filter(has_text="CheckFailed")
        expect(message).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
        # the message is wrapped to 80 columns, so "expected" and "got" may be on different lines
        expected_got = r"predict\(np\.array\(\[1\.0, 2\.0\]\), m=2\.0, c=1\.0\): expected \[3\., 5\.\][\s\S]*got \[2\., 4\.\]"
        expect(message).to_contain_text(re.compile(expected_got))
        expect(message).to_contain_text("Hint: the line is m * x + c")
    with step("the right answer: visible tests passed"):
        type_into(page, answer, answer_source("predict"))
        run_cell_and_next(page, answer)
        expect(outputs(tests)).to_have_text(re.compile(r"^\s*predict: visible tests passed\s*$"), timeout=KERNEL_TIMEOUT_MS)
        tests.scroll_into_view_if_needed()
    page.close()


def test_student_moves_the_explorer_slider_and_the_plot_changes(answered_page):
    from playwright.sync_api import expect

    page, step = answered_page, Steps(answered_page, "explorer")
    explorer = notebook(page).locator(".course-explorer")
    with step("the explorer shows sliders and a plot"):
        explorer.scroll_into_view_if_needed()
        expect(explorer).to_be_visible()
        image = explorer.locator(".jp-OutputArea-output img")
        expect(image).to_have_count(1)
        expect(image).to_be_visible()
        before = image.get_attribute("src")
        assert before.startswith("data:image/png;base64,")
        lr = explorer.locator(".widget-hslider").filter(has_text="learning rate")
        readout = lr.locator(".widget-readout")
        assert float(readout.inner_text()) == pytest.approx(0.01), readout.inner_text()
    with step("drag the learning-rate slider: the plot is redrawn"):
        handle, track = lr.locator(".noUi-handle"), lr.locator(".noUi-target")
        box, track_box = handle.bounding_box(), track.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - track_box["width"] / 3, y, steps=8)  # one decade down: about 0.001
        page.mouse.up()
        expect(readout).not_to_have_text("0.0100")
        after = wait_for_new_src(image, before)
        assert after.startswith("data:image/png;base64,")
        assert float(readout.inner_text()) < 0.005, f"the slider moved to {readout.inner_text()}, not about 0.001"
        expect(explorer.locator(".widget-html")).to_contain_text("after 100 epochs")


def test_student_validates_with_the_nbgrader_button_and_reads_the_verdict(answered_page):
    from playwright.sync_api import expect

    page, step = answered_page, Steps(answered_page, "validate")
    with step("click Validate in the notebook toolbar"):
        button = notebook(page).locator(".jp-Toolbar .validate-button")
        expect(button).to_be_visible()
        button.click()
    with step("the verdict names the exercise still to do, and only that one"):
        dialog = page.locator(".jp-Dialog")
        expect(dialog.locator(".jp-Dialog-header")).to_have_text("Validation Results", timeout=KERNEL_TIMEOUT_MS)
        verdict = dialog.locator("#validation-message")
        expect(verdict).to_contain_text("The following cell failed:")
        expect(verdict).to_contain_text("# Tests for largest_stable_lr")
        expect(verdict).to_contain_text("NotImplementedError")
        text = verdict.inner_text()
        for done in ANSWERED:
            assert f"# Tests for {done}:" not in text, f"the verdict says exercise {done} failed, but it is answered:\n{text}"
    with step("close the verdict"):
        dialog.locator(".jp-Dialog-button", has_text="Ok").click()
        expect(dialog).to_have_count(0)


# -- the instructor --------------------------------------------------------------------------------------
def test_instructor_finds_the_lesson_in_the_formgrader(context, lab):
    from playwright.sync_api import expect

    page = open_lab(context, lab, "instructor")
    step = Steps(page, "instructor")
    with step("open Nbgrader, Formgrader"):
        menu(page, "Nbgrader", "Formgrader")
        frame = page.frame_locator("iframe[src*='formgrader']")
    with step("the lesson is listed under Manage Assignments"):
        expect(frame.locator("body")).to_contain_text("Manage Assignments")
        expect(frame.locator("tr", has_text=LESSON).first).to_be_visible()
    with step("Manual Grading lists the lesson with its points from the gradebook"):
        frame.get_by_role("link", name="Manual Grading").click()
        row = frame.locator("tbody tr").filter(has_text=LESSON)
        expect(row).to_have_count(1)
        # Its points come from the gradebook, where generate_assignment recorded every graded cell.
        cells = graded_cells(LESSON)
        points = sum(cells.tests.values()) + sum(cells.written.values())
        expect(row.locator("td").last).to_have_text(f"0 / {points:g}")
    page.close()
