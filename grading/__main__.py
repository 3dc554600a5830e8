"""``python -m grading LESSON ...`` grades a class; ``python -m grading collect LESSON ...`` collects an LMS download;
``python -m grading roster EXPORT.csv`` makes the roster from the LMS's gradebook export;
``python -m grading lms-grades LESSON EXPORT.csv`` fills the LMS's gradebook export with the lesson's grades;
``python -m grading lms-feedback LESSON WORKSHEET.csv`` packs the feedback pages for Moodle."""

import sys

if sys.argv[1:2] == ["collect"]:
    from .collect import main as collect

    sys.exit(collect(sys.argv[2:]))
if sys.argv[1:2] == ["roster"]:
    from .lms import roster_main

    sys.exit(roster_main(sys.argv[2:]))
if sys.argv[1:2] == ["lms-grades"]:
    from .lms import main as lms_grades

    sys.exit(lms_grades(sys.argv[2:]))
if sys.argv[1:2] == ["lms-feedback"]:
    from .lms import feedback_main

    sys.exit(feedback_main(sys.argv[2:]))

from .classgrade import main

sys.exit(main())
