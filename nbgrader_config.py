"""nbgrader configuration for the course.

``solutions/`` holds the instructor's source notebooks, ``notebooks/`` the generated student copies.
Everything nbgrader writes while grading (submissions, autograded copies, feedback and the gradebook)
lives under ``.grading/``, which git ignores and which is created here when missing.
Run nbgrader from the repository root, where this file is found.
"""

import os
import warnings

c = get_config()  # noqa: F821  (injected by traitlets)

# nbgrader 0.9.6 with SQLAlchemy 2 warns "Object of type <SubmittedAssignment> not in session, add operation ...
# will not proceed" on every autograde, with the scores right. Every nbgrader process (and the class command)
# reads this file, so the warning is silenced here, and the grading logs keep only what matters.
warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")

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
# The gradebook: SQLite under .grading/ for one instructor; a database server (PostgreSQL) when
# COURSE_GRADEBOOK_URL names one (see grading/gradebook.py and the README).
c.CourseDirectory.db_url = os.environ.get("COURSE_GRADEBOOK_URL", "").strip() or "sqlite:///" + os.path.join(GRADING, "gradebook.db")

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# A student's Validate (the toolbar button, or `nbgrader validate`) reports every cell that raised, not only the
# test cells: a broken answer that only later cells trip over is found before submitting.
c.Validator.validate_all = True
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A runaway cell is interrupted after this many seconds and scores 0; grading goes on.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# Grading runs in the course's own Python environment, whatever kernel a submission names.
c.ExecutePreprocessor.kernel_name = "python3"

# An LMS download goes to .grading/downloaded/<lesson>/archive/ (zip files as downloaded, or the files in them);
# `nbgrader zip_collect <lesson>` (or `python -m grading collect <lesson> ...`, which checks that something was
# collected) finds each student from the file's name. Canvas names files
# `<lastnamefirstname>_[LATE_]<user id>_<submission id>_<file>`: the user id is the student id (two students may have
# the same name, never the same id; Canvas's gradebook export lists the ids in its ID column). Moodle names each
# student's files after `<Full Name>_<participant id>_assignsubmission_file` (mod/assign's downloader): a folder of that
# name in Moodle 4.1 and later, the same name with `_` after it in Moodle 3.1 to 4.0, and, with "Download submissions
# in folders" off, no folder but `<Full Name>_<participant id>_assignsubmission_file_<file>`: the participant id is the
# student id. Moodle gives every assignment new participant ids: RosterCollectorPlugin files a participant id that
# `python -m grading roster` recorded as an alias (roster_aliases.csv) under the roster's id.
# The group `late` holds Canvas's late mark (nbgrader ignores it; `python -m grading collect` lists those students).
c.ZipCollectApp.downloaded_directory = os.path.join(".grading", "downloaded")
c.FileNameCollectorPlugin.named_regexp = r"""(?x)
    .*[\\/]                                    # the folder the download was extracted to
    (?=(?P<late> (?i:late_)[^\\/_]+_\d+_\d+_     # Canvas's late mark, before the name
              | [^\\/_]+_(?i:late_)\d+_\d+_ )?)  # or after it (a lookahead: it reads, the groups below match)
    (?: [^\\/]*_(?=\d+_assignsubmission_)      # Moodle: <Full Name>_, then the participant id
      | (?i:late_)?[^\\/_]+_(?i:late_)? )       # Canvas: <lastnamefirstname>_, late_ before or after it
    (?P<student_id>\d+)                       # Canvas's user id, Moodle's participant id
    (?: _assignsubmission_[a-z]+_?[\\/]        # Moodle's folder: _assignsubmission_file/ (4.1 and later) or _file_/,
        (?:[^\\/]+[\\/])*                      # then the student's own folders, if any
      | _assignsubmission_[a-z]+_             # Moodle without folders: _assignsubmission_file_<file>
      | _\d+_ )                               # Canvas: _<submission id>_<file>
    (?P<file_id>[^\\/]+)$
"""
from grading.collect import RosterCollectorPlugin  # noqa: E402

c.ZipCollectApp.collector_plugin = RosterCollectorPlugin
c.RosterCollectorPlugin.grading_folder = GRADING

# Autograding executes every submission with the course's hardened Execute step: each kernel runs in a
# bubblewrap sandbox that hides this folder (solutions, gradebook, other students) and the network; test
# cells only send the student's values out of that kernel, and the grader compares them with the reference
# solution's expected values in this process; a crashed or hung kernel is replaced and grading goes on.
# See grading/. Set SandboxedExecute.sandbox = "require" to refuse grading without the sandbox.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from grading.execute import RestoreTestCells, SandboxedExecute  # noqa: E402
from grading.feedback import FeedbackExporter, FeedbackSummary, HideHiddenTests  # noqa: E402

c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.SandboxedExecute.course_root = ROOT
c.SandboxedExecute.release_directory = os.path.join(ROOT, "notebooks")
# The reference solutions, run once per lesson in a trusted kernel to record what each check expects.
c.SandboxedExecute.source_directory = os.path.join(ROOT, "solutions")
c.SandboxedExecute.reference_directory = os.environ.get("COURSE_REFERENCE_CACHE") or os.path.join(GRADING, "reference")
c.SandboxedExecute.sandbox = os.environ.get("COURSE_GRADING_SANDBOX", "auto")
# Deleted test cells are put back from the gradebook, so they are graded (and fail) instead of vanishing.
c.OverwriteCells.add_missing_cells = True
# Locked cells come back from the gradebook (test cells with their hidden tests); nbgrader's warning
# "checksum ... has changed!" is kept for cells a student changed, not given for every cell left as released.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreTestCells, CheckCellMetadata]
c.RestoreTestCells.release_directory = os.path.join(ROOT, "notebooks")
# Keep autograded notebooks small even when a submission prints without end.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50

# Feedback pages show hidden tests only by their verdict: their code is removed before the page is made.
# Each page opens with a summary (every exercise, its points and the grader's message; every written answer
# with the grader's comment) and is one small self-contained file: the course's template, maths as MathML,
# nothing loaded from the network (grading/feedback.py, grading/feedback_template/).
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests, FeedbackSummary]
c.GenerateFeedback.exporter_class = FeedbackExporter
