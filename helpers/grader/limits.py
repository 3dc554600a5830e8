"""Run a command under resource limits: ``python -m helpers.grader.limits --memory-mb M --cpu-seconds S -- cmd ...``.

Used inside the grading sandbox: the limits apply to the kernel and everything it starts.
"""

from __future__ import annotations

import argparse
import os
import resource


def apply_limits(memory_mb: int | None, cpu_seconds: int | None, file_mb: int | None) -> None:
    """Set hard and soft limits on this process (inherited by what it executes)."""
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    if file_mb:
        limit = file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mb", type=int)
    parser.add_argument("--cpu-seconds", type=int)
    parser.add_argument("--file-mb", type=int)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    apply_limits(args.memory_mb, args.cpu_seconds, args.file_mb)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
