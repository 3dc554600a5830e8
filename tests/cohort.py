"""An adversarial cohort, generated from each lesson's solution: every kind of hostile or broken
submission that the grader must survive, and what must come of it.

Code attacks are placed at the top of an exercise's answer cell (before the correct solution), so the
expected outcome is uniform: that exercise (and the exercises that depend on it, as listed in
``tests/wrong_answers/<lesson>.toml``) scores 0, and every other exercise keeps full marks. Attacks that
try to raise a grade (tampering, forging) come with wrong answers from that file instead: they must lose
exactly what those wrong answers lose.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import course
from grading.source import python_cell
from helpers import reach

# ---- the attacks ------------------------------------------------------------------------------------
# Each is code put at the top of an answer cell. `lost`: the exercise loses its points.
KILLS_ITSELF = "import os\nos._exit(1)\n"
SEGFAULT = "import faulthandler\nfaulthandler._sigsegv()\n"
MEMORY_BOMB = "_hog = []\nwhile True:\n    _hog.append(bytearray(256 * 2**20))\n"
SYS_EXIT = "raise SystemExit(3)\n"
INFINITE_LOOP = "while True:\n    pass\n"
SWALLOWS_INTERRUPT = "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass\n"
PATCH_NUMPY_AND_HELPERS = (
    "import numpy\nimport helpers.checks\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "helpers.checks.check_close = lambda *a, **k: None\n"
)
PATCH_BUILTINS = "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
PATCH_TORCH_AND_MATH = ("import math\nimport torch\nmath.isclose = lambda *a, **k: True\ntorch.allclose = lambda *a, **k: True\n"
                        "torch.equal = lambda *a, **k: False\n")
REBIND_NAMES = "np = None\ncheck_close = lambda *a, **k: None\n"
EQUALS_EVERYTHING = (
    "class _Anything(float):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __array__(self, *a, **k):\n        raise TypeError\n"
)

#: Code put in a cell of its own: it must see nothing of the course, write nothing outside its folder,
#: reach no network, and leave the exercises alone.
SNOOP = '''
import json, os, socket
# the course folder grading runs in (a cluster worker's scratch course), and the instructor's (COURSE_ROOT)
_roots = [os.path.abspath(os.path.join(os.getcwd(), "..", "..", "..", "..")), "COURSE_ROOT"]
_seen, _damage = {}, {}
for _root in _roots:
    for _name in ["solutions", "notebooks", "tests", ".grading/gradebook.db", ".grading/submitted", ".grading/autograded/solution"]:
        _seen[os.path.join(_root, _name)] = os.path.exists(os.path.join(_root, _name))
    for _name in [".grading/gradebook.db", ".grading/autograded/solution/hacked.txt"]:
        try:
            with open(os.path.join(_root, _name), "w") as _f:
                _f.write("overwritten")
            _damage[os.path.join(_root, _name)] = "written"
        except OSError as _error:
            _damage[os.path.join(_root, _name)] = type(_error).__name__
try:
    socket.create_connection(("pypi.org", 443), timeout=3).close()
    _network = "reached pypi.org"
except OSError as _error:
    _network = type(_error).__name__
print("SNOOP " + json.dumps({"roots": _roots, "seen": _seen, "damage": _damage, "network": _network}))
'''.strip()
FLOOD = 'print("x" * 30_000_000)'

# ---- forging: a student who controls the kernel rewrites, forges or floods what the test cells send out ----
# A test cell runs as its probe: `__probe__(check_id, value, *extra)` publishes each value as a display message
# of this MIME type, and the grader decides from those. Each attack below is a code cell the student adds before
# the first exercise; all are generic (no lesson-specific code). What they forge is what a student can know without
# solving: a condition (a probe with a message: check_true) is expected True; the reference records, wherever
# the sandbox would let the kernel read them, hold every expected value.
PROBE_MIME = "application/vnd.course.probe+json"

FORGE_PUBLISH = f"""
import json as _json_f1, IPython.display as _display_f1, IPython.core.display_functions as _functions_f1
_publish_f1 = _display_f1.publish_display_data
def _rewrite_f1(data, *args, **kwargs):
    try:
        body = _json_f1.loads(data["{PROBE_MIME}"])
    except (TypeError, KeyError, ValueError, RecursionError):  # not a probe, or not one it can read: sent as it is
        body = None
    if isinstance(body, dict) and body.get("value") is False and body.get("extra"):
        body["value"] = True
        data = {{**data, "{PROBE_MIME}": _json_f1.dumps(body)}}
    return _publish_f1(data, *args, **kwargs)
_display_f1.publish_display_data = _functions_f1.publish_display_data = _rewrite_f1
"""
FORGE_SESSION = f"""
import json as _json_f2
_session_f2 = get_ipython().display_pub.session
_send_f2 = _session_f2.send
def _rewrite_f2(stream, msg_or_type, content=None, *args, **kwargs):
    body = msg_or_type.get("content") if isinstance(msg_or_type, dict) else content
    data = body.get("data") if isinstance(body, dict) else None
    try:
        probe = _json_f2.loads(data["{PROBE_MIME}"])
    except (TypeError, KeyError, ValueError, RecursionError):
        probe = None
    if isinstance(probe, dict) and probe.get("value") is False and probe.get("extra"):
        probe["value"] = True
        data["{PROBE_MIME}"] = _json_f2.dumps(probe)
    return _send_f2(stream, msg_or_type, content, *args, **kwargs)
_session_f2.send = _rewrite_f2
"""
FORGE_AST = """
import ast as _ast_f3
class _ForceTrue(_ast_f3.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, _ast_f3.Name) and node.func.id == "__probe__" and len(node.args) == 3:
            node.args[1] = _ast_f3.Constant(True)
        return node
get_ipython().ast_transformers.append(_ForceTrue())
"""
FORGE_INPUT = """
def _after_prelude_f4(lines):
    out = []
    for line in lines:
        out.append(line)
        if line.strip() == "del __course_probe_setup__":
            out.append("__probe__ = (lambda _p: (lambda i, v, *e: _p(i, True if v is False and e else v, *e)))(__probe__)\\n")
    return out
get_ipython().input_transformers_post.append(_after_prelude_f4)
"""
FORGE_JSON = """
import json as _json_f5
_dumps_f5 = _json_f5.dumps
def _rewrite_f5(obj, *args, **kwargs):
    if type(obj) is dict and set(obj) == {"check", "value", "extra"} and obj["value"] is False and obj["extra"]:
        obj = {**obj, "value": True}
    return _dumps_f5(obj, *args, **kwargs)
_json_f5.dumps = _rewrite_f5
"""
# Forged messages go out before the real ones (the first of each check counts), from the pre_run_cell hook
# and from a thread, for every check that sends a message with its value (a condition).
FORGE_FIRST = f"""
import ast as _ast_f6, json as _json_f6, threading as _threading_f6, time as _time_f6
from IPython.display import publish_display_data as _publish_f6
_state_f6 = {{"ids": [], "budget": 0}}
def _conditions_f6(source):
    try:
        tree = _ast_f6.parse(source)
    except SyntaxError:
        return []
    return sorted({{n.args[0].value for n in _ast_f6.walk(tree) if isinstance(n, _ast_f6.Call) and isinstance(n.func, _ast_f6.Name)
                   and n.func.id == "__probe__" and len(n.args) == 3 and isinstance(n.args[0], _ast_f6.Constant)}})
def _forge_f6(ids):
    for check in ids:
        _publish_f6({{"{PROBE_MIME}": _json_f6.dumps({{"check": check, "value": True, "extra": []}})}})
def _before_f6(info):
    ids = _conditions_f6(info.raw_cell) if "__probe__" in info.raw_cell else []
    for _ in range(3):
        _forge_f6(ids)
    _state_f6.update(ids=ids, budget=20 if ids else 0)
def _after_f6(result):
    _state_f6.update(ids=[], budget=0)
def _spam_f6():
    while True:
        if _state_f6["budget"] > 0:
            _state_f6["budget"] -= 1
            _forge_f6(list(_state_f6["ids"]))
        _time_f6.sleep(0.005)
get_ipython().events.register("pre_run_cell", _before_f6)
get_ipython().events.register("post_run_cell", _after_f6)
_threading_f6.Thread(target=_spam_f6, daemon=True).start()
"""
# The probe's own frames rewritten while test cells run: its `value` argument made True.
FORGE_TRACE = """
import ctypes as _ctypes_f7, sys as _sys_f7
def _tracer_f7(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "probe" and "check_id" in frame.f_code.co_varnames \\
            and frame.f_locals.get("value") is False and frame.f_locals.get("extra"):
        frame.f_locals["value"] = True
        _ctypes_f7.pythonapi.PyFrame_LocalsToFast(_ctypes_f7.py_object(frame), _ctypes_f7.c_int(0))
    return None
get_ipython().events.register("pre_run_cell", lambda info: _sys_f7.settrace(_tracer_f7 if "__probe__" in info.raw_cell else None))
get_ipython().events.register("post_run_cell", lambda result: _sys_f7.settrace(None))
"""
HIDE_ERRORS = """
import sys as _sys_f8
get_ipython().set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)
get_ipython().showtraceback = lambda *args, **kwargs: None
_sys_f8.excepthook = lambda *args: None
"""
# The reference records, looked for where the grader keeps them (the README says where), and every probe's
# value replaced by what its record expects.
FORGE_FROM_RECORDS = f"""
import base64 as _b64_f9, json as _json_f9, os as _os_f9
import helpers as _helpers_f9
import IPython.display as _display_f9, IPython.core.display_functions as _functions_f9
_lesson_f9 = _os_f9.path.basename(_os_f9.getcwd())
_course_f9 = _os_f9.path.abspath(_os_f9.path.join(_os_f9.getcwd(), "..", "..", "..", ".."))
_repo_f9 = _os_f9.path.dirname(_os_f9.path.dirname(_os_f9.path.abspath(_helpers_f9.__file__)))
_records_f9 = []
for _folder in [_os_f9.environ.get("COURSE_REFERENCE_CACHE") or "", _os_f9.path.join(_course_f9, ".grading", "reference"),
                _os_f9.path.join(_repo_f9, ".grading", "reference"), _os_f9.path.join(_repo_f9, ".grading", "test-reference")]:
    try:
        with open(_os_f9.path.join(_folder, _lesson_f9 + ".json")) as _f:
            _records_f9 = [c["records"] for c in _json_f9.load(_f)["cells"].values()]
        break
    except (OSError, ValueError, KeyError, TypeError):
        pass
print("records readable:", bool(_records_f9))
_where_f9 = {{"cell": -1, "seen": {{}}}}
def _next_cell_f9(info):
    if "__probe__" in info.raw_cell:
        _where_f9.update(cell=_where_f9["cell"] + 1, seen={{}})
def _expected_f9(record):
    args = dict(_json_f9.loads(record["args"])["$dict"])
    if record["kind"] in ("check_close", "check_equal"):
        return args["expected"]
    if record["kind"] == "check_shape":
        size = 1
        for n in args["shape"]:
            size *= n
        return {{"$ndarray": {{"dtype": "<f8", "shape": args["shape"], "b64": _b64_f9.b64encode(bytes(8 * size)).decode()}}}}
    if record["kind"] == "check_type":
        return {{"$object": {{"type": args["expected"][0], "mro": args["expected"]}}}}
    return 0.0 if record["kind"] == "check_finite" else True
_publish_f9 = _display_f9.publish_display_data
def _rewrite_f9(data, *args, **kwargs):
    try:
        body = _json_f9.loads(data["{PROBE_MIME}"])
    except (TypeError, KeyError, ValueError, RecursionError):
        body = None
    if isinstance(body, dict) and type(body.get("check")) is int and 0 <= _where_f9["cell"] < len(_records_f9):
        occurrence = _where_f9["seen"].get(body["check"], 0)
        _where_f9["seen"][body["check"]] = occurrence + 1
        records = [r for r in _records_f9[_where_f9["cell"]] if r["check"] == body["check"]]
        if occurrence < len(records):
            body["value"] = _expected_f9(records[occurrence])
            data = {{**data, "{PROBE_MIME}": _json_f9.dumps(body)}}
    return _publish_f9(data, *args, **kwargs)
if _records_f9:
    get_ipython().events.register("pre_run_cell", _next_cell_f9)
    _display_f9.publish_display_data = _functions_f9.publish_display_data = _rewrite_f9
"""
# Shipped beside the notebook: the kernel's folder is on sys.path, so the lesson's own `import numpy` runs this
# file, which loads the real numpy and rewrites probe messages as FORGE_PUBLISH does.
SHADOW_NUMPY = f"""
import os as _os, sys as _sys
_here = _os.path.dirname(_os.path.abspath(__file__))
_path = list(_sys.path)
_sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or ".") != _here]
del _sys.modules["numpy"]
import numpy as _numpy
_sys.path[:] = _path
_sys.modules["numpy"] = _numpy
exec({FORGE_PUBLISH.replace("_f1", "_f0")!r}, {{}})
"""

#: Messages the grader must refuse or ignore, sent from a pre_run_cell hook during every test cell: none may
#: displace a real value or stop the grading.
BOUNDARY = f"""
import base64 as _b64_b, json as _json_b
from IPython.display import publish_display_data as _publish_b
_sent_huge_b = []
def _junk_b():
    if not _sent_huge_b:  # once: 65 MB is over the limit of one test cell's data
        _sent_huge_b.append(True)
        yield '{{"check": 0, "value": "' + "x" * (65 * 2**20) + '", "extra": []}}'
    yield '{{"check": 0, "value": ' + "[" * 5000 + "]" * 5000 + ', "extra": []}}'
    yield '{{"check": 0, "value": NaN, "extra": []}}'
    yield '{{"check": 0, "value": [Infinity, -Infinity], "extra": []}}'
    yield '{{"check": 0, "value": '
    yield '[0, true]'
    yield '{{"check": "0", "value": true, "extra": []}}'
    yield '{{"check": true, "value": true, "extra": []}}'
    yield '{{"check": 0.0, "value": true, "extra": []}}'
    yield '{{"check": 0, "value": true}}'
    yield '{{"check": 0, "value": {{"$float": "1e999999999999999999999999999999999999999999"}}, "extra": []}}'
    yield '{{"check": 0, "value": {{"$pickle": "gASVAAAAAAAAAAA="}}, "extra": []}}'
    yield '{{"check": 0, "value": {{"$ndarray": {{"dtype": "|O", "shape": [1], "b64": "AAAAAAAAAAA="}}}}, "extra": []}}'
    yield '{{"check": 0, "value": {{"$ndarray": {{"dtype": "<f8", "shape": [2], "b64": "AAAAAAAAAAA="}}}}, "extra": []}}'
    yield '{{"check": 0, "value": {{"$ndarray": {{"dtype": "<f8", "shape": [100000, 100000, 100000], "b64": ""}}}}, "extra": []}}'
    yield '{{"check": 0, "value": {{"$ndarray": {{"dtype": "<f8", "shape": [1], "b64": "not base64!"}}}}, "extra": []}}'
    yield '{{"check": 0, "value": {{"$tensor": {{"type": "evil.Tensor", "dtype": "x", "array": [1.0]}}}}, "extra": []}}'
    for check in (-1, -1000, 10**6, 2**70):  # ids no check has: ignored
        for value in (True, "3.0", {{"$object": {{"type": "builtins.float", "mro": ["builtins.float"]}}}}):
            yield _json_b.dumps({{"check": check, "value": value, "extra": []}})
def _flood_b(info):
    if "__probe__" in info.raw_cell:
        for text in _junk_b():
            _publish_b({{"{PROBE_MIME}": text}})
        _publish_b({{"{PROBE_MIME}": {{"check": 0}}, "text/plain": "a probe that is not text"}})
get_ipython().events.register("pre_run_cell", _flood_b)
"""

# A warning on stderr in every cell, as an overflowing np.exp in the student's code writes: nbgrader itself
# scores any stderr in a test cell 0, the course's grader keeps only its verdict there.
WARNS_ON_STDERR = """
import sys as _sys_w
def _warn_w(info):
    print("RuntimeWarning: overflow encountered in exp", file=_sys_w.stderr)
get_ipython().events.register("pre_run_cell", _warn_w)
"""

#: The forging cells, each with the README-style name of its attack.
FORGING = [
    (FORGE_PUBLISH, "probe messages rewritten by a patched IPython.display.publish_display_data"),
    (FORGE_SESSION, "probe messages rewritten in the kernel's Session.send"),
    (FORGE_AST, "probe code rewritten by an AST transformer"),
    (FORGE_INPUT, "probe code rewritten by an input transformer (after the grader's prelude)"),
    (FORGE_JSON, "json.dumps patched to rewrite probe documents"),
    (FORGE_FIRST, "forged probe messages sent first, from a pre_run_cell hook and a background thread"),
    (FORGE_TRACE, "the probe's frames rewritten by sys.settrace"),
    (HIDE_ERRORS, "errors hidden (set_custom_exc, showtraceback, sys.excepthook)"),
    (FORGE_FROM_RECORDS, "reads the reference records where the grader keeps them and sends their expected values"),
    (WARNS_ON_STDERR, "a warning written to stderr in every cell"),
]
SHADOW_KIND = "numpy.py shipped beside the notebook shadows numpy and rewrites probe messages"
BOUNDARY_KINDS = [
    "probe message over 64 MB", "deeply nested probe message", "NaN and Infinity as bare JSON constants",
    "malformed JSON and probe documents of the wrong form", "numbers and arrays that do not decode (bad dtype, "
    "size, base64, tag)", "negative and unknown check ids, with wrong-typed values", "a probe that is not text",
]


#: The submission with test cells edited and deleted, snooping, a flood of output and, in HANGS_IN's cohort, the hangs.
EDITS = "edits-and-snooping"
HANGS = ["infinite loop", "loop that swallows the interrupt"]
HANGS_IN = course.lessons()[0]


@dataclass
class Submission:
    student: str
    notebook: nbformat.NotebookNode | None  # None: no notebook at all
    raw: str | None = None  # written verbatim instead of a notebook (a corrupt file)
    filename: str | None = None  # a name other than the lesson's
    extra: dict[str, str] = field(default_factory=dict)  # further files {name: text}
    lost: set[str] = field(default_factory=set)  # test cells that must score 0
    graded: bool = True  # nbgrader must grade it (else: reported by name)
    kinds: list[str] = field(default_factory=list)


def _attack(student_nb, source_nb, lesson: str, attacks: dict[str, str], wrong: dict[str, str] | None = None):
    """The solution, with ``attacks[answer]`` put above the solution of each attacked answer cell, and ``wrong[answer]``
    in place of the solution of each answer cell it names."""
    solved = {c.metadata["nbgrader"]["grade_id"]: c.source for c in course.fill_answers(student_nb, source_nb).cells
              if course.nbgrader_meta(c).get("solution")}
    replace = {answer: code + solved[answer] for answer, code in attacks.items()}
    return course.fill_answers(student_nb, source_nb, replace={**replace, **(wrong or {})})


def _assigned(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _lost(lesson: str, answers: list[str]) -> set[str]:
    """Test cells lost when the given answer cells define nothing: their own (from the wrong-answer file),
    and every test cell that then fails, following the notebook statement by statement: a definition that
    uses a missing name is missing, and a statement that uses one stops its cell."""
    wrong = course.wrong_answers(lesson)
    tests = set(course.graded_cells(lesson).tests)
    lost = set().union(*(set(wrong[a]["fails"]) for a in answers)) if answers else set()
    missing: set[str] = set()
    for cell in course.read(course.source_notebook(lesson)).cells:
        if cell.cell_type != "code":
            continue
        grade_id = course.nbgrader_meta(cell).get("grade_id")
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        tree = ast.parse(code)
        if grade_id in answers:
            missing |= set().union(*(_assigned(node) for node in tree.body)) if tree.body else set()
            continue
        stopped = False
        for node in tree.body:
            # names read from outside the statement (its own locals, loop and comprehension variables excluded)
            local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            local |= {a.arg for n in ast.walk(node) if isinstance(n, ast.arguments)
                      for a in [*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg] if a is not None}
            local |= {n.name for n in ast.walk(node) if isinstance(n, ast.ExceptHandler) and n.name}
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - local
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not stopped:
                if used & missing:
                    missing.add(node.name)
                else:
                    missing.discard(node.name)
                continue
            if stopped or used & missing:
                stopped = True
                missing |= _assigned(node)
            else:
                missing -= _assigned(node)
        if stopped and grade_id in tests:
            lost.add(grade_id)
    return lost


def _library_rules(lesson: str, *codes: str) -> set[str]:
    """The test cells with a `check_libraries` rule, if any of ``codes`` picks or changes names at run time: such a rule
    is decided from the submitted source, and code like that makes what an answer reaches unreadable, so it fails them
    whatever the answers."""
    if not any(set(reach.read(python_cell(code), "").dynamic) - reach.READING_ONLY for code in codes):
        return set()
    return {course.nbgrader_meta(c)["grade_id"] for c in course.read(course.source_notebook(lesson)).cells
            if course.nbgrader_meta(c).get("grade") and "check_libraries(" in c.source}


def cohort(lesson: str, student_nb, source_nb) -> list[Submission]:
    """The adversarial submissions for one lesson (it needs at least four exercises)."""
    answers = course.graded_cells(lesson).answers
    tests = list(course.graded_cells(lesson).tests)
    e = answers  # exercises in notebook order
    subs: list[Submission] = []

    crashes = {e[0]: KILLS_ITSELF, e[1]: SEGFAULT, e[2]: MEMORY_BOMB, e[3]: SYS_EXIT}
    subs.append(Submission("crashes", _attack(student_nb, source_nb, lesson, crashes), lost=_lost(lesson, list(crashes)),
                           kinds=["kernel kills itself (os._exit)", "native crash (segfault)", "memory bomb", "sys.exit"]))

    wrong = course.wrong_answers(lesson)
    tampered = {e[0]: PATCH_NUMPY_AND_HELPERS, e[1]: EQUALS_EVERYTHING, e[2]: PATCH_BUILTINS, e[3]: PATCH_TORCH_AND_MATH}
    solved = course.fill_answers(student_nb, source_nb,
                                 replace={a: code + wrong[a]["source"] for a, code in tampered.items()})
    rebind_at = next(i for i, c in enumerate(solved.cells) if course.nbgrader_meta(c).get("grade_id") == tests[-1])
    solved.cells.insert(rebind_at, nbformat.v4.new_code_cell(REBIND_NAMES))
    solved.metadata["kernelspec"] = {"name": "evil", "display_name": "Not the course's kernel", "language": "python"}
    # Patched comparisons and rebound names decide nothing now (the grader compares outside the kernel, and
    # the probe imports the lesson's modules again): the wrong answers lose what they lose. Patched builtins
    # hang the kernel after the cell; it is restarted without that cell, so that exercise is left undefined.
    lost = set().union(*(wrong[a]["fails"] for a in (e[0], e[1], e[3]))) | _lost(lesson, [e[2]])
    lost |= _library_rules(lesson, *tampered.values(), REBIND_NAMES)
    subs.append(Submission("tampering", solved, lost=lost,
                           kinds=["comparison functions patched (numpy, helpers)", "object equal to everything",
                                  "builtins patched", "torch and math patched", "names the tests use rebound",
                                  "notebook names another kernel"]))

    # Hangs, a flood of output, test cells edited and deleted, snooping and an extra notebook: in one submission
    # (each costs a whole grading of the lesson). The hangs are in the first two exercises; the third and fourth
    # hold wrong answers whose test cells are edited and deleted, so they must lose exactly what those lose.
    # A hang burns a core until the time limit, and what the grader does with it does not depend on the lesson:
    # only the first lesson's cohort holds the two (HANGS_IN).
    loops = {e[0]: INFINITE_LOOP, e[1]: SWALLOWS_INTERRUPT} if lesson == HANGS_IN else {}
    edited = _attack(student_nb, source_nb, lesson, loops, wrong={a: wrong[a]["source"] for a in (e[2], e[3])})
    first_test = next(c for c in edited.cells if course.nbgrader_meta(c).get("grade_id") in wrong[e[2]]["fails"])
    first_test.source = "print('all tests passed')"
    second_test = next(c for c in edited.cells if course.nbgrader_meta(c).get("grade_id") in wrong[e[3]]["fails"]
                       and c is not first_test)
    edited.cells.remove(second_test)
    flood_at = next(i for i, c in enumerate(edited.cells) if course.nbgrader_meta(c).get("grade_id") == e[2])
    edited.cells.insert(flood_at, nbformat.v4.new_code_cell(FLOOD))
    snoop_at = next(i for i, c in enumerate(edited.cells) if course.nbgrader_meta(c).get("grade_id") == e[3])
    edited.cells.insert(snoop_at, nbformat.v4.new_code_cell(SNOOP))
    # an extra notebook beside the lesson's: reported by name, not graded; the lesson's notebook is graded as usual
    subs.append(Submission(EDITS, edited,
                           lost=_lost(lesson, list(loops)) | set(wrong[e[2]]["fails"]) | set(wrong[e[3]]["fails"]),
                           extra={"scratch.ipynb": json.dumps(nbformat.v4.new_notebook())},
                           kinds=HANGS * bool(loops) + ["flood of output",
                                  "test cell edited", "test cell deleted", "reads solutions and hidden tests",
                                  "writes the gradebook and another student's files", "reaches the network",
                                  "extra notebook"]))

    # forging: every kernel-level and boundary attack at once, over wrong answers (half the exercises each);
    # they must lose exactly what their wrong answers lose
    for student, chosen in (("forger-even", e[0::2]), ("forger-odd", e[1::2])):
        nb = course.fill_answers(student_nb, source_nb, replace={a: wrong[a]["source"] for a in chosen})
        first_answer = next(i for i, c in enumerate(nb.cells) if course.nbgrader_meta(c).get("solution"))
        for code, _ in reversed([*FORGING, (BOUNDARY, "")]):
            nb.cells.insert(first_answer, nbformat.v4.new_code_cell(code.strip()))
        lost = set().union(*(wrong[a]["fails"] for a in chosen)) | _library_rules(lesson, *(code for code, _ in FORGING), BOUNDARY)
        subs.append(Submission(student, nb, extra={"numpy.py": SHADOW_NUMPY}, lost=lost,
                               kinds=[kind for _, kind in FORGING] + [SHADOW_KIND] + BOUNDARY_KINDS))

    solution = course.fill_answers(student_nb, source_nb)
    subs.append(Submission("corrupt", None, raw='{"cells": [ this is not json', graded=False, kinds=["corrupt notebook"]))
    subs.append(Submission("missing", None, graded=False, kinds=["missing notebook"]))
    subs.append(Submission("wrong-name", None, filename="my_homework.ipynb", extra={"my_homework.ipynb": nbformat.writes(solution)},
                           graded=False, kinds=["notebook under the wrong name"]))
    return subs


def place(collection: Path, lesson: str, sub: Submission, course_root: Path | None = None) -> None:
    """Write a submission into a collection folder laid out as ``<collection>/<student>/<lesson>/``; the snooping
    cell is told the instructor's course folder (``course_root``) to look for."""
    folder = collection / sub.student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    if sub.notebook is not None:
        nb = nbformat.from_dict(json.loads(json.dumps(sub.notebook)))
        for cell in nb.cells:
            if cell.source.startswith("import json, os, socket\n# the course folder grading runs in"):
                cell.source = cell.source.replace('"COURSE_ROOT"', json.dumps(str(course_root or collection.parent)))
        nbformat.write(nb, str(folder / f"{lesson}.ipynb"))
    if sub.raw is not None:
        (folder / f"{lesson}.ipynb").write_text(sub.raw)
    for name, text in sub.extra.items():
        (folder / name).write_text(text)
