"""grading.similarity: the report of similar answers, on a synthetic class of lesson 1.

The class is made here from lesson 1's released student notebook, its answer cells filled in by
hand-written answers. The lesson is frozen in ``tests/similarity/`` (its code cells as released, and the
reference solution's answer cells, as of commit f7c1a25), so that the answers keep matching their exercises
when the lesson changes. The class: five students who solved every exercise independently, each in a style of their own (loops,
vectorised numpy, linear algebra, comprehensions, defensive code with helper functions); one student who
took the fifth student's answers and renamed the variables, reordered the helper functions, changed the
comments and added blank lines; one who handed in the reference solution; two who left the stubs; and two
whose notebooks are corrupt or missing. No grading is run.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

import course
from grading import similarity
from grading.similarity import CSV_COLUMNS, REFERENCE, answer_cells, own_code

LESSON = "01_gradient_descent"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
HOSTILE = "</script><script>alert('x')</script>"

# ---- the independent answers: {student: {exercise: the code that replaces the stub, or a whole cell}} ----
INDEPENDENT = {
    "alice": {  # plain loops
        "predict": """
            out = np.zeros(len(x))
            for i in range(len(x)):
                out[i] = m * x[i] + c
            return out""",
        "mse": """
            total = 0.0
            for t, p in zip(y_true, y_pred):
                total += (t - p) ** 2
            return total / len(y_true)""",
        "gradients": """
            n = len(x)
            grad_m = 0.0
            grad_c = 0.0
            for xi, yi in zip(x, y):
                error = yi - (m * xi + c)
                grad_m += -2 * xi * error / n
                grad_c += -2 * error / n
            return grad_m, grad_c""",
        "gradient_descent": """
            m, c = m0, c0
            path = [(m, c)]
            losses = [mse(y, predict(x, m, c))]
            for step in range(epochs):
                gm, gc = gradients(x, y, m, c)
                m = m - lr * gm
                c = c - lr * gc
                path.append((m, c))
                losses.append(mse(y, predict(x, m, c)))
            return np.array(path), np.array(losses)""",
        "loss_surface": """
            surface = np.zeros((len(cs), len(ms)))
            for i in range(len(cs)):
                for j in range(len(ms)):
                    surface[i, j] = mse(y, predict(x, ms[j], cs[i]))
            return surface""",
        "largest_stable_lr": """
            n = len(x)
            sxx = sum(xi * xi for xi in x)
            sx = sum(x)
            H = 2 / n * np.array([[sxx, sx], [sx, n]])
            eigenvalues = np.linalg.eigvals(H)
            return 2 / max(eigenvalues.real)""",
    },
    "bob": {  # vectorised numpy
        "predict": "return np.asarray(x) * m + c",
        "mse": """
            diff = np.subtract(y_true, y_pred)
            return float(np.dot(diff, diff) / diff.size)""",
        "gradients": """
            x = np.asarray(x, float)
            y = np.asarray(y, float)
            err = (m * x + c) - y
            return 2 * np.mean(err * x), 2 * np.mean(err)""",
        "gradient_descent": """
            params = np.array([m0, c0], dtype=float)
            history = np.zeros((epochs + 1, 2))
            history[0] = params
            for t in range(1, epochs + 1):
                params = params - lr * np.array(gradients(x, y, *params))
                history[t] = params
            errors = np.array([mse(y, predict(x, mm, cc)) for mm, cc in history])
            return history, errors""",
        "loss_surface": """
            M, C = np.meshgrid(ms, cs)
            x = np.asarray(x)
            pred = M[..., None] * x + C[..., None]
            return ((pred - np.asarray(y)) ** 2).mean(axis=2)""",
        "largest_stable_lr": """
            x = np.asarray(x, dtype=float)
            H = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
            return 2 / np.linalg.eigvalsh(H)[-1]""",
    },
    "chen": {  # linear algebra: the design matrix [x, 1]
        "predict": "return np.polyval([m, c], x)",
        "mse": "return np.mean(np.square(np.asarray(y_true) - np.asarray(y_pred))).item()",
        "gradients": """
            A = np.column_stack([x, np.ones(len(x))])
            theta = np.array([m, c])
            g = 2 / len(y) * A.T @ (A @ theta - y)
            return float(g[0]), float(g[1])""",
        "gradient_descent": """
            A = np.column_stack([x, np.ones(len(x))])
            theta = np.array([m0, c0], dtype=float)
            thetas = [theta.copy()]
            for _ in range(epochs):
                theta -= lr * 2 / len(y) * A.T @ (A @ theta - y)
                thetas.append(theta.copy())
            thetas = np.stack(thetas)
            loss_values = np.mean((thetas @ A.T - y) ** 2, axis=1)
            return thetas, loss_values""",
        "loss_surface": """
            A = np.column_stack([x, np.ones(len(x))])
            grid = np.array([[mj, ci] for ci in cs for mj in ms])
            residuals = grid @ A.T - y
            return np.mean(residuals ** 2, axis=1).reshape(len(cs), len(ms))""",
        "largest_stable_lr": """
            A = np.column_stack([x, np.ones(len(x))])
            hess = 2 * A.T @ A / len(x)
            return 2 / np.linalg.norm(hess, 2)""",
    },
    "dana": {  # comprehensions and closed forms
        "predict": "return np.array([m * v + c for v in x])",
        "mse": "return sum((a - b) ** 2 for a, b in zip(y_true, y_pred)) / len(y_true)",
        "gradients": """
            r = [yi - m * xi - c for xi, yi in zip(x, y)]
            return (-2 * sum(ri * xi for ri, xi in zip(r, x)) / len(r), -2 * sum(r) / len(r))""",
        "gradient_descent": """
            m, c, rows = m0, c0, []
            for k in range(epochs + 1):
                rows.append([m, c, mse(y, predict(x, m, c))])
                dm, dc = gradients(x, y, m, c)
                m, c = m - lr * dm, c - lr * dc
            rows = np.array(rows)
            return rows[:, :2], rows[:, 2]""",
        "loss_surface": "return np.array([[mse(y, predict(x, m, c)) for m in ms] for c in cs])",
        "largest_stable_lr": """
            x = np.asarray(x, dtype=float)
            a, b, d = np.mean(x ** 2), np.mean(x), 1.0
            top = (a + d) / 2 + np.sqrt(((a - d) / 2) ** 2 + b ** 2)
            return 1 / top   # the largest eigenvalue of H is 2 * top""",
    },
    "erin": {  # defensive, helper functions
        "predict": f"""
            xs = np.asarray(x, dtype=float)
            if xs.ndim != 1:
                raise ValueError("{HOSTILE} x must be one-dimensional")
            prices = m * xs
            prices = prices + c
            return prices""",
        "mse": """
            truth = np.asarray(y_true, dtype=float)
            guess = np.asarray(y_pred, dtype=float)
            if truth.shape != guess.shape:
                raise ValueError("the targets and the predictions must have the same shape")
            squared = (truth - guess) ** 2
            return float(squared.sum() / truth.size)""",
        "gradients": '''
            def _residuals(x, y, m, c):
                """Targets minus the line's predictions."""
                return np.asarray(y, dtype=float) - (m * np.asarray(x, dtype=float) + c)


            def _mean_product(a, b):
                total = 0.0
                for u, v in zip(a, b):
                    total += u * v
                return total / len(a)


            def gradients(x, y, m, c):
                res = _residuals(x, y, m, c)
                slope_grad = -2.0 * _mean_product(x, res)  # d/dm of the mean of res ** 2
                intercept_grad = -2.0 * _mean_product(np.ones(len(res)), res)
                return slope_grad, intercept_grad''',
        "gradient_descent": """
            trajectory = np.zeros((epochs + 1, 2))
            loss_curve = np.zeros(epochs + 1)
            slope, intercept = m0, c0
            trajectory[0] = [slope, intercept]
            loss_curve[0] = mse(y, predict(x, slope, intercept))
            for epoch in range(1, epochs + 1):
                g_slope, g_intercept = gradients(x, y, slope, intercept)
                slope -= lr * g_slope
                intercept -= lr * g_intercept
                trajectory[epoch] = [slope, intercept]
                loss_curve[epoch] = mse(y, predict(x, slope, intercept))
            return trajectory, loss_curve""",
        "loss_surface": """
            xs = np.asarray(x, dtype=float)
            ys = np.asarray(y, dtype=float)
            table = np.empty((len(cs), len(ms)))
            for row, intercept in enumerate(cs):
                residual = ys[None, :] - (np.asarray(ms)[:, None] * xs[None, :] + intercept)
                table[row] = (residual ** 2).mean(axis=1)
            return table""",
        "largest_stable_lr": """
            xs = np.asarray(x, dtype=float)
            count = xs.size
            curvature = np.array([[np.dot(xs, xs), xs.sum()], [xs.sum(), count]]) * 2.0 / count
            biggest = np.linalg.eigvalsh(curvature).max()
            return float(2.0 / biggest)""",
    },
}

# Erin's answers, renamed, reordered, with other comments and blank lines.
COPY = {
    "predict": f"""
        # turn the sizes into floats first

        inputs = np.asarray(x, dtype=float)
        if inputs.ndim != 1:
            raise ValueError("{HOSTILE} x must be one-dimensional")

        out = m * inputs
        out = out + c

        return out""",
    "mse": """
        t = np.asarray(y_true, dtype=float)
        p = np.asarray(y_pred, dtype=float)

        if t.shape != p.shape:
            raise ValueError("targets and predictions must have the same shape")
        sq = (t - p) ** 2   # squared errors
        return float(sq.sum() / t.size)""",
    "gradients": '''
        def gradients(x, y, m, c):
            # chain rule on the mean squared error
            r = errors_of(x, y, m, c)

            gm = -2.0 * average_of_products(x, r)
            gc = -2.0 * average_of_products(np.ones(len(r)), r)
            return gm, gc


        def average_of_products(first, second):
            acc = 0.0
            for p, q in zip(first, second):
                acc += p * q

            return acc / len(first)


        def errors_of(x, y, m, c):
            return np.asarray(y, dtype=float) - (m * np.asarray(x, dtype=float) + c)''',
    "gradient_descent": """
        hist = np.zeros((epochs + 1, 2))
        curve = np.zeros(epochs + 1)

        a, b = m0, c0
        hist[0] = [a, b]
        curve[0] = mse(y, predict(x, a, b))   # loss before any step
        for i in range(1, epochs + 1):
            da, db = gradients(x, y, a, b)

            a -= lr * da
            b -= lr * db
            hist[i] = [a, b]
            curve[i] = mse(y, predict(x, a, b))
        return hist, curve""",
    "loss_surface": """
        inputs = np.asarray(x, dtype=float)
        targets = np.asarray(y, dtype=float)
        grid = np.empty((len(cs), len(ms)))

        for k, cc in enumerate(cs):
            err = targets[None, :] - (np.asarray(ms)[:, None] * inputs[None, :] + cc)
            grid[k] = (err ** 2).mean(axis=1)
        return grid""",
    "largest_stable_lr": """
        inputs = np.asarray(x, dtype=float)
        n = inputs.size
        # Hessian of the MSE
        hessian_matrix = np.array([[np.dot(inputs, inputs), inputs.sum()], [inputs.sum(), n]]) * 2.0 / n

        top = np.linalg.eigvalsh(hessian_matrix).max()
        return float(2.0 / top)""",
}

COPIED_PAIR = ("erin", "farid")
REFERENCE_COPY = "gus"
STUBS = ["hana", "<img src=x onerror=alert(1)>"]  # the second: a hostile folder name
NOT_COMPARED = {"kim": "corrupt notebook", "lee": "missing notebook"}


FROZEN = Path(__file__).resolve().parent / "similarity"


def released() -> nbformat.NotebookNode:
    return course.read(FROZEN / f"{LESSON}.released.json")


def solution() -> nbformat.NotebookNode:
    return course.read(FROZEN / f"{LESSON}.solution.json")


def lesson_folders(root: Path) -> tuple[Path, Path]:
    """The frozen lesson as a course lays it out: ``(release folder, source folder)`` of the lesson."""
    for kind, notebook in (("notebooks", released()), ("solutions", solution())):
        (root / kind / LESSON).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(root / kind / LESSON / f"{LESSON}.ipynb"))
    return root / "notebooks" / LESSON, root / "solutions" / LESSON


def fill(template: str, answer: str) -> str:
    """The answer cell as a student leaves it: the stub replaced by their code (or the whole cell, when
    their code defines the exercise's function itself)."""
    answer = textwrap.dedent(answer).strip("\n")
    if re.search(r"^def ", answer, re.M):
        return answer
    indent = re.search(r"^( *)# YOUR CODE HERE", template, re.M).group(1)
    return template.replace(textwrap.indent(STUB, indent), textwrap.indent(answer, indent))


def notebook_with(answers: dict[str, str]) -> nbformat.NotebookNode:
    nb = released()
    for cell in nb.cells:
        grade_id = course.nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = fill(cell.source, answers[grade_id])
    return nb


def write_class(folder: Path) -> Path:
    """The synthetic class as ``nbgrader collect`` lays it out: ``<folder>/<student>/<lesson>/<lesson>.ipynb``."""
    def put(student: str, nb) -> None:
        path = folder / student / LESSON
        path.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path / f"{LESSON}.ipynb"))

    for student, answers in INDEPENDENT.items():
        put(student, notebook_with(answers))
    put(COPIED_PAIR[1], notebook_with(COPY))
    put(REFERENCE_COPY, course.fill_answers(released(), solution()))
    for student in STUBS:
        put(student, released())
    (folder / "kim" / LESSON).mkdir(parents=True)
    (folder / "kim" / LESSON / f"{LESSON}.ipynb").write_text('{"cells": [ {"cell_type": "code", "sou')
    (folder / "lee" / LESSON).mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    submissions = write_class(root / "submitted")
    return similarity.report(LESSON, submissions, *lesson_folders(root), root / "reports")


# ---- the synthetic class is what it claims to be --------------------------------------------------------
@pytest.mark.parametrize("student", [*INDEPENDENT, COPIED_PAIR[1]])
def test_the_synthetic_answers_are_correct(student):
    """Every hand-written answer computes what the reference solution computes."""
    def functions(cells: dict[str, str]) -> dict:
        namespace = {"np": np}
        for source in cells.values():
            exec(source, namespace)  # noqa: S102 - the test's own answers
        return namespace

    mine = functions(answer_cells(notebook_with(INDEPENDENT.get(student, COPY))))
    reference = functions({e: course.solution_source(s) for e, s in answer_cells(solution()).items()})
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.5, 3, 12), rng.normal(2, 1, 12)
    ms, cs = np.linspace(-1, 3, 5), np.linspace(-2, 2, 4)
    calls = {"predict": (x, 1.5, -0.5), "mse": (y, x), "gradients": (x, y, 0.3, 0.2),
             "gradient_descent": (x, y, 0.05, 7, 0.1, -0.2), "loss_surface": (x, y, ms, cs), "largest_stable_lr": (x,)}
    for name, args in calls.items():
        got, expected = mine[name](*args), reference[name](*args)
        for g, e in zip(*(v if isinstance(v, tuple) else (v,) for v in (got, expected))):
            np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(e, dtype=float), rtol=1e-9, err_msg=f"{student} {name}")


def test_the_copy_is_not_a_verbatim_copy():
    """The copy's code differs from the original line by line: only the normalisation can see it."""
    for exercise, original in INDEPENDENT["erin"].items():
        mine = {line.strip() for line in own_code(COPY[exercise]).splitlines()}
        theirs = {line.strip() for line in own_code(original).splitlines()}
        assert len(mine & theirs) <= 2, exercise


# ---- own code ------------------------------------------------------------------------------------------
def test_own_code_leaves_out_the_template_comments_docstrings_and_blank_lines():
    template = answer_cells(released())["gradients"]
    signature = "# released: def gradients(x, y, m, c):"  # kept as a comment, to show where the code belongs
    assert own_code(template, template) == signature
    body = '# the slope first\n\nr = y - predict(x, m, c)  # residual\n"""a note"""\nreturn -2 * np.mean(x * r), -2 * np.mean(r)'
    answer = fill(template, body)
    assert own_code(answer, template) == f"{signature}\n    r = y - predict(x, m, c)\n    return -2 * np.mean(x * r), -2 * np.mean(r)"


def test_own_code_leaves_out_the_released_signature_with_its_parameters_renamed():
    template = answer_cells(released())["predict"]
    body = "    return slope * np.asarray(sizes) + intercept"
    answer = f"def predict(sizes, slope, intercept):\n{body}"
    assert own_code(answer, template) == f"# released: def predict(sizes, slope, intercept):\n{body}"
    helper = "def scale(sizes, slope, intercept):\n    return slope * sizes + intercept"  # another function: the student's
    assert own_code(helper, template) == helper


def test_own_code_of_an_answer_that_does_not_parse_is_kept():
    template = answer_cells(released())["predict"]
    answer = fill(template, "return m * x + c +\n'''unterminated")
    assert "return m * x + c +" in own_code(answer, template)


# ---- the report ------------------------------------------------------------------------------------------
def test_the_copied_pair_ranks_first_and_alone(result):
    reported = result.reported_pairs
    assert [(s.student, s.other) for s in reported] == [COPIED_PAIR], [(s.student, s.other, round(s.score, 2)) for s in reported]
    top = result.pairs[0]
    assert (top.student, top.other) == COPIED_PAIR
    assert top.score >= 0.8
    # the exercises where the copy is long enough to show
    assert {"gradients", "gradient_descent", "loss_surface", "mse"} <= set(top.exercises)
    # the helper functions, reordered and renamed, match
    gradients = next(m for m in top.matches if m.exercise == "gradients")
    assert gradients.student_share > 0.8 and gradients.other_share > 0.8


def test_independent_answers_and_stubs_are_below_the_threshold(result):
    copied = set(COPIED_PAIR)
    others = [s for s in result.pairs if {s.student, s.other} != copied]
    assert others, "independent answers share some short passages"
    assert max(s.score for s in others) < result.threshold
    assert not any(s.reported for s in others)
    stubs = set(STUBS)
    assert not any({s.student, s.other} & stubs for s in result.pairs + result.reference)
    assert set(STUBS) <= set(result.students)  # compared, and like no one


def test_the_reference_copy_is_listed_as_similar_to_the_reference(result):
    assert [s.student for s in result.reported_reference] == [REFERENCE_COPY]
    line = result.reported_reference[0]
    assert line.other == REFERENCE and line.score > 0.9
    assert {"gradient_descent", "loss_surface", "largest_stable_lr"} <= set(line.exercises)
    # and not as similar to any classmate: what it shares with the reference solution counts there
    assert not any(REFERENCE_COPY in (s.student, s.other) for s in result.reported_pairs)


def test_corrupt_and_missing_notebooks_are_reported_by_name(result):
    assert set(result.not_compared) == set(NOT_COMPARED)
    for student, why in NOT_COMPARED.items():
        assert result.not_compared[student].startswith(why)
    assert len(result.students) == len(INDEPENDENT) + 2 + len(STUBS)
    page = (result.folder / "similarity.html").read_text()
    assert "kim" in page and "corrupt notebook" in page and "lee" in page and "missing notebook" in page


def test_the_csv_has_the_documented_columns(result):
    with (result.folder / "similarity.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == CSV_COLUMNS
    for column in CSV_COLUMNS:
        assert f"``{column}``" in similarity.write_csv.__doc__
    pairs = [r for r in rows if r["kind"] == "pair"]
    assert (pairs[0]["student"], pairs[0]["other"], pairs[0]["reported"]) == (*COPIED_PAIR, "1")
    assert [float(r["score"]) for r in pairs] == sorted((float(r["score"]) for r in pairs), reverse=True)
    reference = [r for r in rows if r["kind"] == "reference" and r["reported"] == "1"]
    assert [(r["student"], r["other"]) for r in reference] == [(REFERENCE_COPY, REFERENCE)]
    assert {r["student"] for r in rows if r["kind"] == "not compared"} == set(NOT_COMPARED)
    assert "gradient_descent" in pairs[0]["exercises"].split(";")


def test_the_page_escapes_the_students_code_and_names(result):
    page = (result.folder / "similarity.html").read_text()
    assert HOSTILE not in page and "<script" not in page.lower()
    assert html_escaped(HOSTILE) in page  # shown, as text
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" not in page  # stubs are not listed
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # loads nothing


def test_the_page_says_similar_and_shows_the_passages_side_by_side(result):
    page = (result.folder / "similarity.html").read_text()
    assert "copied" not in page.lower() and "plagiar" not in page.lower()
    assert "similar" in page.lower() and "not proof" in page
    assert page.count("<mark>") >= 2 * 4
    assert "farid" in page and "erin" in page and REFERENCE in page


def test_a_hostile_name_of_a_reported_student_is_escaped(tmp_path):
    submissions = tmp_path / "submitted"
    name = "<b onmouseover=alert(1)>x"
    for student in (name, "zed"):
        (submissions / student / LESSON).mkdir(parents=True)
        nbformat.write(notebook_with(INDEPENDENT["erin"]), str(submissions / student / LESSON / f"{LESSON}.ipynb"))
    result = similarity.report(LESSON, submissions, *lesson_folders(tmp_path), tmp_path / "out")
    assert result.reported_pairs and result.reported_pairs[0].score > 0.9
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "<b onmouseover" not in page and html_escaped(name) in page


def html_escaped(text: str) -> str:
    import html

    return html.escape(text)


# ---- the course's folders: the class command's hook and the command line -----------------------------------------
@pytest.fixture
def small_course(tmp_path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(course.REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    lesson_folders(root)
    submitted = root / ".grading" / "submitted"
    for student in ("erin", "farid", "bob"):
        answers = COPY if student == "farid" else INDEPENDENT[student]
        (submitted / student / LESSON).mkdir(parents=True)
        nbformat.write(notebook_with(answers), str(submitted / student / LESSON / f"{LESSON}.ipynb"))
    return root


def test_the_class_hook_writes_next_to_the_class_reports(small_course, capsys):
    result = similarity.class_report(LESSON, small_course)
    folder = small_course / ".grading" / "reports" / LESSON
    assert result.folder == folder and (folder / "similarity.html").exists() and (folder / "similarity.csv").exists()
    assert [(s.student, s.other) for s in result.reported_pairs] == [COPIED_PAIR]
    assert "similar answers: 1 pair, " in capsys.readouterr().err


def test_the_class_hook_never_stops_the_grading(tmp_path, capsys):
    assert similarity.class_report(LESSON, tmp_path) is None
    assert "not written" in capsys.readouterr().err


def test_the_command_line(small_course, tmp_path, capsys):
    elsewhere = write_class(tmp_path / "collected")
    assert similarity.main([LESSON, "--course", str(small_course), "--submissions", str(elsewhere)]) == 0
    out = capsys.readouterr().out
    assert "erin and farid" in out and f"{REFERENCE_COPY} and {REFERENCE}" in out
    assert "not compared: kim: corrupt notebook" in out
    rows = list(csv.DictReader((small_course / ".grading" / "reports" / LESSON / "similarity.csv").open()))
    assert json.dumps(rows)  # plain text
    assert {r["student"] for r in rows if r["kind"] == "not compared"} == set(NOT_COMPARED)


def test_the_class_command_writes_the_report_after_grading(small_course, monkeypatch):
    """``python -m grading LESSON`` calls the report once the class is graded (the grading itself stubbed here)."""
    from grading import classgrade

    graded = [classgrade.StudentReport(s, graded=True) for s in ("bob", "erin", "farid")]
    monkeypatch.setattr(classgrade, "grade_class", lambda *args, **kwargs: graded)
    classgrade.main([LESSON, "--course", str(small_course)])
    rows = list(csv.DictReader((small_course / ".grading" / "reports" / LESSON / "similarity.csv").open()))
    assert [(r["student"], r["other"]) for r in rows if r["reported"] == "1"] == [COPIED_PAIR]


def test_the_class_hook_writes_nothing_without_submissions(small_course):
    shutil.rmtree(small_course / ".grading" / "submitted")
    assert similarity.class_report(LESSON, small_course) is None
    assert not (small_course / ".grading" / "reports").exists()


def test_a_notebook_of_the_wrong_shape_is_not_compared_and_stops_nothing(tmp_path):
    submissions = tmp_path / "submitted"
    shapes = {"odd": {"cells": [1, "x", {"metadata": []}, {"cell_type": "code", "metadata": {"nbgrader": 5}}]},
              "listed": [], "erin": None, "farid": None}
    for student, content in shapes.items():
        (submissions / student / LESSON).mkdir(parents=True)
        path = submissions / student / LESSON / f"{LESSON}.ipynb"
        if content is None:
            nbformat.write(notebook_with(INDEPENDENT["erin"] if student == "erin" else COPY), str(path))
        else:
            path.write_text(json.dumps(content))
    result = similarity.report(LESSON, submissions, *lesson_folders(tmp_path), tmp_path / "out")
    assert result.not_compared == {"listed": "corrupt notebook 01_gradient_descent.ipynb: not a valid notebook (no cells)",
                                   "odd": "no answer cells (the cells' nbgrader metadata is missing)"}
    assert [(s.student, s.other) for s in result.reported_pairs] == [COPIED_PAIR]


def test_identical_answers_are_reported_even_where_they_match_the_reference(tmp_path):
    # twins: the reference solution handed in twice, and one student's answers handed in twice with one exercise left out
    folder = tmp_path / "submitted"
    first = next(iter(INDEPENDENT))
    partial = {e: code for e, code in list(INDEPENDENT[first].items())[1:]}
    for student, nb in {"ref_a": course.fill_answers(released(), solution()), "ref_b": course.fill_answers(released(), solution()),
                        "own_a": notebook_with(INDEPENDENT[first]), "own_b": notebook_with(partial)}.items():
        (folder / student / LESSON).mkdir(parents=True)
        nbformat.write(nb, str(folder / student / LESSON / f"{LESSON}.ipynb"))
    result = similarity.report(LESSON, folder, *lesson_folders(tmp_path), None)
    by_pair = {(s.student, s.other): s for s in result.pairs}
    twins = by_pair["ref_a", "ref_b"]
    assert twins.reported and twins.note.startswith("identical code in every exercise either answered"), twins
    assert twins.score == 0 and "(a score of 0: the score leaves out code that is also in the reference solution" in twins.note
    partly = by_pair["own_a", "own_b"]
    skipped = next(iter(INDEPENDENT[first]))
    assert partly.note.startswith("identical code in ") and skipped not in partly.note.split(";")[0], partly.note
    assert partly.score > 0 and "a score of 0" not in partly.note, partly.note
    for pair in (twins, partly):  # the report's exercises column names every exercise its note calls identical
        assert set(pair.identical) <= set(pair.exercises) and pair.identical, pair
        assert all(e in pair.note or pair is twins for e in pair.identical), pair.note
    assert not any("identical" in s.note for s in result.pairs if {s.student, s.other} not in ({"ref_a", "ref_b"}, {"own_a", "own_b"}))
