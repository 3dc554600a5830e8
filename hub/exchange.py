"""nbgrader's collect for the class hub: a submission counts only if it belongs to the student it names.

``inbound/`` is writable by every student, so anyone can drop a folder named ``<classmate>+<lesson>+<time>+...``
there; nbgrader's own collect only warns ("... cheating attempt?") and, if it is the newest, collects it as the
classmate's. The instructors' nbgrader (``hub/roles/instructor/nbgrader_config.py``) collects with
:class:`OwnerCheckedCollect` instead: such a folder is left out, with a warning naming its owner, and the
classmate's own latest submission is collected.
"""

from __future__ import annotations

import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` that collects, for each student, their latest submission among those they own."""

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        try:
            owner = pwd.getpwuid(os.stat(path).st_uid).pw_name
        except KeyError:
            owner = None
        record["owned"] = owner == record["username"]
        if not record["owned"]:
            self.log.warning("Leaving out %s: it names %s but belongs to %s", record["filename"], record["username"], owner)
        return record

    def _sort_by_timestamp(self, records):
        # the student's own submissions first, latest first; then the others (left out below)
        return sorted(records, key=lambda record: (not record.get("owned", True), -record["timestamp"].timestamp()))

    def init_src(self):
        super().init_src()
        self.src_records = [record for record in self.src_records if record.get("owned", True)]
