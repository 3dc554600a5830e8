"""The feedback page a student receives, opened from disk in a real headless Chromium, for every lesson.

:class:`FeedbackPage` holds the checks; they run in each lesson's round-trip class (``tests/test_grading.py``),
on the cohort it grades once (``course.graded_cohort``): the pages of ``solution`` (every answer from the
source notebook) and ``wrong-1`` (every other exercise, the first included, answered with its main wrong answer
from ``tests/wrong_answers``, the others right),
made by ``nbgrader generate_feedback``. Each page is opened as a file (``file://``, as a student
opens what ``nbgrader fetch_feedback`` gave them) with every request logged and blocked, and must:

* open with a summary naming every exercise with its points, each row linking to its cell below;
* show a failed test's message (the grader's verdict) in view once its row is clicked, not folded away;
* render its maths (MathML made with the page): no ``$...$`` or ``$$`` left in the text;
* load nothing: no request but the page itself; be one file, under 300 KB without the student's images;
* never show a line of a hidden test.

Screenshots and the page sizes go to ``test-artifacts/feedback/``. Uses Playwright with Debian's Chromium,
as ``tests/test_browser.py`` does (same flags; no ``playwright install``).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from test_browser import TIMEOUT_MS, launch_chromium

import course
from grading.feedback import latex_to_mathml, slim_css, slim_highlight, trim_traceback

ARTIFACTS = course.REPO / "test-artifacts" / "feedback"
MAX_PAGE_BYTES = 300_000  # without the student's own images
WRONG = "wrong-1"  # the submission with wrong answers whose page is opened (course.wrong_submissions)
VIEWPORT = {"width": 1280, "height": 900}
_DATA_URI = re.compile(rb"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")


@dataclass
class Feedback:
    lesson: str
    pages: dict[str, Path]  # student → feedback page
    verdicts: dict[str, str]  # test cell of the wrong submission (WRONG) → the grader's one-line message
    scores: dict[str, dict[str, tuple[float, float]]]  # the gradebook: student → grade_id → (score, max)


def _verdicts(notebook: Path) -> dict[str, str]:
    """The message of every failed test cell in an autograded notebook."""
    found = {}
    for cell in course.read(notebook).cells:
        grade_id = course.nbgrader_meta(cell).get("grade_id", "")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "CheckFailed":
                found[grade_id] = output["evalue"]
    return found


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def size_without_images(page: Path) -> int:
    return len(_DATA_URI.sub(b"", page.read_bytes()))


class Opened:
    """A feedback page open in its own browser context; ``requests`` lists every request but the page's own."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.url = path.resolve().as_uri()
        self.requests: list[str] = []

        def block(route):
            if route.request.url.split("#")[0] != self.url:
                self.requests.append(route.request.url[:200])
                route.abort()
            else:
                route.continue_()

        self.context.route("**/*", block)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: r.url.split("#")[0] != self.url and self.requests.append(r.url[:200]))
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def text(self) -> str:
        return self.page.evaluate("document.body.innerText")

    def close(self):
        self.context.close()


def _in_view(page, selector: str) -> dict:
    """Where an element is: its top and bottom in the viewport, and whether a closed <details> hides it."""
    return page.evaluate(
        """(sel) => { const el = document.querySelector(sel); if (!el) return null;
            const r = el.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, height: r.height, vh: window.innerHeight,
                    folded: el.closest('details:not([open])') !== null, text: el.innerText}; }""",
        selector)


class FeedbackPage:
    """The feedback pages of one lesson: a base of each lesson's round-trip class (``tests/test_grading.py``)."""

    lesson = ""

    @pytest.fixture(scope="class")
    def feedback(self, tmp_path_factory) -> Feedback:
        """The pages of the lesson's ``solution`` and ``wrong-1`` submissions, from the cohort graded once."""
        lesson = self.lesson
        result = course.graded_cohort(lesson, tmp_path_factory)
        root = result["root"]
        assert result["feedback_run"].returncode == 0, result["feedback_run"].stderr[-3000:]
        assert "Alternative text is missing" not in result["feedback_run"].stderr, "a figure without alternative text"
        pages = {student: root / ".grading" / "feedback" / student / lesson / f"{lesson}.html" for student in ("solution", WRONG)}
        for student, page in pages.items():
            assert page.exists(), f"no feedback page for {student}"
        verdicts = _verdicts(root / ".grading" / "autograded" / WRONG / lesson / f"{lesson}.ipynb")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{lesson}-*"):
            old.unlink()
        sizes = {student: {"bytes": page.stat().st_size, "without_images": size_without_images(page)} for student, page in pages.items()}
        (ARTIFACTS / f"{lesson}-sizes.json").write_text(json.dumps(sizes, indent=2) + "\n")
        return Feedback(lesson, pages, verdicts, {s: result["scores"][s] for s in pages})

    @pytest.fixture(scope="class")
    def browser(self):
        yield from launch_chromium()

    @pytest.fixture
    def open_page(self, browser):
        opened: list[Opened] = []

        def _open(path: Path) -> Opened:
            opened.append(Opened(browser, path))
            return opened[-1]

        yield _open
        for page in opened:
            page.close()

    def test_the_summary_names_every_exercise_with_its_points(self, feedback, open_page):
        cells = course.graded_cells(self.lesson)
        for student, path in feedback.pages.items():
            opened = open_page(path)
            page = opened.page
            page.screenshot(path=str(ARTIFACTS / f"{self.lesson}-{student}-top.png"))
            rows = page.evaluate("""() => [...document.querySelectorAll('.fb-summary tr[data-exercise]')].map(tr => ({
                name: tr.dataset.exercise, text: tr.innerText, points: tr.querySelector('.fb-pts').innerText,
                href: tr.querySelector('a').getAttribute('href'), link: tr.querySelector('a').innerText,
                target: !!document.getElementById(tr.querySelector('a').getAttribute('href').slice(1)),
                below: (document.getElementById(tr.querySelector('a').getAttribute('href').slice(1)) || tr)
                         .getBoundingClientRect().top > tr.getBoundingClientRect().top}))""")
            by_name = {row["name"]: row for row in rows}
            for test, points in cells.tests.items():
                name = test.removeprefix("test_")
                assert name in by_name, f"{self.lesson}/{student}: the summary does not list {name}: {sorted(by_name)}"
                row = by_name[name]
                assert name in row["link"], f"{self.lesson}/{student}: the row of {name} reads {row['link']!r}"
                score = feedback.scores[student][test][0]
                assert row["points"].strip() == f"{score:g} / {points:g}", (
                    f"{self.lesson}/{student}: {name} scored {score:g} of {points:g} points, the summary says {row['points']!r}")
                failed = "✗" in row["text"]
                assert failed == (score < points), f"{self.lesson}/{student}: {name} scored {score:g} of {points:g}: {row['text']!r}"
            for grade_id, points in cells.written.items():
                assert grade_id in by_name, f"{self.lesson}/{student}: the summary does not list the written answer {grade_id}"
                assert by_name[grade_id]["points"].strip().endswith(f"/ {points:g}")
            # A failed test cell's code is folded under its message (the student's notebook has it too); a passed one
            # shows its verdict alone.
            tests = page.evaluate("""() => [...document.querySelectorAll('section.fb-test')].map(s => ({id: s.id,
                passed: s.classList.contains('fb-pass'), code: s.querySelectorAll('details.fb-testcode').length,
                open: [...s.querySelectorAll('details.fb-testcode')].some(d => d.open)}))""")
            assert len(tests) == len(cells.tests), f"{self.lesson}/{student}: {len(tests)} test sections for {len(cells.tests)} tests"
            for test in tests:
                assert test["code"] == (0 if test["passed"] else 1) and not test["open"], (
                    f"{self.lesson}/{student}: the test cell {test['id']} ({'passed' if test['passed'] else 'failed'}) "
                    f"shows its code {test['code']} times (open: {test['open']})")
            for row in rows:
                assert row["target"] and row["below"], f"{self.lesson}/{student}: the row of {row['name']} links nowhere ({row['href']})"
            total = sum(cells.tests.values()) + sum(cells.written.values())
            scored = sum(score for score, _ in feedback.scores[student].values())
            shown = page.locator(".fb-total").inner_text()
            assert f"{scored:g} / {total:g}" in shown, (
                f"{self.lesson}/{student}: the gradebook says {scored:g} / {total:g}, the page {shown!r}")
            waiting = [g for g in cells.written if by_name[g]["points"].strip().startswith("–")]
            assert shown.startswith("Score so far:" if waiting else "Score:"), f"{self.lesson}/{student}: {shown!r}"
            assert ("(not final: written answers worth" in shown) == bool(waiting), f"{self.lesson}/{student}: {shown!r}"

    def test_a_wrong_answers_message_is_in_view_after_clicking_its_row(self, feedback, open_page):
        wrong = {key: entry for key, entry in course.wrong_answers(self.lesson).items() if "--" not in key}
        expected = {test: feedback.verdicts[test] for entry in wrong.values() for test in entry["fails"] if test in feedback.verdicts}
        assert expected, f"{self.lesson}: no test cell of the wrong submission failed with a verdict: {feedback.verdicts}"
        opened = open_page(feedback.pages[WRONG])
        page = opened.page
        first = True
        for test, message in expected.items():
            name = test.removeprefix("test_")
            row = page.locator(f'.fb-summary tr[data-exercise="{name}"]')
            assert _squeeze(message) in _squeeze(row.inner_text()), (
                f"{self.lesson}: the summary row of {name} lacks the verdict {message!r}")
            page.evaluate("window.scrollTo(0, 0)")
            row.locator("a").click()
            page.wait_for_function(f"location.hash === '#{test}'")
            where = _in_view(page, f'[id="{test}"] .fb-message')
            assert where is not None, f"{self.lesson}: the cell of {test} shows no message"
            if first:
                page.screenshot(path=str(ARTIFACTS / f"{self.lesson}-wrong-after-click-{name}.png"))
                first = False
            assert _squeeze(message) in _squeeze(where["text"]), (
                f"{self.lesson}: {test} says {where['text']!r}, the grader said {message!r}")
            assert not where["folded"], f"{self.lesson}: the message of {test} is inside a folded block"
            assert where["height"] > 0 and 0 <= where["top"] < where["vh"], (
                f"{self.lesson}: after clicking the row of {name}, its message is not in view ({where})")
        # Tracebacks (of the student's own cells) are folded, below their error line, and end at the student's code.
        tracebacks = page.evaluate("""() => [...document.querySelectorAll('details.fb-tb')].map(d => ({
            open: d.open, text: d.querySelector('pre').textContent,
            line: (d.closest('.fb-error, .fb-test') || d).querySelector('.fb-errline, .fb-message')?.innerText || ''}))""")
        for tb in tracebacks:
            assert not tb["open"] and tb["line"], f"{self.lesson}: a traceback is open or has no error line above it: {tb}"
            frames = re.findall(r"^(Cell In\s*\[|File \S)", tb["text"], re.MULTILINE)
            assert frames and frames[-1].startswith("Cell"), f"{self.lesson}: a traceback goes past the student's code:\n{tb['text']}"

    def test_maths_is_rendered_without_the_network(self, feedback, open_page):
        for student, path in feedback.pages.items():
            opened = open_page(path)
            page = opened.page
            prose = page.evaluate("""() => { const copy = document.body.cloneNode(true);
                copy.querySelectorAll('pre, code, .highlight').forEach(e => e.remove()); return copy.innerText; }""")
            left = re.findall(r".{0,40}(?:\$\$|\$[^$\n]+\$).{0,40}", prose)
            assert not left, f"{self.lesson}/{student}: LaTeX delimiters left as text: {left[:5]}"
            assert "$$" not in opened.text(), f"{self.lesson}/{student}: '$$' in the page's text"
            shown = page.evaluate("""() => [...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().width)""")
            assert shown and min(shown) > 0, f"{self.lesson}/{student}: {len(shown)} formulas, some not rendered"
            page.locator("math[display=block]").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"{self.lesson}-{student}-maths.png"))

    def test_the_page_loads_nothing_and_is_small(self, feedback, open_page):
        for student, path in feedback.pages.items():
            folder = sorted(p.name for p in path.parent.iterdir())
            assert folder == [path.name], f"{self.lesson}/{student}: the feedback is not one file: {folder}"
            opened = open_page(path)
            opened.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            opened.page.wait_for_timeout(300)
            assert not opened.requests, f"{self.lesson}/{student}: the page made requests: {opened.requests[:10]}"
            sources = opened.page.evaluate("""() => [...document.querySelectorAll('[src], link[href]')]
                .map(e => e.getAttribute('src') || e.getAttribute('href')).filter(s => !s.startsWith('data:'))""")
            assert not sources, f"{self.lesson}/{student}: the page refers to files or URLs: {sources[:10]}"
            alts = opened.page.evaluate("() => [...document.querySelectorAll('img')].map(e => e.getAttribute('alt'))")
            assert alts and all(alt and alt.startswith("a figure drawn by this cell: ") for alt in alts), \
                f"{self.lesson}/{student}: every figure has an alternative text of its own, got {alts[:5]}"
        size = size_without_images(feedback.pages["solution"])
        assert size < MAX_PAGE_BYTES, f"{self.lesson}: the solution's page is {size} bytes without images (limit {MAX_PAGE_BYTES})"

    def test_no_hidden_test_line_is_shown(self, feedback, open_page):
        secret = course.hidden_test_lines(self.lesson)
        assert secret, f"{self.lesson} has no hidden test lines to look for"
        for student, path in feedback.pages.items():
            opened = open_page(path)
            everything = opened.page.evaluate("document.documentElement.textContent")  # folded blocks included
            source = html.unescape(path.read_text())
            shown = [line for line in secret if line in everything or line in source]
            assert not shown, f"{self.lesson}/{student}: the page shows hidden test lines: {shown[:5]}"
            assert "HIDDEN TESTS" not in source, f"{self.lesson}/{student}: the page shows the hidden-test markers"



# -- the parts of grading/feedback.py that need no browser ---------------------------------------------------
def _frame(label: str, line: str) -> str:
    return f"\x1b[36m{label}\x1b[39m\n\x1b[32m----> \x1b[39m\x1b[32m1\x1b[39m {line}\n"


def test_a_traceback_stops_at_the_students_code_and_never_shows_a_test_cells_own_frame():
    error = {
        "output_type": "error", "ename": "ValueError", "evalue": "bad shape",
        "traceback": [
            "\x1b[31m-----\x1b[39m", "\x1b[31mValueError\x1b[39m    Traceback (most recent call last)",
            _frame("Cell In[9], line 3", "check_close('secret', f(x), 42)  # the test cell"),
            _frame("Cell In[4], line 2, in f(x)", "return helper(x)"),
            _frame("File /site-packages/numpy/core.py:10, in helper(x)", "raise ValueError"),
            "\x1b[31mValueError\x1b[39m: bad shape",
        ],
    }
    trimmed = trim_traceback(error)
    text = "\n".join(trimmed["lines"])
    assert "Cell In[9]" in text and "Cell In[4]" in text and "numpy" not in text and trimmed["dropped"] == 1
    assert text.rstrip().endswith("bad shape")
    in_test_cell = trim_traceback(error, own_count=9)
    assert "secret" not in "\n".join(in_test_cell["lines"]) and "Cell In[4]" in "\n".join(in_test_cell["lines"])
    assert trim_traceback({"ename": "CheckFailed", "evalue": "x", "traceback": ["CheckFailed: x"]})["lines"] == []


def test_latex_becomes_mathml_and_a_formula_it_cannot_read_stays_readable():
    assert latex_to_mathml(r"\frac{\partial L}{\partial m}").startswith("<math")
    assert "<mtable" in latex_to_mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", "block")
    fallback = latex_to_mathml(r"\frac{1}{")
    assert "$" not in fallback and "frac" in fallback


def test_slim_highlighting_keeps_every_character_and_the_colours_of_keywords_strings_and_numbers():
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = ('check_close("loss", f"{loss!r:>8} \\n" + rb"raw", 1e-3)\nif x not in {1, None}:\n    """doc"""\n    len(self)\n'
            'hint = ("one "\n        "two")\nreturn"x"\nv = [0.5, -2, 3e4]\n')
    full = highlight(code, PythonLexer(), HtmlFormatter())
    slim = slim_highlight(full)
    text = lambda markup: html.unescape(re.sub(r"<[^>]+>", "", markup))  # noqa: E731
    assert text(slim) == text(full) and text(full).strip() == code.strip()
    assert len(slim) < len(full) / 2, f"expected the slim markup under half of {len(full)} bytes, got {len(slim)}"
    strings = re.findall(r'<span class="s">([^<]*)</span>', slim)
    assert html.unescape(strings[0]) == '"loss"' and html.unescape(strings[1]) == 'f"{', strings
    assert '<span class="s">"one "\n        "two"</span>' in slim and '<span class="k">return</span><span class="s">"x"</span>' in slim
    assert '<span class="k">if</span>' in slim and '<span class="ow">not</span>' in slim and '<span class="m">1e-3</span>' in slim
    assert '[<span class="m">0.5, -2, 3e4</span>]' in slim, slim
    assert not re.search(r'class="(?:n|p|o|w|nb|bp|s[abcdehirsx12]|m[bfhio])"', slim), slim


def test_the_pages_spans_have_unquoted_class_names_and_the_same_text():
    from grading.feedback import FeedbackExporter

    code = 'if x == 1:\n    print("<span class=\\"k\\">", 2.5)\n'
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    page, _ = FeedbackExporter().from_notebook_node(notebook, resources={"nbgrader": {}})
    area = page[page.index('<div class="jp-InputArea">'):]
    area = area[:area.index("</pre>")]
    assert '<span class="' not in area and "<span class=k>if</span>" in area and "<span class=m>2.5</span>" in area, area
    assert html.unescape(re.sub(r"<[^>]+>", "", area)).strip() == code.strip()
    rules = re.findall(r"^\.highlight \.(\w+) \{", page, re.M)
    assert {"k", "m", "s"} <= set(rules) and not {"sb", "mi", "nb", "ow"} & set(rules), rules
    assert all(f"class={name}>" in page for name in rules), rules  # each rule kept colours a span of the page


def test_slim_css_drops_comments_and_blank_lines_and_keeps_every_rule():
    css = "<style>\n/* page */\n:root { --a: #fff; } \n\n.highlight .k { color: var(--a); font-weight: bold } /* Keyword */\n</style>"
    assert slim_css(css) == "<style>\n:root { --a: #fff; }\n.highlight .k { color: var(--a); font-weight: bold }\n</style>"
    from grading.feedback import TEMPLATE_DIR, TEMPLATE_NAME

    sheet = (TEMPLATE_DIR / TEMPLATE_NAME / "feedback.css").read_text()
    rules = lambda text: re.findall(r"[^{}]+\{[^{}]*\}", re.sub(r"/\*.*?\*/", "", text, flags=re.S))  # noqa: E731
    assert [" ".join(r.split()) for r in rules(slim_css(sheet))] == [" ".join(r.split()) for r in rules(sheet)]
    assert "/*" not in slim_css(sheet) and len(slim_css(sheet)) < len(sheet)


def test_every_answer_is_titled_by_its_exercises_heading():
    from grading.feedback import META, FeedbackSummary

    def graded(source: str, grade_id: str, solution: bool) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": not solution,
                                     "locked": not solution, "points": 0 if solution else 1, "schema_version": 3}
        return cell

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### Exercise 1 · `predict` (1 point)"), graded("", "predict", True),
        graded("", "test_predict", False),
        nbformat.v4.new_markdown_cell("### Exercise 2 · `bce_gradient` and `train_logistic` (3 points)"),
        graded("", "logistic_regression", True), graded("", "helper", True), graded("", "test_logistic_regression", False),
    ])
    FeedbackSummary().preprocess(nb, {})
    titles = {cell.metadata["nbgrader"]["grade_id"]: cell.metadata[META]["title"] for cell in nb.cells if META in cell.metadata}
    assert titles["test_predict"] == "Exercise 1 · predict"
    assert titles["test_logistic_regression"] == "Exercise 2 · bce_gradient and train_logistic (logistic_regression)"
    assert titles["helper"] == "helper"   # a second answer under the same heading keeps its own name
