"""What a whole job uses right now: CPU time and memory summed over all its processes.

Rlimits bind each process alone, so a job of many processes could use its CPU time or its
memory once per process; the launcher adds everything up with this and stops the job when
the sum passes a limit. It reads a proc of the job's pid namespace that the launcher mounted,
opened and detached before the job started: the job itself never sees a /proc.
Stdlib only: the launcher imports it without site-packages.
"""

from __future__ import annotations

import os
import resource

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class Usage:
    def __init__(self, proc_fd: int) -> None:
        self.proc_fd = proc_fd

    def cpu_and_memory(self) -> tuple[float, int]:
        """CPU seconds of the live processes, of what they reaped and of what we reaped; the
        live processes' anonymous resident memory in bytes."""
        ticks, pages = 0, 0
        for name in os.listdir(self.proc_fd):
            if not name.isdigit() or name == "1":  # pid 1 is the launcher itself
                continue
            try:
                stat = _read(self.proc_fd, name + "/stat")
                statm = _read(self.proc_fd, name + "/statm").split()
            except OSError:
                continue  # it ended meanwhile; what it used is in its parent's counts now
            fields = stat[stat.rindex(b")") + 2 :].split()
            ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            pages += max(int(statm[1]) - int(statm[2]), 0)  # resident minus file-backed
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ticks / _TICK + reaped.ru_utime + reaped.ru_stime, pages * _PAGE


def _read(dir_fd: int, path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)
