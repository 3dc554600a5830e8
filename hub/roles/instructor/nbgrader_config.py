"""nbgrader for the class hub's instructors: the course folder, whose own nbgrader_config.py nbgrader then reads
(the grader, the feedback pages, the gradebook), and an exchange shared by the instructors' group: the hub made
<exchange>/<course id> group-owned by it, and groupshared keeps what nbgrader creates there (and in the course)
writable by every instructor and readable by no student."""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.root = os.environ["COURSE_HUB_COURSE"]
c.CourseDirectory.groupshared = True
