"""The launcher process of one job, and how the node talks to it.

In isolated mode the node starts `unshare --user --net --mount --pid --ipc --uts --fork
--kill-child --keep-caps python -I -S launcher.py CONFIG`; the launcher says "R" on
its pipe once it is the init of the new namespaces, the node writes their uid/gid maps (only a
process outside may), answers "G", and at the end reads "D" and the marshal-encoded report.
The job's stdout and stderr come on the process's stdout, read as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import marshal
import os
import signal
from pathlib import Path
from typing import BinaryIO

from connector.compute.sandbox.log import CappedLog
from connector.compute.sandbox.verdict import Facts

LAUNCHER = Path(__file__).resolve().parent / "launcher.py"
JOB_UID = 1000  # the job's uid inside the namespace
HOST_JOB_ID = 2_147_480_000  # what it is on the host when the node is root: nobody uses it
GRACE = 5.0  # the launcher enforces the limits; this is our backstop beyond them


class Launch:
    """One launcher process and the pipes we talk to it through."""

    def __init__(self, unshare: str, cfg: dict, isolated: bool) -> None:
        self.unshare, self.cfg, self.isolated = unshare, cfg, isolated
        self.up_r, up_w = os.pipe()
        down_r, self.down_w = os.pipe()
        self._theirs: tuple[int, ...] = (up_w, down_r)
        cfg.update(up=up_w, down=down_r)
        self.proc: asyncio.subprocess.Process | None = None

    def command(self, config_file: str) -> list[str]:
        launcher = [self.cfg["python"], "-I", "-S", str(LAUNCHER), config_file]
        if not self.isolated:
            return launcher
        flags = ["--user", "--net", "--mount", "--pid", "--ipc", "--uts"]
        return [self.unshare, *flags, "--fork", "--kill-child", "--keep-caps", *launcher]

    async def until_done(
        self, log: CappedLog, deadline: float, cancel: asyncio.Event | None
    ) -> Facts:
        config_file = str(Path(self.cfg["out"]).parent / "sandbox-config")
        with open(config_file, "wb") as f:
            marshal.dump(self.cfg, f)
        # The log comes on a pipe of our own, not the Process's: its wait() would also wait for
        # that pipe to close, which an escaped unisolated process could hold open for ever.
        log_r, log_w = os.pipe()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(config_file),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_w,
                stderr=log_w,
                pass_fds=self._theirs,
                env={},
                start_new_session=True,
            )
        except BaseException:
            os.close(log_r)
            raise
        finally:
            os.close(log_w)
        for fd in self._theirs:
            os.close(fd)
        self._theirs = ()
        logging = asyncio.create_task(_read_log(os.fdopen(log_r, "rb", 0), log))
        talk = asyncio.ensure_future(self._talk())
        stop = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            waiting = {talk} if stop is None else {talk, stop}
            await asyncio.wait(waiting, timeout=deadline, return_when=asyncio.FIRST_COMPLETED)
            if not talk.done() and stop is not None and stop.done():
                self._ask_to_stop()  # the launcher ends the job and still reports on it
                await asyncio.wait({talk}, timeout=GRACE)
            if not talk.done():  # the launcher is stuck, or does not answer
                talk.cancel()
                self._kill()
                await self.proc.wait()
                await _last_of(logging)
                return Facts(cancelled=True) if stop and stop.done() else Facts(backstop=True)
            report = talk.result()
            await asyncio.wait_for(self.proc.wait(), GRACE)  # it exits right after its report
            await _last_of(logging)
        except TimeoutError:
            self._kill()
            await self.proc.wait()
            await _last_of(logging)
            return Facts(backstop=True)
        except BaseException:  # our task cancelled: the job dies with us, then it goes on
            self._kill()
            talk.cancel()
            logging.cancel()
            raise
        finally:
            if stop is not None:
                stop.cancel()
        return Facts.from_report(report, self.proc.returncode)

    async def _talk(self) -> dict | None:
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(self.up_r, "rb", 0)
        )
        self.up_r = -1  # the transport owns it now
        try:
            if self.isolated:
                if await reader.read(1) != b"R":
                    return None
                assert self.proc is not None
                _write_maps(self.proc.pid)
                os.write(self.down_w, b"G")
            data = await reader.read()
        finally:
            transport.close()
        if not data.startswith(b"D"):
            return None
        return marshal.loads(data[1:])

    def _ask_to_stop(self) -> None:
        assert self.proc is not None
        launcher = _children(self.proc.pid) if self.isolated else [self.proc.pid]
        for pid in launcher:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _kill(self) -> None:
        """Kill the job now. Isolated: its launcher, the init of its pid namespace, so that the
        kernel takes every process in there with it before unshare, its parent, can reap it.
        Unisolated: the job's process group, then the launcher."""
        if self.proc is None or self.proc.returncode is not None:
            return
        children = _children(self.proc.pid)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                if self.isolated:
                    os.kill(child, signal.SIGKILL)
                else:
                    os.killpg(child, signal.SIGKILL)
        if not (self.isolated and children):  # and if unshare has no child yet, unshare
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        for fd in (self.up_r, self.down_w, *self._theirs):
            if fd >= 0:
                os.close(fd)
        self.up_r = self.down_w = -1
        self._theirs = ()


async def _read_log(pipe: BinaryIO, log: CappedLog) -> None:
    reader = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), pipe
    )
    try:
        await log.drain(reader)
    finally:
        transport.close()


async def _last_of(logging: asyncio.Task[None]) -> None:
    """The log's last bytes: at once when the job's processes are all gone (always so when
    isolated); an unisolated process that escaped the job's group may hold the pipe open."""
    await asyncio.wait({logging}, timeout=1.0)
    logging.cancel()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


@functools.cache
def host_root() -> bool:
    """Root of the machine (not of some user namespace): free to map any uid for the job."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return False


def _write_maps(pid: int) -> None:
    """Map the namespace's ids: root to root for setup, the job's uid to an unused one."""
    proc = f"/proc/{pid}"
    maps: tuple[tuple[str, str], ...]
    if host_root():
        ids = f"0 0 1\n{JOB_UID} {HOST_JOB_ID} 1\n"
        maps = (("uid_map", ids), ("gid_map", ids))
    else:
        maps = (
            ("setgroups", "deny"),
            ("uid_map", f"0 {os.geteuid()} 1\n"),
            ("gid_map", f"0 {os.getegid()} 1\n"),
        )
    for name, text in maps:
        with open(f"{proc}/{name}", "w") as f:
            f.write(text)
