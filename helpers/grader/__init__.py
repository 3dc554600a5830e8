"""The course's hardened grading: a sandboxed, tamper-refusing ``Execute`` for nbgrader, and a command
that grades a whole class in parallel (``python -m helpers.grader``). Instructors' tools, not students'."""
