"""nbgrader's collect for the class hub: a submission counts only if it belongs to the student it names.

``inbound/`` is writable by every student, so anyone can drop a folder named ``<classmate>+<lesson>+<time>+...``
there; nbgrader's own collect only warns ("... cheating attempt?") and, if it is the newest, collects it as the
classmate's. The instructors' nbgrader (``hub/roles/instructor/nbgrader_config.py``) collects with
:class:`OwnerCheckedCollect` instead: such a folder is left out, with a warning naming its owner, and the
classmate's own latest submission is collected. The same holds for a submission in which any file belongs to
someone else (a classmate who learnt the folder's name and replaced a notebook in it).
"""

from __future__ import annotations

import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect


def _owner(path: str) -> str | None:
    try:
        return pwd.getpwuid(os.lstat(path).st_uid).pw_name
    except KeyError:
        return None


def _owners(folder: str) -> set[str | None]:
    """The owners of a submission folder and of everything in it (nbgrader makes its folders writable by all, so a
    classmate who learns a folder's name can replace a file inside it: that file is then theirs)."""
    owners = {_owner(folder)}
    for root, dirs, files in os.walk(folder):
        owners |= {_owner(os.path.join(root, name)) for name in dirs + files}
    return owners


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` that collects, for each student, their latest submission among those they own."""

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        owners = _owners(path)
        record["owned"] = owners == {record["username"]}
        if not record["owned"]:
            others = ", ".join(sorted(str(owner) for owner in owners - {record["username"]}))
            self.log.warning("Leaving out %s: it names %s but it or a file in it belongs to %s",
                             record["filename"], record["username"], others)
        return record

    def _sort_by_timestamp(self, records):
        # the student's own submissions first, latest first; then the others (left out below)
        return sorted(records, key=lambda record: (not record.get("owned", True), -record["timestamp"].timestamp()))

    def init_src(self):
        super().init_src()
        self.src_records = [record for record in self.src_records if record.get("owned", True)]
