"""`communs demo [--dir .federation]`: a narrated scenario against a running local federation
(see connector/demo/ and docs/demo.md). Exit 0 when every step succeeded, 1 when one failed
(it says which and why) or when no federation runs there."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from connector.errors import ConnectorError, Reason
from connector.terminal.output import print_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo", parents=[common], help="play a narrated scenario against a running federation",
        description="Play a narrated scenario against the federation that `communs federation "
                    "up` runs in --dir (here the federation's folder, default .federation): "
                    "open data, a paid compute-only offer, compute-to-data, a vote admitting "
                    "a new member, the federated catalog, the value report.")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from connector.demo.commands import StepFailed
    from connector.demo.narration import Narrator
    from connector.demo.scenario import STEPS, check_running, play_all
    from connector.federation.layout import DEFAULT_DIR, Federation

    folder = Path(getattr(args, "dir", None) or DEFAULT_DIR).resolve()
    federation = Federation.load(folder)
    if federation is None:
        raise ConnectorError(Reason.NOT_FOUND, f"{folder} holds no federation: start one with "
                             f"`communs federation up --dir {folder}`, then run the demo again")
    why = check_running(federation)
    if why is not None:
        raise ConnectorError(Reason.CONFLICT, why)
    narrator = Narrator(len(STEPS), quiet=bool(args.json))
    problem = None
    with narrator:
        try:
            ok = asyncio.run(play_all(federation, narrator))
        except StepFailed as exc:  # before any step began
            ok, problem = False, str(exc)
    if args.json:
        print_json({"ok": ok, "dir": str(folder), "chainId": federation.chain_id,
                    "seconds": round(narrator.seconds, 2),
                    "steps": [r.to_json() for r in narrator.records],
                    **({"error": problem} if problem else {})})
    elif ok:
        narrator.console.print(f"\n[bold green]the demo played its {len(STEPS)} steps in "
                               f"{narrator.seconds:.1f} s[/]")
    else:
        failed = next((r for r in narrator.records if not r.ok), None)
        where = f"step {failed.number} ({failed.title})" if failed else "the demo"
        narrator.console.print(f"\n[bold red]{where} failed[/]: "
                               f"{failed.error if failed else problem}")
    return 0 if ok else 1
