"""nbgrader's ``Execute`` step, hardened: a sandboxed kernel, refused tampering, survivable crashes.

``SandboxedExecute`` replaces ``nbgrader.preprocessors.Execute`` in ``Autograde.autograde_preprocessors``
(see ``nbgrader_config.py``). For each submission it:

* starts the kernel inside the sandbox of :mod:`helpers.grader.sandbox` (the course's own Python kernel,
  whatever kernel the notebook names), and says loudly, once, when no sandbox is available;
* does not run a cell the student wrote or changed when :mod:`helpers.grader.tamper` finds that it changes
  what the tests rely on; the cell gets an error saying which line and why, so its exercise scores 0;
* keeps at most ``max_output_bytes`` of output per cell;
* when the kernel dies (``os._exit``, a native crash, the memory limit) or stops answering (a loop that
  swallows the interrupt), gives that cell an error, starts a new kernel, replays the cells that had run
  cleanly before it, and goes on: a crash costs only what it broke.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Integer, Unicode

from . import sandbox as sb
from .tamper import names_bound_by_imports, scan


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel process runs inside a :class:`~helpers.grader.sandbox.SandboxPolicy`."""

    policy: sb.SandboxPolicy | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        return self.policy.wrap(command) if self.policy is not None else command


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


class SandboxedExecute(Execute):
    sandbox = Enum(["auto", "require", "off"], "auto", help="auto: sandbox when bubblewrap works, else warn; "
                   "require: refuse to grade without it; off: never sandbox").tag(config=True)
    course_root = Unicode("", help="The course folder, hidden from graded kernels.").tag(config=True)
    release_directory = Unicode("", help="Folder of the released student notebooks (cells found unchanged there "
                                "are the lesson's own and trusted).").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output kept per cell; the rest is dropped.").tag(config=True)
    memory_mb = Integer(4096, help="Memory limit of a graded kernel (MB).").tag(config=True)
    cpu_seconds = Integer(1200, help="CPU-time limit of a graded kernel (s).").tag(config=True)
    student_cell_timeout = Integer(0, help="Time limit (s) for cells the student wrote or changed; 0: the same as "
                                   "timeout.").tag(config=True)
    check_tampering = Bool(True, help="Refuse to run student code that changes what the tests rely on.").tag(config=True)

    iopub_timeout = Integer(20, help="Seconds to wait for a cell's last output after its reply (busy machines "
                            "need more than nbclient's 4).").tag(config=True)

    _warned_unsandboxed = False  # the "unsandboxed" warning is given once per grading process

    # ---- kernel -----------------------------------------------------------------------------------
    def create_kernel_manager(self) -> AsyncKernelManager:
        self.kernel_name = "python3"  # whatever the submission's metadata says
        status = sb.sandbox_status() if self.sandbox != "off" else sb.SandboxStatus(False, "switched off by configuration")
        if not status.available:
            if self.sandbox == "require":
                raise RuntimeError(f"grading sandbox required but unavailable: {status.reason}")
            if not SandboxedExecute._warned_unsandboxed:
                SandboxedExecute._warned_unsandboxed = True
                banner = "!" * 78
                self.log.warning("\n%s\n!! GRADING WITHOUT A SANDBOX: %s\n!! Submissions run as you, with access to "
                                 "your files and the network.\n%s", banner, status.reason, banner)
            self.km = AsyncKernelManager(kernel_name="python3", config=self.config)
            return self.km
        sockets = Path(tempfile.mkdtemp(prefix="grading-kernel-"))
        sb.prepare_sockets(sockets)
        self._socket_dirs.append(sockets)
        cwd = Path(self.resources.get("metadata", {}).get("path") or ".").resolve()
        hidden = sb.hidden_folders(Path(self.course_root)) if self.course_root else ()
        hidden = tuple(dict.fromkeys((*hidden, sb.REPO_DIR)))
        km = SandboxKernelManager(kernel_name="python3", config=self.config, transport="ipc",
                                  connection_file=str(sockets / "kernel.json"), ip=str(sockets / "kernel"))
        # A signal cannot reach into the sandbox's pid namespace; ipykernel interrupts itself on request.
        km.kernel_spec.interrupt_mode = "message"
        km.policy = sb.SandboxPolicy(writable=cwd, sockets=sockets, hidden=hidden,
                                     memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds,
                                     bwrap=shutil.which("bwrap") or "bwrap")
        self.km = km
        return km

    # ---- whole notebook ---------------------------------------------------------------------------
    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        self._socket_dirs: list[Path] = []
        self._clean_sources: list[str] = []
        self._trusted = self._trusted_sources(resources or {})
        self._protected = set()
        for source in self._trusted:
            self._protected |= names_bound_by_imports(source)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("locked"):
                self._protected |= names_bound_by_imports(cell.source)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            for folder in self._socket_dirs:
                shutil.rmtree(folder, ignore_errors=True)

    def _trusted_sources(self, resources: dict) -> set[str]:
        info = resources.get("nbgrader", {})
        if not (self.release_directory and info.get("assignment") and info.get("notebook")):
            return set()
        path = Path(self.release_directory) / info["assignment"] / f"{info['notebook']}.ipynb"
        try:
            released = json.loads(path.read_text())
        except (OSError, ValueError):
            return set()
        return {
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in released.get("cells", [])
            if c.get("cell_type") == "code" and not c.get("metadata", {}).get("nbgrader", {}).get("solution")
        }

    # ---- one cell ---------------------------------------------------------------------------------
    def _is_students(self, cell: NotebookNode) -> bool:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            return False  # restored from the gradebook by nbgrader
        return cell.source not in self._trusted

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int, execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self.check_tampering and self._is_students(cell):
            findings = scan(cell.source, protected=self._protected, modules=self._protected)
            if findings:
                details = "; ".join(str(f) for f in findings[:5])
                cell.outputs = [_error("GradingRefused", f"this cell was not run because it changes what the tests rely on ({details})")]
                self.log.warning("Refused to run cell %d: %s", cell_index, details)
                return cell
        self._output_bytes = 0
        self._output_dropped = False
        self.timeout_func = None
        if self.student_cell_timeout and self._is_students(cell):
            limit = self.student_cell_timeout
            self.timeout_func = lambda _cell: limit
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (TimeoutError, DeadKernelError, CellTimeoutError, RuntimeError) as error:
            reason = ("the kernel died while running this cell (a crash, os._exit or the memory limit)"
                      if isinstance(error, DeadKernelError) or "died" in str(error).lower()
                      else f"the cell did not stop within {self._get_timeout(cell)} s and could not be interrupted")
            cell.outputs = [*cell.get("outputs", []), _error("KernelRestarted", f"{reason}; the grader started a new kernel")]
            self.log.warning("Cell %d: %s; restarting the kernel", cell_index, reason)
            await self._restart_and_replay()
            return cell
        finally:
            if self._output_dropped:
                note = f"\n[the grader dropped this cell's output after {self.max_output_bytes} bytes]\n"
                cell.setdefault("outputs", []).append(NotebookNode(output_type="stream", name="stdout", text=note))
        if not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            self._clean_sources.append(cell.source)
        return cell

    execute_cell = run_sync(async_execute_cell)

    async def _restart_and_replay(self) -> None:
        """Start a new kernel and run again, silently, the cells that had run without error."""
        try:
            await self._async_cleanup_kernel()
        except Exception as error:  # the old kernel may be beyond shutting down politely
            self.log.warning("Cleaning up the dead kernel failed: %s", error)
        self.kc = None
        self.km = self.create_kernel_manager()
        await self.async_start_new_kernel()
        await self.async_start_new_kernel_client()
        for source in self._clean_sources:
            msg_id = await ensure_async(self.kc.execute(source, store_history=False, allow_stdin=False))
            await self.async_wait_for_reply(msg_id)

    def output(self, outs: list[NotebookNode], msg: dict, display_id: str | None, cell_index: int) -> NotebookNode | None:
        size = len(json.dumps(msg.get("content", {}), default=str))
        self._output_bytes = getattr(self, "_output_bytes", 0) + size
        if self._output_bytes > self.max_output_bytes:
            self._output_dropped = True
            return None
        return super().output(outs, msg, display_id, cell_index)
