"""`communs federation up | status | down`: a local federation of several organizations, each
with its connector and its validator, on loopback (see connector/federation/)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from connector.config import TOKEN_FILE
from connector.federation.layout import DEFAULT_DIR, Federation
from connector.federation.processes import Child
from connector.terminal.output import print_json, table

DEFAULT_BASE_PORT = 8180


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = commands.add_parser("federation", help="a local federation: up, status, down") \
        .add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", parents=[common], help="create (the first time) and start "
                            "every organization's connector and validator")
    up.add_argument("--orgs", type=int, metavar="N",
                    help="how many organizations, the first time (default 3)")
    up.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, metavar="PORT",
                    help=f"connector i listens on PORT+2i and PORT+2i+1, validator i on "
                         f"PORT+100+2i and PORT+101+2i, the first time (default "
                         f"{DEFAULT_BASE_PORT})")
    up.add_argument("--sample-data", action="store_true",
                    help="the first time, the first organization (a public body) publishes a "
                         "sample open dataset")
    up.add_argument("--detach", action="store_true",
                    help="return once everything is ready, leaving it running (stop it with "
                         "`communs federation down`)")
    up.set_defaults(func=cmd_up)
    actions.add_parser("status", parents=[common], help="which processes run and are ready") \
        .set_defaults(func=cmd_status)
    actions.add_parser("down", parents=[common], help="stop every process, connectors first") \
        .set_defaults(func=cmd_down)


def _folder(args: argparse.Namespace) -> Path:
    # absolute: each child runs in its own folder
    return Path(getattr(args, "dir", None) or DEFAULT_DIR).resolve()


def _existing(args: argparse.Namespace) -> Federation:
    from connector.errors import ConnectorError, Reason

    federation = Federation.load(_folder(args))
    if federation is None:
        raise ConnectorError(Reason.NOT_FOUND, f"{_folder(args)} holds no federation: start one "
                             f"with `communs federation up --dir {_folder(args)}`")
    return federation


def _members(federation: Federation) -> list[dict[str, str]]:
    return [{"name": m.name, "did": m.did, "publicUrl": m.public_url,
             "managementUrl": m.management_url,
             "tokenFile": str(federation.connector(m) / TOKEN_FILE),
             "dir": str(federation.connector(m)), "validatorAddress": m.validator_address,
             "account": m.account, "rpcUrl": m.rpc_url} for m in federation.members]


def cmd_up(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from connector.federation import runner
    from connector.federation.create import open_or_create

    for sig in (signal.SIGINT, signal.SIGTERM):
        # Ctrl-C or kill from here on stops what was started (a SIGINT inherited as ignored,
        # as in a background job, would otherwise be lost until supervise() takes it over)
        signal.signal(sig, _interrupted)
    console = Console(stderr=True, highlight=False, quiet=args.json)
    with console.status("preparing the federation's folders"):
        federation, created = open_or_create(_folder(args), args.orgs, args.base_port,
                                             args.sample_data)
    if created:
        console.print(f"created {len(federation.members)} organizations and the genesis of "
                      f"chain {federation.chain_id} in {federation.folder}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=2 * len(federation.members))

        def ready(child: Child) -> None:
            progress.advance(task)
            progress.update(task, description=f"{child.name} ready")

        try:
            registry = runner.up(federation, supervise=not args.detach, on_ready=ready)
        except KeyboardInterrupt:  # Ctrl-C while starting: leave nothing running behind
            runner.down(federation)
            raise
    try:
        return _serve(args, console, federation, registry)
    except KeyboardInterrupt:  # everything ready, before supervise() took over Ctrl-C
        runner.down(federation, registry)
        console.print("stopped")
        return 0


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _serve(args: argparse.Namespace, console: Any, federation: Federation,
           registry: Any) -> int:
    """Print the table, then supervise unless detached or another `up` supervises."""
    from connector.federation import runner

    members = _members(federation)
    if args.json:
        print_json({"dir": str(federation.folder), "chainId": federation.chain_id,
                    "members": members})
    else:
        table(f"federation {federation.chain_id}: ready",
              ("name", "DID", "public URL", "management URL", "token file", "validator"),
              [(m["name"], m["did"], m["publicUrl"], m["managementUrl"], m["tokenFile"],
                m["validatorAddress"]) for m in members])
    sys.stdout.flush()
    if args.detach or registry.supervisor is None or registry.supervised() is not None:
        if not args.detach:
            console.print(f"already supervised by process {registry.supervisor[0]}; this "
                          f"one leaves it running")
        return 0
    console.print("serving; press Ctrl-C to stop every organization "
                  "(or run `communs federation down` from another shell)")

    def exited(child: Child) -> None:
        console.print(f"[bold red]{child.name} exited[/]: see {child.log}; "
                      f"`communs federation up` restarts it")

    runner.supervise(federation, registry, exited)
    console.print("stopped")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from connector.federation.runner import states

    federation = _existing(args)
    rows = [(child.name, pid, "ready" if ok else ("starting" if pid else "stopped"))
            for child, pid, ok in states(federation)]
    if args.json:
        print_json({"dir": str(federation.folder), "chainId": federation.chain_id,
                    "processes": [{"name": n, "pid": p, "state": s} for n, p, s in rows]})
    else:
        table(f"federation {federation.chain_id}", ("process", "pid", "state"), rows)
    return 0 if all(state == "ready" for _, _, state in rows) else 1


def cmd_down(args: argparse.Namespace) -> int:
    from connector.federation.runner import down

    count = down(_existing(args))
    if args.json:
        print_json({"stopped": count})
    else:
        print(f"stopped {count} processes" if count else "nothing was running")
    return 0
