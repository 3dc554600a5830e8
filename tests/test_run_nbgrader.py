"""grading.run_nbgrader: nbgrader's command line without the IRI grammars no notebook needs."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat

from grading import run_nbgrader


def _imports_lark(args: list[str]) -> bool:
    """Whether running ``args`` imports Lark, the parser rfc3987-syntax builds its grammars with (``-X importtime``)."""
    result = subprocess.run([args[0], "-X", "importtime", *args[1:]], capture_output=True, text=True, check=True)
    return bool(re.search(r"\|\s+lark$", result.stderr, re.MULTILINE))


def test_nbgrader_starts_without_building_the_iri_grammars():
    # jsonschema is kept below 4.25 (pyproject.toml), so no process of the course's environment builds them; the
    # course's own nbgrader commands leave them out wherever a newer jsonschema is installed all the same
    assert not _imports_lark([sys.executable, "-m", "nbgrader", "--version"]), (
        "nbgrader builds rfc3987-syntax's grammars again: is jsonschema 4.25 or later installed? pyproject.toml keeps it below")
    result = subprocess.run(run_nbgrader.command("--version"), capture_output=True, text=True, check=True)
    assert "nbgrader version" in result.stdout
    assert not _imports_lark(run_nbgrader.command("--version"))


def test_notebooks_are_still_validated_there(tmp_path):
    """nbgrader validates notebooks against nbformat's schema, which uses no IRI format."""
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    broken.cells[0]["execution_count"] = "one"  # the schema wants an integer or null
    path = tmp_path / "broken.ipynb"
    path.write_text(nbformat.writes(broken))
    code = ("import sys; sys.modules['rfc3987_syntax'] = None\nimport nbformat\n"
            f"nbformat.validate(nbformat.reads(open({str(path)!r}).read(), as_version=4))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and "ValidationError" in result.stderr, result.stderr[-2000:]
