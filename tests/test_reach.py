"""helpers.reach: what code names, read from its syntax, and the reasons a rule refuses it."""

from __future__ import annotations

import ast

from helpers import reach


def read(source: str) -> reach.Reach:
    return reach.read(ast.parse(source), "f")


def test_imports_names_attributes_and_the_words_of_strings_are_read_but_not_docstrings():
    found = read('def f(x):\n    """Unlike sklearn, by hand."""\n    import torch.nn as tnn\n'
                 '    return getattr(np, "lin" + "alg.norm")(x) + tnn.x\n')
    assert set(found.imports) == {"torch.nn"}
    assert {"np", "getattr", "x", "lin", "alg", "norm"} <= set(found.words)
    assert "sklearn" not in found.words
    assert set(found.dynamic) == {"getattr"}
    assert {"x", "tnn"} <= found.stores and "np" in found.loads


def test_getattr_of_an_attribute_named_by_a_constant_is_an_ordinary_read():
    found = read('b = getattr(module, "bias", None)\nw = getattr(layer, "weight")\n')
    assert not found.dynamic and {"bias", "weight"} <= set(found.words)
    for code in ('getattr(np, "me" + "an")', "getattr(np, name)", 'getattr(f, "__globals__")', "g = getattr",
                 'getattr(np, "mean", None, 1)', 'getattr(*args)'):
        assert set(read(code).dynamic) == {"getattr"}, code


def test_complex_numbers_hidden_dunders_and_namespaces_changed_are_marked_but_not_ordinary_reads():
    found = read("y = (x + 1j).imag + x.__class__.__name__ + np.__version__ + np.__dict__['mean'] + obj.modules()\n"
                 "obj.__class__ = Other\nif 'h' not in globals():\n    print(vars(obj))\nglobals()['np'] = None\n"
                 "setattr(self, 'lr', 1)\nsetattr(np, 'mean', f)\nnp.load('f.npy', allow_pickle=True)\nfrom builtins import vars as v")
    assert "complex" in found.words and "imag" in found.words
    assert set(found.dynamic) == {".__dict__", ".__class__", "globals", "setattr", "allow_pickle", "from builtins import"}
    assert found.dynamic["globals"] == "f"


def test_annotations_are_not_read_and_match_captures_are_stores():
    found = read("def f(x: Sequence[float]) -> Dict:\n    match x:\n        case [first, *rest]:\n            return first\n")
    assert "Sequence" not in found.words and "Dict" not in found.words
    assert {"first", "rest", "x"} <= found.stores


def test_helpers_is_reached_through_its_public_api_only():
    found = read("from helpers import check_close, importlib\nimport helpers\nfrom helpers.diagnostics import torch")
    assert set(found.imports) == {"helpers.importlib", "helpers", "helpers.diagnostics"}
    assert all(problem.startswith("the module helpers") for problem in reach.problems(found, ("numpy",), ()))


def test_problems_name_each_refused_module_word_construct_and_unknown_name_once():
    found = read("import scipy.ndimage\nimport numpy.linalg\nfrom . import local\nz = optim + eval('1')")
    assert reach.problems(found, ("numpy",), ("optim",), unknown={"len", "mystery"}) == [
        "the module scipy.ndimage (in f)", "the module . (in f)", "`optim` (in f)",
        "`eval` (in f), which picks what it reaches only when it runs (so the rule cannot read it: name what the code uses "
        "directly)", "`mystery`, which no cell defines"]
    assert reach.module_problems("torch.optim.sgd", "f", ("torch",), ("optim",)) == ["torch.optim.sgd (in f)"]
    assert reach.module_problems("collections.abc", "f", ("numpy",), ()) == []
    assert reach.problems(read("x = np.complex128(1) + np.conjugate(y)"), ("numpy",), ("complex*", "conj*")) == [
        "`complex128` (in f)", "`conjugate` (in f)"]


def test_the_message_lists_the_rule_and_at_most_six_reasons():
    text = reach.message("libraries f uses", [f"r{i}" for i in range(8)] + ["r0"], ("numpy",), ("imag",))
    assert text == ("libraries f uses: expected code that reaches only numpy and Python's built-ins, naming none of imag, "
                    "found r0; r1; r2; r3; r4; r5")
