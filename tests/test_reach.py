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


def test_complex_numbers_dunders_and_the_import_table_are_marked():
    found = read("y = (x + 1j).imag + x.__class__.__name__ + sys.modules['numpy'] + obj.modules()")
    assert "complex" in found.words and "imag" in found.words
    assert set(found.dynamic) == {".__class__", "sys.modules"}


def test_problems_name_each_refused_module_word_construct_and_unknown_name_once():
    found = read("import scipy.ndimage\nimport numpy.linalg\nfrom . import local\nz = optim + eval('1')")
    assert reach.problems(found, ("numpy",), ("optim",), unknown={"len", "mystery"}) == [
        "the module scipy.ndimage (in f)", "the module . (in f)", "`optim` (in f)",
        "`eval` (in f), which picks what it reaches only when it runs", "`mystery`, which no cell defines"]
    assert reach.module_problems("torch.optim.sgd", "f", ("torch",), ("optim",)) == ["torch.optim.sgd (in f)"]
    assert reach.module_problems("helpers.checks", "f", ("numpy",), ()) == []


def test_the_message_lists_the_rule_and_at_most_six_reasons():
    text = reach.message("libraries f uses", [f"r{i}" for i in range(8)] + ["r0"], ("numpy",), ("imag",), "by hand")
    assert text == ("libraries f uses: expected code that reaches only numpy and Python's built-ins, naming none of imag, "
                    "found r0; r1; r2; r3; r4; r5. Hint: by hand")
