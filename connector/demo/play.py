"""What every step of the demo shares: the federation, the commands, the narration, this
run's files and what earlier steps found (the datasets, the agreement, the new member)."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.demo.commands import Shell, StepFailed
from connector.demo.joiner import Joiner, Serving
from connector.demo.narration import Narrator
from connector.federation.layout import Federation, Member


@dataclass
class Play:
    federation: Federation
    shell: Shell
    narrator: Narrator
    run: int  # this run's number: names and titles differ from one run to the next
    files: dict[str, Path]
    joiner: Joiner
    joiner_init: asyncio.Task | None = None  # `communs init` of the joiner, started early
    serving: Serving | None = None
    found: dict[str, Any] = field(default_factory=dict)  # what steps hand to later ones
    background: list[tuple[str, float]] = field(default_factory=list)  # commands and seconds

    @property
    def city(self) -> Member:
        return self.federation.members[0]

    @property
    def company(self) -> Member:
        return self.federation.members[1]

    @property
    def consumer(self) -> Member:
        return self.federation.members[2]

    def connector(self, member: Member) -> str:
        return str(self.federation.connector(member))

    def validator(self, member: Member) -> str:
        return str(self.federation.validator(member))

    def query(self, name: str, text: str) -> str:
        """A SPARQL query saved in this run's folder, as `communs sparql` reads it: @FILE (a
        command line a reader can follow, and a file to run again by hand)."""
        path = self.files["algorithm"].parent / name
        path.write_text(text + "\n")
        return f"@{path}"

    def name_of(self, did: str) -> str:
        for member in self.federation.members:
            if member.did == did:
                return member.name
        if did == self.found.get("joiner_did"):
            return self.joiner.org.name
        return urllib.parse.unquote(did)

    async def until(self, what: str, check: Any, timeout: float, every: float = 0.5) -> Any:
        """CHECK's first truthy answer; StepFailed naming WHAT after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        while True:
            got = await check()
            if got:
                return got
            if time.monotonic() > deadline:
                raise StepFailed(f"{what} did not happen within {timeout:.0f} s")
            await asyncio.sleep(every)
