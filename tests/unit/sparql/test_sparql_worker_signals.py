"""Query workers and signals: Ctrl-C in a terminal reaches the node, never its workers, and a
node that dies leaves no worker behind. A real pool in a real process, signalled for real."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from pathlib import Path

# a process that owns a pool of two workers, says which they are, and serves until stopped
OWNER = """
import asyncio, signal, sys
from pathlib import Path
# as a terminal's foreground job: a runner started in the background (`cmd &`) hands its
# children SIGINT ignored, and an ignored signal stays ignored across exec
signal.signal(signal.SIGINT, signal.default_int_handler)
from connector.sparql import Limits, SparqlSettings, open_sparql

async def main(folder, query):
    limits = Limits(workers=2, replica_max_bytes=0)
    async with open_sparql(Path(folder), SparqlSettings(limits=limits)) as service:
        await service.store.replace_graph("urn:g", "<urn:a> <urn:p> 1, 2, 3, 4, 5, 6, 7, 8 .")
        await service.engine.execute("ASK {}", [("*/*", 1.0)])
        print("ready", flush=True)
        if query:
            await service.engine.execute(query, [("*/*", 1.0)])
        await asyncio.Event().wait()

try:
    asyncio.run(main(*sys.argv[1:]))
except KeyboardInterrupt:  # the node's own Ctrl-C handling is not what this test is about
    pass
"""
ENDLESS = "SELECT (COUNT(*) AS ?n) { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(9)) + " }"


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def gone(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return not any(alive(p) for p in pids)


@contextlib.asynccontextmanager
async def pool_owner(folder: Path, query: str = "") -> AsyncIterator[tuple[Process, list[int]]]:
    """A process owning a pool of two workers, started as a terminal starts a foreground job (a
    process group of its own that a test can signal), with the workers' ids."""
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER, str(folder), query,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    workers: list[int] = []
    try:
        assert owner.stdout is not None
        line = await asyncio.wait_for(owner.stdout.readline(), 60)
        assert line == b"ready\n", (line, await owner.stderr.read())  # type: ignore[union-attr]
        workers = children(owner.pid)
        yield owner, workers
    finally:
        for pid in [owner.pid, *workers]:  # whatever a failed test left running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await owner.wait()


async def test_ctrl_c_stops_the_workers_quietly(tmp_path):
    async with pool_owner(tmp_path / "sparql") as (owner, workers):
        assert len(workers) == 2
        os.killpg(owner.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        _, stderr = await asyncio.wait_for(owner.communicate(), 30)
        assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr, stderr.decode()
        assert owner.returncode == 0
        assert await gone(workers, 5)


async def test_a_node_that_dies_takes_its_workers_along(tmp_path):
    # one worker is deep in a query that would run for hours: it must not outlive the node
    async with pool_owner(tmp_path / "sparql", ENDLESS) as (owner, workers):
        await asyncio.sleep(0.5)
        owner.kill()  # not waited for here: its stderr stays open as long as a worker lives
        assert await gone(workers, 5)
