"""The class command on Dask: a LocalCluster on this machine, and a real ``dask scheduler`` with two
``dask worker`` processes on localhost writing into a real PostgreSQL gradebook, with faults.

One small lesson-1 class is graded cleanly once (LocalCluster, SQLite); every faulty run must end with the
same grades in its gradebook:

* a worker killed while it grades a student: the student is graded again on a worker that lives;
* PostgreSQL restarted during the run: the coordinator's writes are retried, nothing lost or doubled;
* a submission whose grading kills every worker that takes it: reported by name, the rest graded;
* the coordinator killed after its first grade is saved, then started again: it grades only what is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa

import course
from postgres import PostgresServer, find_binary

LESSON = "01_gradient_descent"
VICTIM, CRASHER = "victim", "crasher"

pytestmark = pytest.mark.skipif(find_binary("initdb") is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (apt-get install postgresql); CI installs it")


def scripts() -> str:
    return str(Path(sys.executable).parent)


def environment(url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PATH": f"{scripts()}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COURSE_GRADEBOOK_URL", None)
    if url:
        env["COURSE_GRADEBOOK_URL"] = url
    return env


def class_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "grading", LESSON, *args]


def grades(url: str) -> dict[str, dict[str, float]]:
    """``{student: {test cell: score}}`` and one submission row per student, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        result = {}
        for submission in gb.assignment_submissions(LESSON):
            result[submission.student.id] = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades
                                             if g.name.startswith("test_")}
    engine = sa.create_engine(url)
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id")).all()
    engine.dispose()
    assert all(n == 1 for _, n in rows), f"a student has more than one submission row: {rows}"
    return result


def release(root: Path, url: str) -> None:
    """The instructor's release step, into the gradebook at ``url`` (the lesson's cells go into the gradebook)."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", LESSON, "--force"], cwd=root,
                          env=environment(url), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def autograde_processes(student: str) -> list[int]:
    """Process ids of ``nbgrader autograde ... --student <student>`` runs."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"autograde" in args and student.encode() in args and b"--student" in args:
                found.append(int(entry.name))
    return found


def kill_worker_grading(student: str) -> bool:
    """Kill the Dask worker process that runs ``student``'s grading (and that grading); True if one was found."""
    killed = False
    for pid in autograde_processes(student):
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            os.kill(parent, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
            killed = True
        except (OSError, ValueError):
            continue
    return killed


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    root = course.make_course(tmp_path_factory.mktemp("course-cluster"), [LESSON])
    course.nbgrader(root, "generate_assignment", LESSON, "--force")
    student_nb = course.read(root / "notebooks" / LESSON / f"{LESSON}.ipynb")
    source_nb = course.read(course.source_notebook(LESSON))
    wrong = course.main_wrong_answers(LESSON)
    first = sorted(wrong)[0]
    submissions = tmp_path_factory.mktemp("collected")
    for student, nb in {"solution": course.fill_answers(student_nb, source_nb), "blank": student_nb,
                        f"wrong-{first}": course.fill_answers(student_nb, source_nb, replace={first: wrong[first]}),
                        VICTIM: course.fill_answers(student_nb, source_nb),
                        CRASHER: course.fill_answers(student_nb, source_nb)}.items():
        folder = submissions / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{LESSON}.ipynb"))
    return root, submissions


@pytest.fixture(scope="module")
def clean(cohort) -> dict:
    """The reference: the class graded on the default LocalCluster (2 workers) into SQLite, without faults."""
    root, submissions = cohort
    with socket.socket() as taken:  # another program on Dask's usual port 8787, when it is free here
        with contextlib.suppress(OSError):
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        run = subprocess.run(class_command("-j", "2", "--submissions", str(submissions)), cwd=root,
                             env=environment(), capture_output=True, text=True, timeout=1800)
    return {"run": run, "grades": grades(f"sqlite:///{root / '.grading' / 'gradebook.db'}")}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    server = PostgresServer(tmp_path_factory.mktemp("postgres") / "server").start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def scheduler():
    """A real ``dask scheduler`` and two ``dask worker`` processes (each under a nanny that restarts it)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = os.path.join(scripts(), "dask")
    env = environment()
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    time.sleep(2)
    for _ in range(2):
        processes.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=120)
    yield address
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_the_default_local_cluster_grades_the_class(clean, cohort):
    run = clean["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    got = clean["grades"]
    cells = course.graded_cells(LESSON).tests
    assert got["solution"] == cells and got[VICTIM] == cells and got[CRASHER] == cells
    assert set(got["blank"].values()) == {0.0}
    wrong = next(s for s in got if s.startswith("wrong-"))
    assert sorted(c for c, s in got[wrong].items() if s == 0) == course.wrong_answers(LESSON)[wrong.removeprefix("wrong-")]["fails"]
    root, _ = cohort
    reports = root / ".grading" / "reports" / LESSON
    summary = (reports / "summary.csv").read_text()
    assert all(student in summary for student in got)
    assert (reports / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "no summary plot beside the reports"
    assert "similar" in (reports / "similarity.html").read_text(), "no report of similar answers beside the reports"
    assert "grading 01_gradient_descent" in run.stderr and "student" in run.stderr, "no progress bar"
    assert "already in use" not in run.stderr, "the local cluster's HTTP pages took, or warned about, a port in use"


def test_faults_on_a_real_cluster_lose_and_double_nothing(clean, cohort, postgres, scheduler):
    """A worker killed mid-grading, PostgreSQL restarted mid-run, a submission that kills its workers."""
    root, submissions = cohort
    url = postgres.create_database("faults")
    release(root, url)
    command = class_command("--scheduler", scheduler, "--submissions", str(submissions), "--regrade")
    process = subprocess.Popen(command, cwd=root, env=environment(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events, stop = [], threading.Event()

    def saboteur() -> None:
        victim_killed, restarted = False, False
        while not stop.is_set():
            if not victim_killed and kill_worker_grading(VICTIM):
                victim_killed = True
                events.append("killed the worker grading victim")
            if kill_worker_grading(CRASHER):
                events.append("killed the worker grading crasher")
            if not restarted and _rows(url) > 0:
                postgres.restart()
                restarted = True
                events.append("restarted PostgreSQL")
            time.sleep(0.2)

    thread = threading.Thread(target=saboteur, daemon=True)
    thread.start()
    out, err = process.communicate(timeout=1800)
    stop.set()
    thread.join()
    assert "killed the worker grading victim" in events and "restarted PostgreSQL" in events, (events, out[-3000:], err[-5000:])
    assert process.returncode == 1, "a student was not graded: the command must say so with its exit code"
    assert f"{CRASHER}" in out and "killed its worker" in out, out[-3000:]
    expected = {s: g for s, g in clean["grades"].items() if s != CRASHER}
    assert grades(url) == expected, err[-3000:]


def _rows(url: str) -> int:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as db:
            n = db.execute(sa.text("SELECT COUNT(*) FROM submitted_assignment")).scalar_one()
        engine.dispose()
        return n
    except Exception:
        return 0


def test_an_interrupted_coordinator_resumes_and_grades_only_what_is_missing(clean, cohort, postgres, scheduler):
    root, submissions = cohort
    url = postgres.create_database("resumed")
    unreleased = subprocess.run(class_command("--scheduler", scheduler, "--submissions", str(submissions)), cwd=root,
                                env=environment(url), capture_output=True, text=True, timeout=600)
    assert unreleased.returncode == 1 and "has no lesson 01_gradient_descent: release it" in unreleased.stderr, unreleased.stderr
    release(root, url)
    ledger = root / ".grading" / "reports" / LESSON / "graded.json"
    ledger.unlink(missing_ok=True)
    command = class_command("--scheduler", scheduler, "--submissions", str(submissions))
    process = subprocess.Popen(command, cwd=root, env=environment(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 900
    while time.time() < deadline and process.poll() is None:
        if ledger.exists() and json.loads(ledger.read_text() or "{}"):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.1)
    process.wait(timeout=60)
    first = json.loads(ledger.read_text())
    assert 1 <= len(first) < 5, f"the coordinator was to be stopped mid-class, ledger {first}"
    again = subprocess.run(command, cwd=root, env=environment(url), capture_output=True, text=True, timeout=1800)
    assert f"{len(first)} of 5 students were graded before" in again.stderr, again.stderr[-2000:]
    assert again.returncode == 0, again.stdout[-3000:]
    assert grades(url) == clean["grades"]


def _make_scratch_folder() -> tuple[str, str]:
    """On a worker: a folder where the worker keeps its scratch courses, and the worker's local directory."""
    import tempfile

    from distributed import get_worker

    from grading.cluster import scratch_parent

    return tempfile.mkdtemp(prefix="grading-test-", dir=scratch_parent()), get_worker().local_directory


def test_a_workers_scratch_courses_are_removed_when_it_closes():
    """Each worker grades in a scratch course of its own; it lives in the worker's local directory, which Dask
    removes when the worker closes, so that grading a class leaves nothing behind in /tmp."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address="localhost:0", silence_logs=40) as local, \
            Client(local) as client:
        folder, local_directory = client.submit(_make_scratch_folder, pure=False).result()
        assert Path(folder).parent == Path(local_directory) and Path(folder).is_dir()
    assert not Path(folder).exists() and not Path(local_directory).exists(), f"{folder} is left after the cluster closed"


def _dies_for_the_crasher(bundle, submission):
    """A task that kills its worker process when it grades ``crasher`` and grades everyone else at once."""
    from grading.cluster import Graded

    if submission.student == CRASHER:
        os._exit(1)
    return Graded(submission.student, submission.digest, 0)


def test_a_submission_queued_behind_one_that_kills_its_worker_is_still_graded(cohort):
    """One worker, the crasher first: Dask holds the next task on the same worker and blames it for each death too,
    until it gives both up. The class command grades what was given up once more, alone: only the crasher is lost."""
    from grading import cluster
    from grading.classgrade import prepare

    root, submissions = cohort
    setup = prepare(LESSON, submissions, root)
    bundle = cluster.make_bundle(root, setup.coursedir, LESSON, setup.reference, "auto")
    chosen = {student: cluster.read_submission(submissions / student / LESSON, student) for student in (CRASHER, "solution")}
    results = {}
    cluster.run_on_cluster(bundle, chosen, lambda student, graded, problem: results.update({student: (graded, problem)}),
                           workers=1, progress=False, task=_dies_for_the_crasher)
    assert results["solution"][0] is not None and results["solution"][1] == "", results
    assert results[CRASHER][0] is None and "killed its worker" in results[CRASHER][1], results
