"""The feedback page a student receives: a summary of every exercise and written answer, then their notebook.

``nbgrader generate_feedback`` renders each autograded notebook to one self-contained HTML file with the
preprocessors and exporter named in ``nbgrader_config.py``:

* :class:`HideHiddenTests` removes the hidden-test region of every test cell. The autograded notebook keeps
  the full test cells (the instructor's formgrader shows them); the page shows a hidden test only by the
  grader's verdict (:mod:`grading.judge`), which names a failed hidden test and its hint, never its code or
  its expected values.
* :class:`FeedbackSummary` reads each graded cell (scores and comments come from nbgrader's ``GetGrades``)
  and collects what the summary table at the top of the page says: every exercise with its points and, when
  it failed, the grader's one-line message; every written answer with the grader's score and comment.
* :class:`FeedbackExporter` renders the page with the course's slim template
  (``grading/feedback_template/course_feedback``): no CDN script, font or stylesheet, maths converted from
  LaTeX to MathML when the page is made (so it renders offline, with no script), tracebacks folded and cut
  at the student's own code. A Content-Security-Policy keeps the page from loading anything, whatever a
  student's outputs hold.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

from jinja2 import pass_context
from latex2mathml.converter import convert as _latex2mathml
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import List
from traitlets.config import Config

from .course import full_name

__all__ = [
    "TEMPLATE_DIR",
    "TEMPLATE_NAME",
    "FeedbackExporter",
    "FeedbackSummary",
    "HideHiddenTests",
    "latex_to_mathml",
    "markdown_to_html",
    "slim_css",
    "slim_highlight",
    "trim_traceback",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "feedback_template"
TEMPLATE_NAME = "course_feedback"
META = "course_feedback"  # the cell metadata key FeedbackSummary fills and the template reads
NO_RESPONSE = "No response."  # nbgrader's automatic comment on an answer cell left as it was given

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A traceback entry that is one frame of the student's notebook (IPython 8+, and older IPython's forms).
_NOTEBOOK_FRAME = re.compile(r"^\s*(?:Cell In\s*\[(?P<count>\d*)\]|Input In \[(?P<count2>\d*)\]|<ipython-input-(?P<count3>\d+)-)")
_ANY_FRAME = re.compile(r"^\s*(?:Cell In\s*\[|Input In \[|<ipython-input-|File \S)")
_POINTS_SUFFIX = re.compile(r"\s*\((?:[^()]*\bpoints?\b[^()]*)\)\s*$", re.IGNORECASE)


# nbconvert's HTMLExporter configures every preprocessor's display_data_priority; accept it (as GetGrades
# does) rather than warn about it on every page.
_DISPLAY_PRIORITY = ["text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]


class HideHiddenTests(ClearHiddenTests):
    """Remove the hidden-test region of every test cell; leave the student's own cells as they wrote them."""

    display_data_priority = List(_DISPLAY_PRIORITY).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if utils.is_grade(cell) and not utils.is_solution(cell):
            self._remove_hidden_test_region(cell)
        return cell, resources


# -- maths ---------------------------------------------------------------------------------------------------
# latex2mathml knows ``align*`` (rows, right/left columns) but not ``aligned``, which is the same table.
_ALIGNED = re.compile(r"\\(begin|end)\{(aligned|align|alignat\*?|eqnarray\*?|split|gather\*?|gathered)\}")


def latex_to_mathml(tex: str, display: str = "inline") -> str:
    """MathML for one formula (``display`` "inline" or "block"); the LaTeX itself, as code, if it cannot be
    converted. Either way no ``$`` delimiter is left for a script to find, and none is needed."""
    source = _ALIGNED.sub(lambda m: f"\\{m.group(1)}{{align*}}", tex.strip())
    try:
        mathml = _latex2mathml(source, display=display)
    except Exception:  # an unsupported macro or a typo in a student's written answer
        return f'<code class="fb-tex">{html.escape(tex.strip())}</code>'
    # latex2mathml leaves a bare "&" where a table has an empty cell; an HTML parser reads it fine, but escape it.
    mathml = re.sub(r"&(?![#A-Za-z0-9]+;)", "&amp;", mathml)
    return mathml.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with every formula written as MathML instead of left for MathJax."""

    def inline_math(self, body: str) -> str:
        return latex_to_mathml(body, "inline")

    def block_math(self, body: str) -> str:
        return latex_to_mathml(body, "block")

    def latex_environment(self, name: str, body: str) -> str:
        return latex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")

    def multiline_math(self, text: str) -> str:  # only reached with mistune 2
        return latex_to_mathml(text.strip().strip("$"), "block")


def markdown_to_html(source: str, **renderer_options) -> str:
    """Markdown to HTML as nbconvert renders it, with maths as MathML."""
    renderer_options.setdefault("escape", False)
    return MarkdownWithMath(renderer=MathMLRenderer(**renderer_options)).render(source)


# Pygments wraps every name, bracket and operator in a span of its own: half of a lesson's page. Those, built-in
# names (len, float, self) included, are shown in the text colour; keywords, strings, numbers and comments keep theirs.
_PLAIN_TOKENS = re.compile(r'<span class="(?:n|p|o|w|nb|bp)">([^<]*)</span>')
# Every kind of string token (prefix, quotes, escapes, f-string braces) has the string colour: one span will do.
_STRING_TOKEN = re.compile(r'<span class="s[abcdehirsx12]?">')
# Every kind of number (integer, float, hex, ...) has the number colour of the generic class m.
_NUMBER_TOKEN = re.compile(r'<span class="m[bfhio]">')
# Strings next to each other, or with only spaces and line breaks between them (a hint written over several
# lines), share one span as well: spaces have no colour.
_STRING_RUN = re.compile(r'<span class="s">(?:[^<]|</span>\s*<span class="s">)*</span>')
_STRING_JOIN = re.compile(r'</span>(\s*)<span class="s">')
# Numbers with only commas, spaces and minus signs between them (a list of expected values) share one span too: the
# separators take the number colour, and a lesson's page is some 6 KB smaller.
_NUMBER_RUN = re.compile(r'<span class="m">[^<]*</span>(?:, ?-?<span class="m">[^<]*</span>)+')
_NUMBER_JOIN = re.compile(r'</span>(, ?-?)<span class="m">')
# A span's class name of letters and digits needs no quotes (HTML5): two bytes less for each of the few thousand spans
# of a page. Done on the whole page, since nbconvert parses and writes the page again after its template.
_QUOTED_CLASS = re.compile(r'<span class="(\w+)">')
_CLASS_ATTRIBUTE = re.compile(r'class=(?:"([^"]*)"|(\w+))')
_HIGHLIGHT_RULE = re.compile(r"^\.highlight \.(\w+) \{[^{}\n]*\}\n", re.M)


def drop_unused_highlight_rules(page: str) -> str:
    """The page without the stylesheet's rules for highlighting classes (``.highlight .sb {...}``) that no element
    of the page has: Pygments' sheet names every token type, the slim markup uses a few."""
    used = {name for quoted, bare in _CLASS_ATTRIBUTE.findall(page) for name in (quoted or bare).split()}
    return _HIGHLIGHT_RULE.sub(lambda rule: rule.group() if rule.group(1) in used else "", page)


def slim_highlight(highlighted: str) -> str:
    """Highlighted code without the spans that only mark names, punctuation, operators and spaces, and with
    each run of string tokens (``f``, ``"...``, ``{``, ``}``), and of strings with only spaces between them, in one
    span; numbers of every kind in the generic number class ``m``, and each run of numbers separated only by
    commas, spaces and minus signs in one span."""
    slim = _PLAIN_TOKENS.sub(r"\1", str(highlighted)).replace("<pre><span></span>", "<pre>", 1)
    slim = _NUMBER_TOKEN.sub('<span class="m">', _STRING_TOKEN.sub('<span class="s">', slim))
    slim = _STRING_RUN.sub(lambda run: _STRING_JOIN.sub(r"\1", run.group()), slim)
    return _NUMBER_RUN.sub(lambda run: _NUMBER_JOIN.sub(r"\1", run.group()), slim)


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.M)
_BLANK_LINES = re.compile(r"\n{2,}")


def slim_css(css: str) -> str:
    """A stylesheet (or ``<style>`` element) without its comments, trailing spaces and empty lines: every page
    carries two, and Pygments' names each rule in a comment."""
    without_comments = _TRAILING_SPACE.sub("", _CSS_COMMENT.sub("", str(css)))
    return _BLANK_LINES.sub("\n", without_comments)


# -- tracebacks ----------------------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def trim_traceback(output, own_count=None) -> dict:
    """The part of an error output's traceback a student needs: up to the last frame in their own code.

    Returns ``{"lines": [...], "dropped": n}``: the header, the frames up to and including the last frame of
    a notebook cell, and the error line; ``dropped`` frames (inside libraries, after the student's code)
    are left out. ``own_count`` is the execution count of a test cell: its own frames are left out too, since
    they would show the test cell's code as it ran, hidden tests included. ``lines`` is empty when there is
    no frame to show (the error line alone says it all).
    """
    entries = [str(entry) for entry in output.get("traceback", []) or []]
    if not entries:
        return {"lines": [], "dropped": 0}
    *body, last = entries
    if not _plain(last).lstrip().startswith(str(output.get("ename", "")) or "\0"):
        body, last = entries, ""
    frames = [i for i, entry in enumerate(body) if _ANY_FRAME.match(_plain(entry))]
    if not frames:
        return {"lines": [], "dropped": 0}
    header = body[:frames[0]]
    kept, dropped = [], 0

    def own(entry: str) -> bool:
        match = _NOTEBOOK_FRAME.match(_plain(entry))
        if not match:
            return False
        count = match.group("count") or match.group("count2") or match.group("count3")
        return own_count is None or count != str(own_count)

    last_own = max((i for i in frames if own(body[i])), default=None)
    for position, i in enumerate(frames):
        end = frames[position + 1] if position + 1 < len(frames) else len(body)
        entry = "\n".join(body[i:end])
        test_frame = own_count is not None and _NOTEBOOK_FRAME.match(_plain(body[i])) and not own(body[i])
        if test_frame or (last_own is not None and i > last_own):
            dropped += 1
            continue
        kept.append(entry)
    if not kept:
        return {"lines": [], "dropped": dropped}
    return {"lines": [*header, *kept, *([last] if last else [])], "dropped": dropped}


# -- the summary ---------------------------------------------------------------------------------------------
def _number(value) -> str:
    """2.0 → "2", 1.5 → "1.5"."""
    if value is None:
        return "0"
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _heading(source: str) -> str | None:
    """The last Markdown heading of a cell, as plain text."""
    found = None
    for line in source.splitlines():
        match = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            found = match.group(1)
    if found is None:
        return None
    text = re.sub(r"`|\*\*?(?=\S)|(?<=\S)\*\*?", "", found)
    return _POINTS_SUFFIX.sub("", text).strip() or None


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _test_outcome(cell) -> dict:
    """The grader's message for a test cell, and what else its outputs hold (notes, a traceback)."""
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    streams = [o for o in outputs if o.get("output_type") == "stream"]
    by_name = {o.get("ename"): o for o in reversed(errors)}
    notes, message, error, ename = [], "", None, ""
    if "CheckFailed" in by_name:
        ename, message = "CheckFailed", str(by_name["CheckFailed"].get("evalue", ""))
    elif "KernelRestarted" in by_name:
        ename = "KernelRestarted"
        message = f"Your code stopped the grader's kernel: {by_name['KernelRestarted'].get('evalue', '')}"
    elif errors:  # graded without the course's grader: an ordinary error from the test cell
        error = errors[0]
        ename = str(error.get("ename", "Error"))
        message = f"{ename}: {error.get('evalue', '')}".rstrip(": ")
    verdict = next((o for o in streams if re.search(r"\bchecks? passed\b", str(o.get("text", "")))), None)
    if not message and verdict is not None:
        message = _first_line(verdict.get("text", ""))
    for stream in streams:
        if stream is not verdict:
            notes.extend(line for line in str(stream.get("text", "")).splitlines() if line.strip())
    if not message and streams:
        message = _first_line(streams[-1].get("text", ""))
    traceback = trim_traceback(error, cell.get("execution_count")) if error is not None else {"lines": [], "dropped": 0}
    # One line, as the summary shows it: a 2-D array in a verdict comes with numpy's line breaks.
    message = re.sub(r"\s*\n\s*", " ", message).strip()
    return {"message": message, "ename": ename, "notes": notes, "traceback": traceback}


def _manual_state(resources, grade_ids: list[str]) -> dict[str, str]:
    """For manually graded cells: "ungraded" when no grader has scored it yet, "blank" when the answer was
    left as released (nbgrader scores it 0 by itself). Nothing when the gradebook cannot be read."""
    info = resources.get("nbgrader", {}) if resources else {}
    if not grade_ids or not all(info.get(key) for key in ("db_url", "notebook", "assignment", "student")):
        return {}
    from nbgrader.api import Gradebook, MissingEntry

    states = {}
    try:
        with Gradebook(info["db_url"]) as gradebook:
            for grade_id in grade_ids:
                try:
                    grade = gradebook.find_grade(grade_id, info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    continue
                if grade.manual_score is None and grade.needs_manual_grade:
                    states[grade_id] = "ungraded"
                elif grade.manual_score is None and grade.auto_score is not None:
                    states[grade_id] = "blank"
    except Exception:  # the page is still worth making without this detail
        return states
    return states


def _student_name(resources) -> str:
    """The student's first and last name as the gradebook has them (from the roster); "" when it has none."""
    info = resources.get("nbgrader", {}) if resources else {}
    if not (info.get("db_url") and info.get("student")):
        return ""
    from nbgrader.api import Gradebook

    try:
        with Gradebook(info["db_url"]) as gradebook:
            student = gradebook.find_student(info["student"])
            return full_name(student.first_name, student.last_name)
    except Exception:  # no such student, or no gradebook: the page is still worth making without the name
        return ""


class FeedbackSummary(NbGraderPreprocessor):
    """Collect the page's summary into ``resources["feedback"]`` and what each graded cell shows into its
    metadata (``course_feedback``). Runs after ``GetGrades`` (scores, comments) and :class:`HideHiddenTests`."""

    display_data_priority = List(_DISPLAY_PRIORITY).tag(config=True)

    def preprocess(self, nb, resources):
        exercises, written, others = [], [], []
        titles: dict[str, str] = {}  # answer grade_id → its exercise's heading
        comments: dict[str, str] = {}  # answer grade_id → the grader's comment on it
        last_heading = None
        manual = [c.metadata["nbgrader"].get("grade_id", "") for c in nb.cells
                  if utils.is_grade(c) and (utils.is_solution(c) or utils.is_task(c))]
        states = _manual_state(resources, manual)

        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id", "")
            is_test = utils.is_grade(cell) and not utils.is_solution(cell) and not utils.is_task(cell)
            is_written = (utils.is_grade(cell) and utils.is_solution(cell)) or utils.is_task(cell)
            comment = str(meta.get("comment") or "").strip()
            info: dict = {}
            if is_test:
                name = grade_id.removeprefix("test_")
                outcome = _test_outcome(cell)
                score, points = meta.get("score"), meta.get("points")
                passed = score is not None and points is not None and float(score) >= float(points)
                info = {"kind": "test", "name": name, "title": titles.get(name, name), "anchor": grade_id,
                        "score": _number(score), "points": _number(points), "passed": passed,
                        "comment": comments.get(name, ""), **outcome}
                if not passed and not info["message"]:
                    info["message"] = "no points for this test"
                exercises.append(info)
            elif is_written:
                title = last_heading or grade_id
                state = states.get(grade_id, "")
                info = {"kind": "written", "name": grade_id, "title": title, "anchor": grade_id,
                        "score": _number(meta.get("score")), "points": _number(meta.get("points")),
                        "state": state, "comment": comment}
                written.append(info)
            elif utils.is_solution(cell):
                # the heading above it if it names this answer; an exercise's heading that names its functions
                # otherwise (with the answer's id, which the gradebook uses), unless another answer took it
                if last_heading and grade_id in last_heading:
                    title = last_heading
                elif last_heading and last_heading.startswith("Exercise") and not any(
                        t.startswith(last_heading) for t in titles.values()):
                    title = f"{last_heading} ({grade_id})"
                else:
                    title = grade_id
                titles[grade_id] = title
                info = {"kind": "answer", "name": grade_id, "title": title, "anchor": grade_id, "comment": comment}
                # nbgrader's own comment on code left as given ("No response."): the exercise's row already says its
                # tests did not run, and why
                if comment and comment != NO_RESPONSE:
                    comments[grade_id] = comment
            if cell.cell_type == "markdown" and not utils.is_solution(cell):
                last_heading = _heading(cell.source) or last_heading
            if info:
                cell.metadata[META] = info

        tested = {row["name"] for row in exercises}
        for cell in nb.cells:
            info = cell.metadata.get(META, {})
            if info.get("kind") == "answer" and info["comment"] and info["name"] not in tested:
                others.append(info)
        grades = resources.get("nbgrader", {}) if resources else {}
        late = float(grades.get("late_penalty") or 0)
        waiting = sum(float(row["points"]) for row in written if row["state"] == "ungraded")
        resources["feedback"] = {
            "student_name": _student_name(resources),  # beside the id, which a Moodle student never sees
            "waiting_points": _number(waiting) if waiting else "",  # written answers' points not graded yet
            "exercises": exercises, "written": written, "other_comments": others,
            "score": _number(grades.get("score")), "max_score": _number(grades.get("max_score")),
            "late_penalty": _number(late) if late else "",
            # the grading this page shows, for tools that must tell a current page from an earlier one (lms-feedback)
            "shows": f"score={float(grades.get('score') or 0)!r} waiting="
                     + ",".join(sorted(row["name"] for row in written if row["state"] == "ungraded")),
        }
        return nb, resources


# -- the exporter --------------------------------------------------------------------------------------------
class FeedbackExporter(HTMLExporter):
    """HTMLExporter with the course's feedback template and maths as MathML; set as
    ``GenerateFeedback.exporter_class``. The template is fixed here, not by ``HTMLExporter.template_name``,
    which nbgrader sets to its own "feedback" template (the formgrader's *Generate Feedback* button too)."""

    def __init__(self, config=None, **kwargs):
        parent = kwargs.get("parent")
        merged = copy.deepcopy(config if config is not None else getattr(parent, "config", None) or Config())
        ours = Config()
        ours.FeedbackExporter.template_name = TEMPLATE_NAME
        ours.FeedbackExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
        ours.FeedbackExporter.embed_images = True  # a written answer's local image goes into the page, not beside it
        ours.FeedbackExporter.exclude_anchor_links = True  # no "¶" link after each heading: the page never showed them
        merged.merge(ours)
        super().__init__(config=merged, **kwargs)

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        return markdown_to_html(
            source, attachments=cell.get("attachments", {}), embed_images=self.embed_images, path=path,
            anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)

    def from_notebook_node(self, nb, resources=None, **kw):
        page, resources = super().from_notebook_node(nb, resources, **kw)
        return drop_unused_highlight_rules(_QUOTED_CLASS.sub(r"<span class=\1>", page)), resources

    def default_filters(self):
        yield from super().default_filters()
        yield ("trim_traceback", trim_traceback)
        yield ("slim_highlight", slim_highlight)
        yield ("slim_css", slim_css)
