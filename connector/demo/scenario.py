"""The demo's six steps in order, against a running federation: each narrated, timed and
recorded; the first that fails ends the play (exit 1) and says which and why. Whatever
happens, the process the demo started (the new member's node) is stopped at the end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from connector.demo import content, governance, publishing
from connector.demo.commands import Shell, StepFailed
from connector.demo.joiner import FOLDER, next_joiner
from connector.demo.narration import Narrator
from connector.demo.play import Play
from connector.federation.layout import Federation

Step = Callable[[Play], Awaitable[dict[str, Any]]]
MIN_ORGS = 3
STEPS: tuple[tuple[str, str, Step], ...] = (
    ("The public body publishes open data",
     "Open data needs no contract: its ODRL offer is a bare permission to use, so any request "
     "for it is agreed at once. Its DCAT-AP record is what portals and crawlers harvest.",
     publishing.open_data),
    ("A company offers a dataset for paid compute only",
     "The data never leaves the company: its offer permits communs:compute of one reviewed "
     "algorithm, and a compensate duty sets the price per run, which lists it on the ledger.",
     publishing.paid_compute_offer),
    ("Another company negotiates, pays and computes",
     "The algorithm travels to the data. The consumer's node pays the run on the ledger first; "
     "the provider checks the payment, proven, runs the job and signs a receipt.",
     publishing.compute_to_data),
    ("A fourth organization asks to join; the members vote",
     "Membership is not granted by a central operator: the applicant files a proposal on the "
     "shared ledger and the members vote with their stake.",
     governance.join_by_vote),
    ("The federated catalog answers across all members",
     "A crawler reads the members from the registry, fetches each one's catalog and "
     "self-description into its own named graph with provenance, and serves one SPARQL endpoint.",
     governance.federated_catalog),
    ("The value report: paid, returned, extracted",
     "The infrastructure's share is kept small and visible: the ledger splits every payment "
     "between the data's contributors, its curators and what the federation takes.",
     governance.value_report),
)


def _run_number(root: Path) -> int:
    taken = [int(p.name[4:]) for p in root.glob("run-*") if p.name[4:].isdigit()]
    return max(taken, default=0) + 1


def check_running(federation: Federation) -> str | None:
    """Why the federation cannot play the demo, None when it can."""
    from connector.federation.runner import states

    if len(federation.members) < MIN_ORGS:
        return (f"the demo needs a federation of at least {MIN_ORGS} organizations and "
                f"{federation.folder} holds {len(federation.members)}: start a new one with "
                f"`communs federation up --dir NEW_FOLDER`")
    found = states(federation)
    waiting = [child.name for child, _, ready in found if not ready]
    if waiting:
        return (f"the federation in {federation.folder} is not running ({', '.join(waiting)} "
                f"not ready): start it with `communs federation up --dir {federation.folder}` "
                f"(in another shell, or with --detach)")
    return None


async def play_all(federation: Federation, narrator: Narrator) -> bool:
    root = federation.folder / FOLDER
    run = _run_number(root)
    files = content.write(root / f"run-{run}")
    joiner = next_joiner(federation)
    if joiner is None:
        raise StepFailed(f"no free organization slot or ports for a new member in {root}")
    joiner.folder.parent.mkdir(parents=True)
    shell = Shell(federation.folder, narrator.command, narrator.ran)
    play = Play(federation, shell, narrator, run, files, joiner)
    narrator.say(f"demo run {run} against federation {federation.chain_id} "
                 f"({len(federation.members)} organizations, in {federation.folder})")
    # the newcomer prepares while the first steps play; step 4 shows what it ran
    quiet = Shell(federation.folder, on_done=lambda line, seconds: play.background.append(
        (line, seconds)))
    play.joiner_init = asyncio.create_task(governance.prepare_joiner(play, quiet))
    try:
        for number, (title, why, step) in enumerate(STEPS, 1):
            record = narrator.begin(number, title, why)
            started = time.monotonic()
            try:
                record.outcome = await step(play)
            except StepFailed as exc:
                narrator.end(record, started, str(exc))
                return False
            narrator.end(record, started)
        return True
    finally:
        if not play.joiner_init.done():
            play.joiner_init.cancel()
        await asyncio.gather(play.joiner_init, return_exceptions=True)
        if play.serving is not None:
            await asyncio.to_thread(play.serving.stop)
