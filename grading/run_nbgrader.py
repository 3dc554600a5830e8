"""nbgrader's command line as the course's tools start it: ``python -m grading.run_nbgrader ARGS``.

It is ``python -m nbgrader ARGS`` with one import left out. nbgrader imports nbformat, which imports
jsonschema's format checkers; with ``rfc3987-syntax`` installed (jsonschema's non-GPL extra, which Jupyter
pulls in) that import builds some 35 Lark grammars for the ``iri`` formats, about 1.8 s of CPU, though no
nbformat or nbgrader schema uses them (python-jsonschema/jsonschema#1428). The class command starts one
nbgrader process per student, so that is 1.8 s per student. Here the module cannot be imported, and
jsonschema leaves the two ``iri`` formats unchecked, as it does wherever ``rfc3987-syntax`` is not installed.
The course's environment keeps jsonschema below 4.25, the first release whose extra brings ``rfc3987-syntax``
(pyproject.toml), which spares every other process the grammars too (Jupyter's servers, ``nbgrader validate``);
this module keeps the course's own commands fast where a newer jsonschema is installed all the same.
"""

from __future__ import annotations

import sys

__all__ = ["command"]


def command(*args: str) -> list[str]:
    """The argument list that runs ``nbgrader *args`` with this environment's Python."""
    return [sys.executable, "-m", "grading.run_nbgrader", *args]


if __name__ == "__main__":
    sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules: `import rfc3987_syntax` raises ImportError
    from nbgrader.apps.nbgraderapp import main

    main()
