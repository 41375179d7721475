"""The demo's hands: every action is a real `communs` command, run as a child process with
`--json`, exactly as a user would type it. A command that fails becomes a `StepFailed` naming
the command and the one sentence it printed."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMAND_TIMEOUT = 120.0  # seconds: a command that hangs ends the demo with a reason


class StepFailed(Exception):
    """A step could not do what it set out to do; the message says what and why."""


def shown(argv: tuple[str, ...], home: Path | None = None) -> str:
    """ARGV as a user would type it, paths under HOME (the federation's folder) shortened."""
    words = ["communs", *argv]
    if home is not None:
        prefix = str(home) + os.sep
        words = [w.replace(prefix, "") if prefix in w else w for w in words]
    return shlex.join(words)


class Shell:
    """Runs `communs` commands; ON_COMMAND hears each before it runs (for the narration)."""

    def __init__(self, home: Path, on_command: Callable[[str], None] = lambda line: None,
                 on_done: Callable[[str, float], None] = lambda line, seconds: None) -> None:
        self.home = home
        self.on_command = on_command
        self.on_done = on_done  # each command's line and how long it took

    async def json(self, *argv: str, ok_codes: tuple[int, ...] = (0,)) -> Any:
        """`communs ARGV --json`: its JSON answer."""
        code, out, err = await self.run(*argv, "--json")
        if code not in ok_codes:
            raise StepFailed(f"`{shown(argv, self.home)}` failed: {_last_line(err, code)}")
        try:
            return json.loads(out)
        except ValueError:
            raise StepFailed(f"`{shown(argv, self.home)}` did not print JSON") from None

    async def api(self, folder: Path, method: str, path: str, body: Any = None) -> Any:
        """METHOD PATH on the management API of the running node whose folder is FOLDER, with
        its token, through the CLI's own client: no process to start, for what must be quick."""
        import argparse

        from connector.config import load
        from connector.errors import ConnectorError
        from connector.terminal.management import call

        url = load(folder).management_url
        line = f"{method} {url}{path}" + (f" {json.dumps(body)}" if body else "")
        self.on_command(line)
        started = time.monotonic()
        try:
            return await call(argparse.Namespace(dir=str(folder)), method, path, body)
        except ConnectorError as exc:
            raise StepFailed(f"{method} {url}{path} failed: {exc}") from None
        finally:
            self.on_done(line, time.monotonic() - started)

    async def run(self, *argv: str) -> tuple[int, str, str]:
        """`communs ARGV`: exit code, standard output, standard error."""
        line = shown(argv[:-1] if argv[-1:] == ("--json",) else argv, self.home)
        self.on_command(line)
        started = time.monotonic()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "connector.cli.main", *argv, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "COLUMNS": "200"})
        try:
            out, err = await asyncio.wait_for(child.communicate(), COMMAND_TIMEOUT)
        except TimeoutError:
            await _end(child)
            raise StepFailed(f"`{shown(argv, self.home)}` did not finish within "
                             f"{COMMAND_TIMEOUT:.0f} s") from None
        except BaseException:  # cancelled (the demo ends early, Ctrl-C): no orphan left behind
            await _end(child)
            raise
        assert child.returncode is not None
        self.on_done(line, time.monotonic() - started)
        return child.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def _end(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        child.kill()
        await child.wait()


def _last_line(err: str, code: int) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    said = lines[-1] if lines else f"exit code {code}"
    return said.removeprefix("error: ")
