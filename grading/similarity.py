"""Similar answers in a class: ``python -m grading.similarity LESSON [--submissions DIR]``.

After a lesson is graded (``python -m grading LESSON`` calls :func:`class_report`), every student's answer
cells are compared with every other student's, and with the reference solution's, exercise by exercise.
The report, ``similarity.html`` and ``similarity.csv`` in ``.grading/reports/<lesson>/``, lists the pairs of
students whose answers are unusually alike and the students whose answers are close to the reference
solution, with the matching passages side by side. It says "similar": a high score is a reason to look,
not a proof.

Only the students' own code counts. From each answer cell the grader removes comments, docstrings, blank
lines and every line of the released template (the stub and the lines of the released answer cell, e.g.
``def predict(x, m, c):`` and ``raise NotImplementedError()``); code that appears in the released
notebook's other cells does not count either. The rest is compared with copydetect
(https://github.com/blingenf/copydetect), the winnowing algorithm of MOSS: the code is tokenised and every
name becomes ``V`` (``F`` for a function being defined), every string ``S``, so renamed variables,
changed comments and blank lines do not hide a passage, and the fingerprints are a set of k-grams, so
reordered functions do not either.

Scores (0 to 1):

* a pair of students: the share of the two students' own code (in tokens, both counted) that lies in
  passages they share, the passages that both share with the reference solution left out (those count
  under the reference);
* a student and the reference solution: the share of the student's own code in passages that match it.

A line is reported when its score is at least ``threshold`` (default 0.5) and each side's matching
passages hold at least ``min_shared`` tokens (default 60, about four lines of code): a few short lines
are alike in most correct answers.
"""

from __future__ import annotations

import argparse
import copy
import csv
import html
import io
import json
import keyword
import sys
import textwrap
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage

from .course import course_folders

__all__ = [
    "CSV_COLUMNS", "REFERENCE", "Match", "Similarity", "SimilarityReport", "answer_cells", "class_report", "compare_class",
    "main", "own_code", "report", "write_csv", "write_html",
]

#: The name under which the reference solution appears in the report.
REFERENCE = "reference solution"
#: How a line of the released template kept for context starts in the code shown (a comment: not compared).
RELEASED = "# released: "
#: The columns of ``similarity.csv``, in order.
CSV_COLUMNS = ["kind", "student", "other", "score", "student_share", "other_share", "exercises", "reported", "note"]
#: copydetect's defaults: a passage must hold at least NOISE tokens to count (after names became V, F, ...),
#: and every passage of GUARANTEE tokens is found (window = GUARANTEE - NOISE + 1).
NOISE, GUARANTEE = 25, 25
#: An answer cell is compared on its first MAX_ANSWER characters (the longest answer cell of the course holds 2,000).
MAX_ANSWER = 20_000


# ---- the students' own code ------------------------------------------------------------------------------
def _cells(notebook: dict):
    """``(cell_type, nbgrader metadata, source)`` of every cell, whatever shape a submitted notebook has."""
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        meta = meta.get("nbgrader") if isinstance(meta, dict) else None
        source = cell.get("source", "")
        source = "".join(map(str, source)) if isinstance(source, list) else str(source)
        yield cell.get("cell_type"), meta if isinstance(meta, dict) else {}, source[:MAX_ANSWER]


def answer_cells(notebook: dict) -> dict[str, str]:
    """``{grade_id: source}`` of a notebook's code answer cells (nbgrader ``solution`` cells)."""
    return {str(meta["grade_id"]): source for kind, meta, source in _cells(notebook)
            if kind == "code" and meta.get("solution") and meta.get("grade_id")}


def _code_cells(notebook: dict) -> list[str]:
    """Sources of a notebook's code cells that are not answer cells (the lesson's code and its test cells)."""
    return [source for kind, meta, source in _cells(notebook) if kind == "code" and not meta.get("solution")]


def _without_comments_and_docstrings(source: str) -> str:
    """``source`` with its comments and statement strings (docstrings) blanked, found with Python's tokenizer.

    Source that does not tokenize (a syntax error) is returned as it is: copydetect's own tokenizer drops
    its comments, and its strings become ``S``.
    """
    lines = source.splitlines(keepends=True)
    starts = np.cumsum([0] + [len(line) for line in lines])
    blank: list[tuple[int, int]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return source
    layout = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT}
    previous = tokenize.NEWLINE
    for index, token in enumerate(tokens):
        following = next((t.type for t in tokens[index + 1:] if t.type != tokenize.COMMENT), tokenize.ENDMARKER)
        statement_string = (token.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
                            and following in (tokenize.NEWLINE, tokenize.ENDMARKER))
        if token.type == tokenize.COMMENT or statement_string:
            (row0, col0), (row1, col1) = token.start, token.end
            blank.append((starts[row0 - 1] + col0, starts[row1 - 1] + col1))
        if token.type not in layout:
            previous = token.type
        elif token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            previous = token.type
    out = source
    for begin, end in reversed(blank):
        out = out[:begin] + "".join(c if c == "\n" else " " for c in out[begin:end]) + out[end:]
    return out


def _line_key(line: str) -> tuple[str, ...] | str:
    """A line, to compare with the template's lines: its tokens (spacing aside), and in a ``def`` line the
    parameters' names as ``V`` (a student may rename them: ``def predict(sizes, slope, intercept):``)."""
    text = line.strip()
    try:
        tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return text
    if tokens[:1] != ["def"]:
        return tuple(tokens)
    return tuple("V" if i > 1 and t.isidentifier() and not keyword.iskeyword(t) else t for i, t in enumerate(tokens))


def own_code(answer: str, template: str = "") -> str:
    """The student's own code in an answer cell: without comments, docstrings, blank lines and the lines of
    the released ``template`` (the answer cell as released: signature, docstring, stub), dedented.

    A line is the template's when its tokens are, names aside (a student may rename the parameters). A
    template line that opens a block (``def predict(x, m, c):``) stays, as a comment that says so, to show
    where the code belongs: comments are not compared.
    """
    template_lines = {_line_key(line) for line in _without_comments_and_docstrings(template).splitlines()}
    kept = []
    for line in _without_comments_and_docstrings(answer).splitlines():
        if _line_key(line) in template_lines:
            if line.rstrip().endswith(":"):
                kept.append(line.replace(line.lstrip(), f"{RELEASED}{line.strip()}"))
        elif line.strip():
            kept.append(line.rstrip())
    return textwrap.dedent("\n".join(kept))


# ---- fingerprints and comparisons ------------------------------------------------------------------------
def _fingerprint(code: str) -> CodeFingerprint:
    """copydetect's fingerprint of ``code`` (a Python answer)."""
    return CodeFingerprint("answer.py", NOISE, GUARANTEE - NOISE + 1, filter=True, language="python", fp=io.StringIO(code))


def _without(fp: CodeFingerprint, boilerplate: set[int]) -> CodeFingerprint:
    """A copy of ``fp`` without the hashes in ``boilerplate`` (what counts for no one).

    The boilerplate is removed here rather than by copydetect, whose removal (``np.intersect1d`` with
    ``assume_unique``) also drops one of two identical k-grams of the same answer.
    """
    if fp.hashes.isdisjoint(boilerplate):
        return fp
    kept = copy.copy(fp)
    kept.hashes = fp.hashes - boilerplate
    kept.hash_idx = {h: i for h, i in fp.hash_idx.items() if h not in boilerplate}
    kept.token_coverage = get_token_coverage(kept.hash_idx, fp.k, len(fp.filtered_code))
    return kept


@dataclass
class Match:
    """The matching passages of one exercise: each side's code and its ``(start, end)`` character ranges."""

    exercise: str
    student_code: str
    other_code: str
    student_passages: list[tuple[int, int]]  # whole lines
    other_passages: list[tuple[int, int]]
    student_tokens: float  # tokens of the student's answer in the passages
    other_tokens: float
    student_share: float  # share of the student's own code (this exercise) in the passages
    other_share: float


@dataclass
class Similarity:
    """One line of the report: a pair of students, or a student and the reference solution."""

    student: str
    other: str  # a student, or REFERENCE
    score: float
    student_share: float  # share of the student's own code (all exercises) in matching passages
    other_share: float
    matches: list[Match] = field(default_factory=list)
    reported: bool = False
    note: str = ""
    identical: list[str] = field(default_factory=list)  # exercises answered with the same code to the character

    @property
    def exercises(self) -> list[str]:
        """The exercises with a matching passage, then those answered identically without one."""
        matched = [m.exercise for m in self.matches]
        return matched + [e for e in self.identical if e not in matched]


@dataclass
class SimilarityReport:
    lesson: str
    students: list[str]  # the students compared
    pairs: list[Similarity]  # every pair that shares a passage, highest score first
    reference: list[Similarity]  # every student with a passage like the reference solution, highest first
    not_compared: dict[str, str]  # student -> why
    threshold: float
    min_shared: int
    exercises: list[str]
    folder: Path | None = None

    @property
    def reported_pairs(self) -> list[Similarity]:
        return [s for s in self.pairs if s.reported]

    @property
    def reported_reference(self) -> list[Similarity]:
        return [s for s in self.reference if s.reported]


def _passages(code: str, slices) -> list[tuple[int, int]]:
    """copydetect's matching slices of ``code`` as ``(start, end)`` ranges of whole lines, merged."""
    slices = np.asarray(slices)
    lines: list[tuple[int, int]] = []
    for start, end in (zip(slices[0], slices[1]) if slices.size else ()):
        start = code.rfind("\n", 0, max(0, int(start))) + 1
        end = code.find("\n", max(start, int(end) - 1))
        end = len(code) if end < 0 else end
        if lines and start <= lines[-1][1] + 1:
            lines[-1] = (lines[-1][0], max(end, lines[-1][1]))
        else:
            lines.append((start, end))
    return lines


def _compare(exercise: str, a_code: str, a: CodeFingerprint, b_code: str, b: CodeFingerprint,
             a_size: float, b_size: float) -> Match | None:
    """The passages that two answers to ``exercise`` share; shares are of ``a_size`` and ``b_size`` tokens."""
    if not a.hashes or not b.hashes or a.hashes.isdisjoint(b.hashes):
        return None
    _, (share_a, share_b), (slices_a, slices_b) = compare_files(a, b)
    if share_a == 0 and share_b == 0:
        return None
    tokens_a, tokens_b = float(share_a * a.token_coverage), float(share_b * b.token_coverage)
    return Match(exercise, a_code, b_code, _passages(a_code, slices_a), _passages(b_code, slices_b),
                 tokens_a, tokens_b, tokens_a / max(1.0, a_size), tokens_b / max(1.0, b_size))


def _load(path: Path) -> dict:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("no cells")
    return notebook


def compare_class(answers: dict[str, dict[str, str]], templates: dict[str, str], reference: dict[str, str],
                  lesson_code: list[str] = (), threshold: float = 0.5, min_shared: int = 60) -> tuple[list, list]:
    """Compare every pair of students and every student with the reference solution.

    Parameters
    ----------
    answers : {student: {exercise: answer cell source}}
    templates : {exercise: the answer cell as released}
    reference : {exercise: the reference solution's answer cell (markers included or not)}
    lesson_code : the sources of the released notebook's other code cells (lesson and test cells)
    threshold, min_shared : see the module's docstring

    Returns
    -------
    (pairs, reference) : two lists of :class:`Similarity`, highest score first
    """
    exercises = list(templates)
    # Code in the released notebook outside the answer cells counts for no one.
    lesson = set().union(*(_fingerprint(code).hashes for code in lesson_code)) if lesson_code else set()
    solution_code = {e: own_code(_strip_markers(reference.get(e, "")), templates[e]) for e in exercises}
    solution_fp = {e: _without(_fingerprint(solution_code[e]), lesson) for e in exercises}

    code = {s: {e: own_code(cells.get(e, ""), templates[e]) for e in exercises} for s, cells in answers.items()}
    blank = {e: own_code(templates[e], templates[e]) for e in exercises}  # an answer cell left as released
    # Answers with the same code (stubs, answers shared whole) share one fingerprint, and one comparison below.
    to_reference, to_students, known = {}, {}, {}
    for s in answers:
        to_reference[s], to_students[s] = {}, {}
        for e in exercises:
            if (e, code[s][e]) not in known:
                # with the reference solution: only the lesson's code left out
                fp = _without(_fingerprint(code[s][e]), lesson)
                # between students: what they share with the reference solution is counted there, not between them
                known[e, code[s][e]] = fp, _without(fp, solution_fp[e].hashes)
            to_reference[s][e], to_students[s][e] = known[e, code[s][e]]

    # A student's own code, in tokens (what their fingerprints cover): the denominator of every share.
    size = {s: {e: float(to_reference[s][e].token_coverage) for e in exercises} for s in answers}
    own = {s: sum(size[s].values()) for s in answers}
    reference_size = {e: float(solution_fp[e].token_coverage) for e in exercises}

    reference_lines = []
    for s in answers:
        matches = [m for e in exercises if (m := _compare(e, code[s][e], to_reference[s][e], solution_code[e], solution_fp[e],
                                                          size[s][e], reference_size[e]))]
        shared = sum(m.student_tokens for m in matches)
        if matches and own[s]:
            score = shared / own[s]
            reported = score >= threshold and shared >= min_shared
            other_share = sum(m.other_tokens for m in matches) / max(1, sum(reference_size.values()))
            reference_lines.append(Similarity(s, REFERENCE, score, score, other_share, matches, reported))
    similar_to_reference = {line.student for line in reference_lines if line.reported}

    pairs = []
    students = sorted(answers)
    compared: dict[tuple[int, int], Match | None] = {}

    def compare(e: str, a: str, b: str) -> Match | None:
        key = (id(to_students[a][e]), id(to_students[b][e]))
        if key not in compared:
            compared[key] = _compare(e, code[a][e], to_students[a][e], code[b][e], to_students[b][e], size[a][e], size[b][e])
        return compared[key]

    for i, a in enumerate(students):
        for b in students[i + 1:]:
            matches = [m for e in exercises if (m := compare(e, a, b))]
            # answers the same to the character: whatever they share with the reference solution, a reason to look
            identical = [e for e in exercises if code[a][e] not in ("", blank[e]) and code[a][e] == code[b][e]]
            if not matches and not identical:
                continue
            shared_a = sum(m.student_tokens for m in matches)
            shared_b = sum(m.other_tokens for m in matches)
            score = (shared_a + shared_b) / max(1, own[a] + own[b])
            reported = score >= threshold and min(shared_a, shared_b) >= min_shared
            notes = []
            if identical:
                answered = [e for e in exercises if {code[a][e], code[b][e]} - {"", blank[e]}]
                whole = identical == answered
                notes.append(("identical code in every exercise either answered" if whole
                              else f"identical code in {', '.join(identical)}")
                             + (" (a score of 0: the score leaves out code that is also in the reference solution, and passages too short "
                                "to count)" if not matches else ""))
                reported = reported or (whole and own[a] >= min_shared)
            if {a, b} <= similar_to_reference:
                notes.append("both are also similar to the reference solution")
            note = "; ".join(notes)
            pairs.append(Similarity(a, b, score, shared_a / max(1, own[a]), shared_b / max(1, own[b]), matches, reported, note,
                                    identical))
    key = lambda s: (-s.score, s.student, s.other)  # noqa: E731
    return sorted(pairs, key=key), sorted(reference_lines, key=key)


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


# ---- the report -------------------------------------------------------------------------------------------
def report(lesson: str, submissions: Path, release: Path, solution: Path, folder: Path | None = None,
           threshold: float = 0.5, min_shared: int = 60) -> SimilarityReport:
    """Compare the class's answers to ``lesson`` and write ``similarity.html`` and ``similarity.csv``.

    Parameters
    ----------
    lesson : the lesson (nbgrader assignment), e.g. ``01_gradient_descent``
    submissions : folder of ``<student>/<lesson>/<notebook>.ipynb``
    release : the lesson's released folder (the student notebooks as released: the templates)
    solution : the lesson's source folder (the reference solution)
    folder : where to write the report (none written when None)
    threshold, min_shared : see the module's docstring

    A student whose notebook is missing, corrupt or has no answer cells is listed under "not compared",
    by name, with the reason; the others are compared.
    """
    released = sorted(Path(release).glob("*.ipynb"))
    if not released:
        raise FileNotFoundError(f"{release} holds no notebooks: expected the lesson's released notebook(s)")
    templates, reference, lesson_code = {}, {}, []
    several = len(released) > 1
    for path in released:
        prefix = f"{path.stem}:" if several else ""
        templates |= {prefix + e: s for e, s in answer_cells(_load(path)).items()}
        lesson_code += _code_cells(_load(path))
        source = Path(solution) / path.name
        if source.exists():
            reference |= {prefix + e: s for e, s in answer_cells(_load(source)).items()}

    answers: dict[str, dict[str, str]] = {}
    not_compared: dict[str, str] = {}
    folders = sorted(p for p in Path(submissions).iterdir() if p.is_dir()) if Path(submissions).is_dir() else []
    for student_folder in folders:
        student, cells, problems = student_folder.name, {}, []
        for path in released:
            prefix = f"{path.stem}:" if several else ""
            submitted = student_folder / lesson / path.name
            try:
                cells |= {prefix + e: s for e, s in answer_cells(_load(submitted)).items()}
            except FileNotFoundError:
                problems.append(f"missing notebook {path.name}")
            except (OSError, ValueError, UnicodeDecodeError) as error:
                problems.append(f"corrupt notebook {path.name}: not a valid notebook ({str(error)[:80]})")
        if problems:
            not_compared[student] = "; ".join(problems)
        elif not cells:
            not_compared[student] = "no answer cells (the cells' nbgrader metadata is missing)"
        else:
            answers[student] = cells

    pairs, near_reference = compare_class(answers, templates, reference, lesson_code, threshold, min_shared)
    result = SimilarityReport(lesson, sorted(answers), pairs, near_reference, not_compared, threshold, min_shared,
                              list(templates))
    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(result, folder / "similarity.csv")
        write_html(result, folder / "similarity.html")
        result.folder = folder
    return result


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text (a student's folder name could start with ``=``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(result: SimilarityReport, path: Path) -> Path:
    """Every line of the report (reported or not, highest score first) and every student not compared.

    Columns: ``kind`` (``pair``, ``reference`` or ``not compared``), ``student``, ``other`` (a student or
    ``reference solution``), ``score`` (0 to 1), ``student_share`` and ``other_share`` (the share of each
    side's own code in matching passages), ``exercises`` (``;``-separated), ``reported`` (1 if at or above the
    threshold), ``note``.
    """
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for kind, lines in (("pair", result.pairs), ("reference", result.reference)):
            for s in lines:
                writer.writerow([kind, _cell(s.student), _cell(s.other), f"{s.score:.3f}", f"{s.student_share:.3f}",
                                 f"{s.other_share:.3f}", ";".join(s.exercises), int(s.reported), s.note])
        for student, why in result.not_compared.items():
            writer.writerow(["not compared", _cell(student), "", "", "", "", "", "", why])
    return Path(path)


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1.5em; } td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; } .side > div { min-width: 0; }
pre { background: #f8f8f8; border: 1px solid #ddd; padding: .6em; overflow-x: auto; font-size: 13px; white-space: pre; margin: 0; }
mark { background: #ffe08a; } h3 { margin-top: 2em; } .note { color: #555; }
.bar { background: #7aa7d9; display: inline-block; height: .8em; }
"""


def _marked(code: str, passages: list[tuple[int, int]]) -> str:
    """``code`` as HTML, every character escaped, the passages in ``<mark>``."""
    out, last = [], 0
    for start, end in sorted(passages):
        start, end = max(start, last), max(end, last)
        out += [html.escape(code[last:start]), "<mark>", html.escape(code[start:end]), "</mark>"]
        last = end
    out.append(html.escape(code[last:]))
    return "".join(out)


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def write_html(result: SimilarityReport, path: Path) -> Path:
    """The report as one self-contained HTML page: no script, nothing loaded, every student's text escaped."""
    e = html.escape
    pairs, near = result.reported_pairs, result.reported_reference
    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Similar answers: {e(result.lesson)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Similar answers: {e(result.lesson)}</h1>",
        f"<p>{len(result.students)} students compared, exercise by exercise, on their own code in the answer cells "
        f"({e(', '.join(result.exercises))}): comments, docstrings, blank lines, the released template and the lesson's "
        "other cells left out; names and strings do not count, so renamed variables, reordered functions and changed "
        "comments do not hide a passage (copydetect, the winnowing algorithm of MOSS).</p>",
        f"<p>The <b>score</b> of a pair is the share of the two students' own code that lies in passages they share "
        f"(passages that both share with the reference solution are counted under the reference). A student's score "
        f"with the reference solution is the share of their own code that matches it. Listed: a score of at least "
        f"{_percent(result.threshold)} with at least {result.min_shared} matching tokens on each side. "
        "<b>Similar is not proof</b>: short answers to the same exercise are often alike, students may have worked "
        "together as allowed, or used the same source. Read the passages, then talk with the students.</p>",
    ]
    if result.not_compared:
        parts.append("<h2>Not compared</h2><ul>")
        parts += [f"<li>{e(s)}: {e(why)}</li>" for s, why in result.not_compared.items()]
        parts.append("</ul>")

    def table(lines: list[Similarity], prefix: str, other: str) -> None:
        parts.append(f"<table><tr><th>#</th><th>student</th><th>{other}</th><th>score</th><th>share of each</th>"
                     "<th>exercises</th><th>note</th></tr>")
        for i, s in enumerate(lines, 1):
            exercises = ", ".join(f"{m.exercise} ({_percent(m.student_share)} / {_percent(m.other_share)})" for m in s.matches)
            parts.append(f"<tr><td><a href='#{prefix}{i}'>{i}</a></td><td>{e(s.student)}</td><td>{e(s.other)}</td>"
                         f"<td class='num'>{_percent(s.score)}</td><td class='num'>{_percent(s.student_share)} / "
                         f"{_percent(s.other_share)}</td><td>{e(exercises)}</td><td>{e(s.note)}</td></tr>")
        parts.append("</table>")

    parts.append("<h2>Pairs of students with similar answers</h2>")
    if pairs:
        table(pairs, "pair", "student")
    else:
        parts.append("<p>None above the threshold.</p>")
    parts.append("<h2>Similar to the reference solution</h2><p class='note'>The answer is close to the instructor's "
                 "solution: it may have been found or shared, or the exercise may leave little room.</p>")
    if near:
        table(near, "ref", "compared with")
    else:
        parts.append("<p>None above the threshold.</p>")

    counts = np.histogram([s.score for s in result.pairs], bins=10, range=(0, 1))[0]
    total_pairs = len(result.students) * (len(result.students) - 1) // 2
    parts.append(f"<h2>Scores of all pairs</h2><p class='note'>{total_pairs} pairs; {total_pairs - len(result.pairs)} share "
                 "no passage at all. The threshold is worth moving where this distribution has a gap "
                 "(<code>--threshold</code>; <code>similarity.csv</code> holds every score).</p><table><tr><th>score</th>"
                 "<th>pairs</th><th></th></tr>")
    for i, count in enumerate(counts):
        width = 0 if not count else max(1, int(300 * count / max(counts)))
        parts.append(f"<tr><td>{10 * i}–{10 * (i + 1)}%</td><td class='num'>{count}</td>"
                     f"<td><span class='bar' style='width:{width}px'></span></td></tr>")
    parts.append("</table>")

    for prefix, lines in (("pair", pairs), ("ref", near)):
        for i, s in enumerate(lines, 1):
            parts.append(f"<h3 id='{prefix}{i}'>{i}. {e(s.student)} and {e(s.other)}: score {_percent(s.score)}</h3>")
            if s.note:
                parts.append(f"<p class='note'>{e(s.note)}</p>")
            for m in s.matches:
                parts.append(f"<h4>{e(m.exercise)}: {_percent(m.student_share)} of {e(s.student)}'s answer, "
                             f"{_percent(m.other_share)} of {e(s.other)}'s</h4><div class='side'>"
                             f"<div><b>{e(s.student)}</b><pre>{_marked(m.student_code, m.student_passages)}</pre></div>"
                             f"<div><b>{e(s.other)}</b><pre>{_marked(m.other_code, m.other_passages)}</pre></div></div>")
    parts.append("</body></html>\n")
    Path(path).write_text("\n".join(parts), encoding="utf-8")
    return Path(path)


# ---- the class command's hook and the command line ------------------------------------------------------------
def class_report(lesson: str, course: Path, submissions: Path | None = None, quiet: bool = False,
                 **options) -> SimilarityReport | None:
    """Write the similarity report of a graded class to ``<grading>/reports/<lesson>/`` (the class command's
    hook). A problem with the report is printed and never stops the grading: it returns None then, as it
    does when there is no submission to compare."""
    try:
        folders = course_folders(course)
        submissions = Path(submissions or folders.submitted)
        if not submissions.is_dir() or not any(p.is_dir() for p in submissions.iterdir()):
            return None  # nobody to compare: nothing written
        result = report(lesson, submissions, folders.release / lesson, folders.source / lesson, folders.reports / lesson,
                        **options)
    except Exception as error:  # noqa: BLE001 - the grades are written already; the report must not undo that
        print(f"similarity report of {lesson} not written: {type(error).__name__}: {error}", file=sys.stderr)
        return None
    if not quiet:
        pairs = len(result.reported_pairs)
        print(f"similar answers: {pairs} pair{'s' * (pairs != 1)}, {len(result.reported_reference)} similar to the "
              f"reference solution: {result.folder / 'similarity.html'}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.similarity", description=__doc__.splitlines()[0])
    parser.add_argument("lesson", help="the lesson (nbgrader assignment), e.g. 01_gradient_descent")
    parser.add_argument("--submissions", type=Path, help="folder of collected submissions (<student>/<lesson>/...)")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course folder (default: the current folder)")
    parser.add_argument("--threshold", type=float, default=0.5, help="lowest score listed, 0 to 1 (default: 0.5)")
    parser.add_argument("--min-shared", type=int, default=60, help="fewest matching tokens on each side (default: 60)")
    args = parser.parse_args(argv)
    folders = course_folders(args.course)
    result = report(args.lesson, args.submissions or folders.submitted, folders.release / args.lesson,
                    folders.source / args.lesson, folders.reports / args.lesson, args.threshold, args.min_shared)
    print(f"{len(result.students)} students compared; not compared: {len(result.not_compared)}")
    for student, why in result.not_compared.items():
        print(f"  not compared: {student}: {why}")
    for s in result.reported_pairs + result.reported_reference:
        print(f"  {s.score:5.0%}  {s.student} and {s.other}: {', '.join(s.exercises)}")
    print(f"report: {result.folder / 'similarity.html'} and similarity.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
