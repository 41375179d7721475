"""What the demo says while it plays: each step's title and why it matters, the commands it
runs, what came back, and a progress bar over the steps. With --json nothing is printed
while it plays; the record of every step is printed at the end instead."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


@dataclass
class StepRecord:
    number: int
    title: str
    ok: bool = False
    seconds: float = 0.0
    outcome: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    commands: list[dict[str, Any]] = field(default_factory=list)  # each run, with its seconds

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"number": self.number, "title": self.title, "ok": self.ok,
                                 "seconds": round(self.seconds, 2), "commands": self.commands}
        if self.error is not None:
            shown["error"] = self.error
        else:
            shown["outcome"] = self.outcome
        return shown


class Narrator:
    """The console (standard error, so that --json keeps standard output clean) and the
    progress display; `records` keeps what each step did."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.console = Console(stderr=True, highlight=False, quiet=quiet)
        self.total = total
        self.records: list[StepRecord] = []
        self.started = time.monotonic()
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                                 transient=True, redirect_stdout=False, redirect_stderr=False)
        self.task = self.progress.add_task("starting", total=total)

    def __enter__(self) -> Narrator:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def begin(self, number: int, title: str, why: str) -> StepRecord:
        record = StepRecord(number, title)
        self.records.append(record)
        self.console.print()
        self.console.rule(f"[bold]{number}/{self.total}  {title}", align="left")
        self.console.print(f"[italic]{why}[/]")
        self.doing(title)
        return record

    def doing(self, what: str) -> None:
        """The spinner's line: what is happening now."""
        number = len(self.records)
        self.progress.update(self.task, description=f"step {number}/{self.total}: {what}")

    def command(self, line: str, note: str = "") -> None:
        self.console.print(f"  [dim]$ {escape(line)}[/]" + (f"   [italic dim]{note}[/]" if note else ""))

    def ran(self, line: str, seconds: float) -> None:
        if self.records:
            self.records[-1].commands.append({"command": line, "seconds": round(seconds, 2)})

    def say(self, text: str) -> None:
        self.console.print(f"  {text}")

    def end(self, record: StepRecord, started: float, error: str | None = None) -> None:
        record.seconds = time.monotonic() - started
        record.ok, record.error = error is None, error
        if error is None:
            self.console.print(f"  [green]done[/] in {record.seconds:.1f} s")
        else:
            self.console.print(f"  [bold red]step {record.number} failed[/]: {error}")
        self.progress.advance(self.task)
