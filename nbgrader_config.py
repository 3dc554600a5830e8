"""nbgrader configuration for the course.

``solutions/`` holds the instructor's source notebooks, ``notebooks/`` the generated student copies.
Everything nbgrader writes while grading (submissions, autograded copies, feedback and the gradebook)
lives under ``.grading/``, which git ignores and which is created here when missing.
Run nbgrader from the repository root, where this file is found.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

ROOT = os.path.dirname(os.path.abspath(__file__))
GRADING = os.path.join(ROOT, ".grading")
os.makedirs(GRADING, exist_ok=True)  # sqlite cannot create missing parent folders

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "learning-by-gradients"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join(".grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join(".grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join(".grading", "feedback")
c.CourseDirectory.solution_directory = os.path.join(".grading", "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(GRADING, "gradebook.db")

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A runaway cell is interrupted after this many seconds and scores 0; grading goes on.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# Grading runs in the course's own Python environment, whatever kernel a submission names.
c.ExecutePreprocessor.kernel_name = "python3"
# Deleted test cells are put back from the gradebook, so they are graded (and fail) instead of vanishing.
c.OverwriteCells.add_missing_cells = True
# Keep autograded notebooks small even when a submission prints without end.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50
