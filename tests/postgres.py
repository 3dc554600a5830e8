"""A throw-away PostgreSQL server for the tests: Debian's ``postgresql`` binaries, a data folder in a temporary
directory, a Unix socket only (no TCP port is opened), trust authentication, stopped afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresServer", "find_binary"]


def find_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl`` on PATH or in Debian's versioned folder (``/usr/lib/postgresql/N/bin``)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:  # the number names the socket file (.s.PGSQL.<port>); no TCP is served
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``server = PostgresServer(folder); server.start(); server.url("gradebook"); server.stop()``.

    As root (CI), the server runs as Debian's ``postgres`` user, since PostgreSQL refuses to run as root, in a
    folder of its own under the system's temporary folder (pytest's folders are private to root).
    """

    def __init__(self, folder: Path) -> None:
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            folder = Path(tempfile.mkdtemp(prefix="course-postgres-")) / "server"
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.port = _free_port()
        self.initdb, self.pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("PostgreSQL is not installed: expected initdb and pg_ctl; hint: apt-get install postgresql")

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        result = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                               + (log.read_text()[-2000:] if log.exists() else ""))
        return result

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            self.sockets.mkdir(exist_ok=True)
            if self.user:
                owner = pwd.getpwnam(self.user)
                for path in (self.folder, self.sockets):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
                os.chmod(self.folder.parent, 0o755)
                os.chown(self.folder.parent, owner.pw_uid, owner.pw_gid)
            self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories={self.sockets} -p {self.port} -c fsync=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder.parent if self.user else self.folder, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """Create the database ``name``; return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host=str(self.sockets), port=self.port, user="postgres", dbname="postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@/{name}?host={self.sockets}&port={self.port}"
