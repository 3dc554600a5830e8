"""``python -m grading LESSON ...`` grades a class; ``python -m grading collect LESSON ...`` collects an LMS download."""

import sys

if sys.argv[1:2] == ["collect"]:
    from .collect import main as collect

    sys.exit(collect(sys.argv[2:]))

from .classgrade import main

sys.exit(main())
