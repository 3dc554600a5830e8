"""Where the gradebook lives, and moving it from SQLite to PostgreSQL.

One instructor keeps nbgrader's default, a SQLite file (``.grading/gradebook.db``). A large class, several
graders or grading machines writing at once need a database server: set ``COURSE_GRADEBOOK_URL`` to a
SQLAlchemy URL (``postgresql+psycopg://user:password@host:5432/gradebook``, or for a local server on a Unix
socket ``postgresql+psycopg://user@/gradebook?host=/run/postgresql``) and every nbgrader command and the class
command use it (``nbgrader_config.py`` reads the variable).

An existing SQLite gradebook moves to an empty PostgreSQL database with::

    python -m grading.gradebook copy sqlite:///.grading/gradebook.db postgresql+psycopg://user@/gradebook?host=/run/postgresql

which copies every table (courses, students, lessons, submissions, grades, comments, nbgrader's schema
version), checks that the target holds exactly the rows of the source, and leaves the source untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import sqlalchemy as sa

__all__ = ["ENVIRONMENT", "GradebookError", "copy_gradebook", "gradebook_url", "main", "row_counts"]

#: The environment variable holding the gradebook's URL; unset means the SQLite file under ``.grading/``.
ENVIRONMENT = "COURSE_GRADEBOOK_URL"


class GradebookError(RuntimeError):
    """A gradebook that cannot be used as asked; the message says why and what to do."""


def gradebook_url(course_root: str | Path) -> str:
    """The gradebook's SQLAlchemy URL: ``$COURSE_GRADEBOOK_URL``, or SQLite in ``<course_root>/.grading``."""
    url = os.environ.get(ENVIRONMENT, "").strip()
    if url:
        return url
    return "sqlite:///" + os.path.join(os.path.abspath(course_root), ".grading", "gradebook.db")


def _tables() -> list[sa.Table]:
    from nbgrader.api import Base  # nbgrader's tables, parents before children

    return list(Base.metadata.sorted_tables)


def row_counts(url: str) -> dict[str, int]:
    """Rows per nbgrader table (and ``alembic_version``) in the gradebook at ``url``; 0 for a missing table."""
    engine = _engine(url)
    try:
        present = set(sa.inspect(engine).get_table_names())
        counts = {}
        with engine.connect() as db:
            for name in [t.name for t in _tables()] + ["alembic_version"]:
                counts[name] = db.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one() if name in present else 0
        return counts
    finally:
        engine.dispose()


def _engine(url: str) -> sa.Engine:
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as error:
        raise GradebookError(
            f"expected a SQLAlchemy database URL such as sqlite:///.grading/gradebook.db or "
            f"postgresql+psycopg://user@host/gradebook, got {url!r} ({error})") from error
    except ModuleNotFoundError as error:
        raise GradebookError(
            f"the database driver for {url.split(':', 1)[0]!r} is not installed ({error.name}); "
            f"hint: pip install -e '.[instructor]'") from error
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise GradebookError(f"cannot open the gradebook at {_safe(url)}: {reason}") from error
    return engine


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def copy_gradebook(source: str, target: str) -> dict[str, int]:
    """Copy every row of the gradebook at ``source`` into the empty database at ``target``.

    Parameters
    ----------
    source, target : str
        SQLAlchemy URLs. ``source`` must hold an nbgrader gradebook; ``target`` must hold no gradebook rows
        (its tables are created when missing).

    Returns
    -------
    dict of str to int
        Rows copied per table; equal to the source's rows, checked after the copy.

    Raises
    ------
    GradebookError
        If the source has no gradebook, the target already holds grades, or the copy is incomplete. Nothing
        is written to the target unless every table copies (one transaction).
    """
    if sa.engine.make_url(source) == sa.engine.make_url(target):
        raise GradebookError(f"source and target are the same database ({_safe(source)}); name an empty target")
    wanted = row_counts(source)
    if not wanted["course"] and not wanted["assignment"]:
        raise GradebookError(f"expected an nbgrader gradebook at {_safe(source)}, found no course and no lesson in it")
    there = {name: n for name, n in row_counts(target).items() if n}
    if there:
        raise GradebookError(
            f"expected an empty target, but {_safe(target)} already holds rows: {there}; hint: create a new "
            f"database (createdb gradebook) and copy into it, so that no grade is overwritten or mixed")
    tables = _tables()
    source_engine, target_engine = _engine(source), _engine(target)
    try:
        tables[0].metadata.create_all(bind=target_engine)
        with source_engine.connect() as read, target_engine.begin() as write:
            for table in tables:
                rows = [dict(row._mapping) for row in read.execute(sa.select(table))]
                if rows:
                    write.execute(sa.insert(table), rows)
            versions = read.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            write.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
            for version in versions:
                write.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    finally:
        source_engine.dispose()
        target_engine.dispose()
    copied = row_counts(target)
    if copied != wanted:
        differ = {name: (wanted[name], copied[name]) for name in wanted if wanted[name] != copied[name]}
        raise GradebookError(f"the copy is incomplete (table: source rows, target rows): {differ}")
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading.gradebook", description="Inspect the gradebook or copy it into another database.")
    commands = parser.add_subparsers(dest="command", required=True)
    copy = commands.add_parser("copy", help="copy a gradebook (e.g. SQLite) into an empty database (e.g. PostgreSQL)")
    copy.add_argument("source", help="URL of the gradebook to copy, e.g. sqlite:///.grading/gradebook.db")
    copy.add_argument("target", help="URL of an empty database, e.g. postgresql+psycopg://user@/gradebook?host=/run/postgresql")
    show = commands.add_parser("counts", help="rows per table of a gradebook")
    show.add_argument("url", nargs="?", help=f"gradebook URL (default: ${ENVIRONMENT} or .grading/gradebook.db)")
    args = parser.parse_args(argv)
    try:
        if args.command == "copy":
            counts = copy_gradebook(args.source, args.target)
            print(f"copied {_safe(args.source)} to {_safe(args.target)}:")
        else:
            counts = row_counts(args.url or gradebook_url(Path.cwd()))
    except GradebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"  {name:22} {n:6d} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
