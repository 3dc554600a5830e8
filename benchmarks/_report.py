"""What every benchmark ends with: its figures as JSON on stdout, and in a file when ``--json PATH`` is given."""

from __future__ import annotations

import json
from pathlib import Path


def emit(summary: dict, path: Path | None) -> None:
    print()
    print(json.dumps(summary, indent=2))
    if path:
        path.write_text(json.dumps(summary, indent=2) + "\n")
