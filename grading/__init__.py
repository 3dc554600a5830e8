"""The course's grading, for instructors and CI (students never import it).

One step per module:

``sandbox``     the bubblewrap sandbox every graded kernel runs in
``plain``       plain data out of the student's kernel: written there as JSON, read here with limits
``probes``      a test cell split into the probe (student's kernel) and the record (trusted kernel)
``reference``   what each check expects, recorded once per lesson from the reference solution
``judge``       the comparison, made outside the student's kernel
``execute``     nbgrader's Execute step built from the above (configured in ``nbgrader_config.py``)
``course``      the course folder a command works on: its nbgrader configuration and folders
``run_nbgrader`` nbgrader's command line, started without an import no notebook needs
``source``      the rules read from the submitted cells (loops, libraries), outside the kernel
``collect``     an LMS download into the submitted folder: ``python -m grading collect LESSON DOWNLOAD.zip``
``classgrade``  grade a whole class in parallel: ``python -m grading LESSON``
``cluster``     the same on Dask: a local cluster or any scheduler
``summary``     the class's score distribution and the share that lost each test cell
``feedback``    the feedback page: hidden tests shown only by their verdict
``lms``         the grades back into the LMS: ``python -m grading lms-grades LESSON EXPORT.csv``
``similarity``  similar answers in a class (copydetect): ``python -m grading.similarity LESSON``
``gradebook``   where the gradebook lives (SQLite or PostgreSQL), and ``python -m grading.gradebook copy``
``edition``     the student edition: ``python -m grading.edition OUT``
"""

__all__ = ["classgrade", "cluster", "collect", "course", "execute", "feedback", "gradebook", "judge", "lms", "plain", "probes",
           "reference", "run_nbgrader", "sandbox", "similarity", "source", "summary"]
