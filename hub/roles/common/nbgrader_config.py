"""nbgrader for every user of the class hub: the course and its exchange (set by the hub, see hub/__init__.py)."""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = os.environ["COURSE_HUB_COURSE_ID"]
c.Exchange.root = os.environ["COURSE_HUB_EXCHANGE"]
# Validate reports every cell that raised, not only the test cells, as in the course's own nbgrader_config.py.
c.Validator.validate_all = True
