"""nbgrader for the class hub's instructors: the course folder, whose own nbgrader_config.py nbgrader then reads
(the grader, the feedback pages, the gradebook), and an exchange shared by the instructors' group: the hub made
<exchange>/<course id> group-owned by it, and groupshared keeps what nbgrader creates there (and in the course)
writable by every instructor and readable by no student."""

import importlib.util
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.root = os.environ["COURSE_HUB_COURSE"]
c.CourseDirectory.groupshared = True

# Collect only submissions that belong to the student they name (hub/exchange.py): any student can write inbound/.
if "course_hub_exchange" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("course_hub_exchange", Path(__file__).resolve().parents[2] / "exchange.py")
    sys.modules["course_hub_exchange"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["course_hub_exchange"])
c.ExchangeFactory.collect = "course_hub_exchange.OwnerCheckedCollect"
