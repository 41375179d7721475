"""The organization's ledger node as a child of `communs serve` ([ledger] node = FOLDER):
started before the connector needs it, restarted when it dies (with a growing pause), stopped
with the connector. Its output goes to ledger.log in its folder."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from connector.errors import ConnectorError, Reason

log = logging.getLogger("communs.ledger")
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL
MAX_PAUSE = 30.0


class LedgerChild:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def _spawn(self) -> None:
        with (self.folder / "ledger.log").open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ledger.cli", "ledger", "run", "--dir", str(self.folder),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)
        log.info("ledger node started", extra={"fields": {"pid": self.process.pid,
                                                          "dir": str(self.folder)}})

    async def _supervise(self) -> None:
        pause = 1.0
        while True:
            assert self.process is not None
            code = await self.process.wait()
            log.warning("the ledger node exited (code %s): restarting in %.0f s, see %s",
                        code, pause, self.folder / "ledger.log")
            await asyncio.sleep(pause)
            pause = min(2 * pause, MAX_PAUSE)
            self.restarts += 1
            await self._spawn()

    async def start(self) -> None:
        if not (self.folder / "genesis.json").is_file():
            raise ConnectorError(Reason.BAD_CONFIG, f"[ledger] node {self.folder} is not a ledger "
                                                    f"node folder (no genesis.json)")
        await self._spawn()
        self._task = asyncio.create_task(self._supervise(), name="ledger-child")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.running:
            assert self.process is not None
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), STOP_GRACE)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@contextlib.asynccontextmanager
async def ledger_child(folder: Path) -> AsyncIterator[LedgerChild]:
    child = LedgerChild(folder)
    await child.start()
    try:
        yield child
    finally:
        await child.stop()
