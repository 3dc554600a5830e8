"""Grade a class on a Dask cluster: one task per submission, no shared filesystem, one writer of the gradebook.

The coordinator (the class command, ``python -m grading LESSON --cluster``) sends each worker the lesson once
(:class:`LessonBundle`: the nbgrader configuration, the solution, the released notebook and the reference
records, as bytes) and one task per student (:class:`Submission`: the submitted files as bytes). A worker
grades the submission with the course's sandboxed, trusted path (``nbgrader autograde`` in a scratch course
of its own, SQLite in a temporary folder) and returns the autograded files as data (:class:`Graded`). Workers
never see the gradebook, the other students or the instructor's folders.

The coordinator alone writes: the autograded files into the course's autograded folder and the grades into
the gradebook (SQLite or PostgreSQL), with the same preprocessors ``nbgrader autograde`` ends with
(``SaveAutoGrades`` and what follows it in ``nbgrader_config.py``), so the gradebook is the one a local run
makes. Writes are idempotent (a grade row is updated in place, never added twice) and retried when the
database is briefly away. After each student it records the submission's digest in
``<reports>/graded.json``: started again, the command grades only what is missing or changed.

Dask reschedules a task whose worker died; a submission that kills workers again and again is given up by
the scheduler (``KilledWorker``). A task only waiting on that worker is blamed for its deaths too, so every
submission given up is graded once more, alone on the cluster: only one that kills its worker by itself is
reported by name, and the rest of the class is graded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import run_nbgrader

__all__ = ["DaskGrader", "Graded", "LessonBundle", "Submission", "grade_on_worker", "ledger_path", "make_bundle",
           "read_submission", "run_on_cluster", "scratch_parent", "write_graded"]

#: Environment variables a worker's grading must not inherit: it never writes the real gradebook.
_NOT_FOR_WORKERS = ("COURSE_GRADEBOOK_URL", "COURSE_REFERENCE_CACHE")


def _digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def _read_folder(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = (folder / name).resolve()
        if folder.resolve() not in path.parents:
            raise ValueError(f"refusing to write {name!r} outside {folder}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@dataclass(frozen=True)
class LessonBundle:
    """Everything a worker needs to grade one lesson, as bytes (sent to each worker once)."""

    lesson: str
    config: bytes  # nbgrader_config.py
    source: dict[str, bytes]  # solutions/<lesson>/
    release: dict[str, bytes]  # notebooks/<lesson>/
    reference: bytes  # the reference records of the lesson (grading/reference.py)
    sandbox: str  # COURSE_GRADING_SANDBOX for the workers' grading
    extra_args: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # the coordinator's course folders, hidden from graded kernels where they exist

    @property
    def digest(self) -> str:
        parts = {"config": self.config, "reference": self.reference, "sandbox": self.sandbox.encode(),
                 "args": "\0".join(self.extra_args).encode(), "hidden": "\0".join(self.hidden).encode(),
                 **{f"source/{k}": v for k, v in self.source.items()}, **{f"release/{k}": v for k, v in self.release.items()}}
        return _digest(parts)


@dataclass(frozen=True)
class Submission:
    """One student's submitted folder for the lesson, as bytes."""

    student: str
    files: dict[str, bytes]

    @property
    def digest(self) -> str:
        return _digest(self.files)


@dataclass
class Graded:
    """What a worker sends back: the autograded folder's files and how grading went."""

    student: str
    digest: str  # of the submission that was graded
    returncode: int
    files: dict[str, bytes] = field(default_factory=dict)  # the autograded folder
    log: str = ""  # the end of nbgrader's log
    seconds: float = 0.0
    worker: str = ""


# ---- on the worker ------------------------------------------------------------------------------------
_scratch: dict[str, Path] = {}  # one scratch course per lesson bundle, per worker process


def scratch_parent() -> str | None:
    """Where a worker keeps its scratch courses: the Dask worker's own local directory, which Dask removes when the
    worker closes (and a later worker removes, should this one have been killed); outside a worker, the system's
    temporary folder."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def _scratch_course(bundle: LessonBundle) -> Path:
    """A private course folder for the bundle: config, solution, reference, and the lesson released there (so
    that its own SQLite gradebook knows the lesson's cells)."""
    key = bundle.digest
    if key in _scratch and _scratch[key].is_dir():
        return _scratch[key]
    root = Path(tempfile.mkdtemp(prefix=f"grading-{bundle.lesson}-", dir=scratch_parent()))
    (root / "nbgrader_config.py").write_bytes(bundle.config)
    _write_folder(root / "solutions" / bundle.lesson, bundle.source)
    _write_folder(root / "notebooks" / bundle.lesson, bundle.release)
    (root / ".grading" / "reference").mkdir(parents=True)
    (root / ".grading" / "reference" / f"{bundle.lesson}.json").write_bytes(bundle.reference)
    result = _nbgrader(root, bundle, "generate_assignment", bundle.lesson, "--force")
    if result.returncode != 0:
        raise RuntimeError(f"could not prepare the lesson {bundle.lesson} on this worker:\n{result.stderr[-3000:]}")
    _scratch[key] = root
    return root


def _nbgrader(root: Path, bundle: LessonBundle, *args: str) -> subprocess.CompletedProcess:
    scripts = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_WORKERS}
    env.update(PATH=f"{scripts}{os.pathsep}{env.get('PATH', '')}", COURSE_GRADING_SANDBOX=bundle.sandbox,
               PYTHONHASHSEED="0")
    return subprocess.run(run_nbgrader.command(*args), cwd=root, env=env, capture_output=True, text=True)


def grade_on_worker(bundle: LessonBundle, submission: Submission) -> Graded:
    """Grade one submission in this worker's scratch course; return the autograded files as data."""
    start = time.perf_counter()
    root = _scratch_course(bundle)
    student, lesson = submission.student, bundle.lesson
    submitted = root / ".grading" / "submitted" / student / lesson
    autograded = root / ".grading" / "autograded" / student / lesson
    for folder in (submitted, autograded):
        shutil.rmtree(folder, ignore_errors=True)
    _write_folder(submitted, submission.files)
    try:
        hide = [f"--SandboxedExecute.hidden_directories={folder}" for folder in bundle.hidden]
        result = _nbgrader(root, bundle, "autograde", lesson, "--student", student, "--force", *hide, *bundle.extra_args)
        files = _read_folder(autograded) if result.returncode == 0 else {}
        try:
            from distributed import get_worker

            worker = get_worker().address
        except (ImportError, ValueError):
            worker = ""
        return Graded(student, submission.digest, result.returncode, files, result.stderr[-4000:],
                      time.perf_counter() - start, worker)
    finally:
        for folder in (submitted.parent, autograded.parent):
            shutil.rmtree(folder, ignore_errors=True)


# ---- on the coordinator -------------------------------------------------------------------------------
def make_bundle(course_root: Path, coursedir, lesson: str, reference: Path, sandbox: str,
                extra_args: Iterable[str] = ()) -> LessonBundle:
    root = Path(course_root).resolve()
    hidden = dict.fromkeys(str(p) for p in (root, Path(reference).resolve().parent, (root / coursedir.source_directory).resolve()))
    return LessonBundle(
        hidden=tuple(hidden),
        lesson=lesson,
        config=(root / "nbgrader_config.py").read_bytes(),
        source=_read_folder(root / coursedir.source_directory / lesson),
        release=_read_folder(root / coursedir.release_directory / lesson),
        reference=reference.read_bytes(),
        sandbox=sandbox,
        extra_args=tuple(extra_args),
    )


def read_submission(folder: Path, student: str) -> Submission:
    return Submission(student, _read_folder(folder))


def ledger_path(reports: Path) -> Path:
    """``{student: digest of the graded submission}``, written after each student's grades are saved."""
    return reports / "graded.json"


def _retry(action: Callable[[], None], what: str, attempts: int = 8, wait: float = 0.5) -> None:
    """Run a database write again while the database is away (a restarted server), up to ~2 minutes."""
    import sqlalchemy.exc

    for attempt in range(attempts):
        try:
            return action()
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as error:
            if attempt == attempts - 1:
                raise RuntimeError(f"could not write {what} to the gradebook after {attempts} attempts: {error}") from error
            time.sleep(wait * 2**attempt)


def write_graded(graded: Graded, lesson: str, coursedir, config, submitted: Path) -> None:
    """Save a worker's result: the autograded files, then the grades, as ``nbgrader autograde`` saves them."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import SaveAutoGrades

    target = Path(coursedir.root) / coursedir.autograded_directory / graded.student / lesson
    shutil.rmtree(target, ignore_errors=True)
    _write_folder(target, graded.files)
    timestamp = coursedir.get_existing_timestamp(str(submitted))

    classes = list(config.Autograde.autograde_preprocessors) if "Autograde" in config else [SaveAutoGrades]
    first = next((i for i, c in enumerate(classes) if isinstance(c, type) and issubclass(c, SaveAutoGrades)), None)
    finishing = classes[first:] if first is not None else [SaveAutoGrades]

    def save() -> None:
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            try:
                gb.find_student(graded.student)
            except MissingEntry:  # as nbgrader autograde does (Autograde.create_student)
                gb.add_student(graded.student)
            gb.update_or_create_submission(lesson, graded.student, **({"timestamp": timestamp} if timestamp else {}))
        for path in sorted(target.glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            resources = {"nbgrader": {"student": graded.student, "assignment": lesson, "notebook": path.stem,
                                      "db_url": coursedir.db_url}}
            for cls in finishing:
                nb, resources = cls(config=config).preprocess(nb, resources)

    _retry(save, f"the grades of {graded.student}")


def run_on_cluster(bundle: LessonBundle, submissions: dict[str, Submission], on_result: Callable[[str, Graded | None, str], None],
                   scheduler: str | None = None, workers: int = 1, progress: bool = True,
                   task: Callable[[LessonBundle, Submission], Graded] | None = None) -> None:
    """Grade ``submissions`` on a Dask cluster; call ``on_result(student, graded or None, problem)`` as each ends.

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a ``LocalCluster``
    of ``workers`` single-threaded processes runs on this machine. ``task`` replaces :func:`grade_on_worker`
    (the benchmark measures the scheduler's own cost with a task that grades nothing).
    """
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker
    from tqdm.auto import tqdm

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        # the scheduler always serves a few HTTP pages (health, info): on a free port of localhost only, so that it
        # neither takes Dask's usual port 8787 nor warns that another program has it
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address="localhost:0",
                               silence_logs=40)
        client = Client(cluster)
    try:
        shared = client.scatter(bundle, broadcast=True, hash=False)

        def submit(student: str, attempt: str, lesson):
            sub = submissions[student]
            return client.submit(task or grade_on_worker, lesson, sub, pure=False, retries=0,
                                 key=f"{attempt}-{bundle.lesson}-{student}-{sub.digest[:12]}")

        futures = {submit(student, "grade", shared): student for student in submissions}
        bar = tqdm(total=len(futures), desc=f"grading {bundle.lesson}", unit="student", disable=not progress or not futures)
        failures, start = 0, time.perf_counter()

        def finish(student: str, future) -> None:
            nonlocal failures
            try:
                graded = future.result()
            except KilledWorker:
                failures += 1
                on_result(student, None, "grading killed its worker process again and again: not graded")
            except Exception as error:  # a worker-side error: reported by name, the class goes on
                failures += 1
                on_result(student, None, f"grading failed on the worker: {type(error).__name__}: {str(error)[:300]}")
            else:
                on_result(student, graded, "")
            bar.update()
            rate = bar.n / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix(failures=failures, rate=f"{rate * 60:.1f}/min")

        given_up = []
        for future in as_completed(futures):
            if future.status in ("error", "cancelled"):  # perhaps only queued behind one that kills its worker
                given_up.append(futures[future])
            else:
                finish(futures[future], future)
        # Once more, alone on the cluster, with the lesson sent along (its scattered copy may have died with the
        # workers): what fails now fails by itself.
        for student in given_up:
            finish(student, submit(student, "alone", bundle))
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def load_ledger(reports: Path) -> dict[str, str]:
    try:
        return json.loads(ledger_path(reports).read_text())
    except (OSError, ValueError):
        return {}


def save_ledger(reports: Path, ledger: dict[str, str]) -> None:
    path = ledger_path(reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(ledger, indent=1, sort_keys=True))
    temporary.replace(path)


class DaskGrader:
    """The class command's grading on Dask (used by :func:`grading.classgrade.grade_class`).

    ``unchanged(students)`` names the students graded before with the same files, lesson and gradebook
    (kept unless ``regrade``); ``grade(students)`` yields ``(student, Outcome)`` as each ends, after its
    autograded files and grades are written here.
    """

    def __init__(self, setup, lesson: str, extra_args: Iterable[str] = (), scheduler: str | None = None,
                 workers: int | None = None, regrade: bool = False) -> None:
        self.setup, self.lesson, self.scheduler, self.regrade = setup, lesson, scheduler, regrade
        self.workers = max(1, workers or os.cpu_count() or 1)
        config, coursedir = setup.config, setup.coursedir
        sandbox = os.environ.get("COURSE_GRADING_SANDBOX") or str(config.get("SandboxedExecute", {}).get("sandbox", "auto"))
        self.bundle = make_bundle(Path(coursedir.root), coursedir, lesson, setup.reference, sandbox, extra_args)
        self.ledger = load_ledger(setup.reports)
        self.submissions = {}
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                raise RuntimeError(
                    f"the gradebook ({coursedir.db_url.split('://')[0]}) has no lesson {lesson}: release it into this "
                    f"gradebook first (`nbgrader generate_assignment {lesson} --force` with the same "
                    f"COURSE_GRADEBOOK_URL). Nobody was graded.") from None

    def _key(self, student: str) -> str:
        if student not in self.submissions:
            self.submissions[student] = read_submission(self.setup.submitted / student / self.lesson, student)
        return _ledger_key(self.submissions[student], self.bundle, self.setup.coursedir.db_url)

    def unchanged(self, students: Iterable[str]) -> list[str]:
        if self.regrade:
            return []
        autograded = Path(self.setup.coursedir.root) / self.setup.coursedir.autograded_directory
        return [s for s in students if self.ledger.get(s) == self._key(s) and (autograded / s / self.lesson).is_dir()]

    def grade(self, students: Iterable[str], progress: bool = True):
        from queue import Queue
        from threading import Thread

        from .classgrade import Outcome

        todo = {s: self.submissions.get(s) or read_submission(self.setup.submitted / s / self.lesson, s) for s in students}
        if not todo:  # every student kept: no cluster to start
            return
        results: Queue = Queue()

        def on_result(student: str, graded: Graded | None, problem: str) -> None:
            if graded is None:
                results.put((student, Outcome(1, problem, 0.0, problem)))
                return
            if graded.returncode == 0 and graded.files:
                try:
                    write_graded(graded, self.lesson, self.setup.coursedir, self.setup.config,
                                 self.setup.submitted / student / self.lesson)
                except Exception as error:  # reported by name; the class goes on
                    problem = f"could not save the grades: {type(error).__name__}: {str(error)[:300]}"
                    results.put((student, Outcome(1, graded.log, graded.seconds, problem)))
                    return
                self.ledger[student] = _ledger_key(todo[student], self.bundle, self.setup.coursedir.db_url)
                save_ledger(self.setup.reports, self.ledger)
            results.put((student, Outcome(graded.returncode, graded.log, graded.seconds)))

        failure: list[BaseException] = []

        def work() -> None:
            try:
                run_on_cluster(self.bundle, todo, on_result, scheduler=self.scheduler, workers=self.workers, progress=progress)
            except BaseException as error:  # e.g. no scheduler at that address: raised in the caller's thread
                failure.append(error)
            finally:
                results.put(None)

        thread = Thread(target=work, daemon=True)
        thread.start()
        while (item := results.get()) is not None:
            yield item
        thread.join()
        if failure:
            raise failure[0]


def _ledger_key(submission: Submission, bundle: LessonBundle, db_url: str) -> str:
    """Changes when the student's files, the lesson's grading (solution, reference, config) or the gradebook change."""
    return hashlib.sha256((submission.digest + bundle.digest + db_url).encode()).hexdigest()
