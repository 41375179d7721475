"""`communs join | proposals | vote`: this organization in the federation's governance, signed
with the node's did:web key (its ledger account). They work whether or not the node serves:
the ledger is the shared state, reached through [ledger] rpc_url, every decision-making read
proven against the genesis."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from connector.config import NodeConfig, save
from connector.errors import ConnectorError, Reason
from connector.terminal.common import config, home, run
from connector.terminal.output import fields, print_json, table

T = TypeVar("T")
GENESIS_FILE = "ledger-genesis.json"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser("join", parents=[common],
                            help="ask the federation to admit this node (a governance proposal)")
    p.add_argument("rpc_url", metavar="RPC_URL", nargs="?",
                   help="a member's ledger RPC (default: [ledger] rpc_url)")
    p.add_argument("--genesis", type=Path, metavar="FILE",
                   help="the federation's genesis.json, from a member you trust: the ledger's "
                        "answers are believed only when proven against it")
    p.add_argument("--deposit", default="0", help="the proposal's deposit (10com, 500000ucom)")
    p.add_argument("--title", default=None)
    p.set_defaults(func=cmd_join)
    p = commands.add_parser("proposals", parents=[common], help="the federation's proposals")
    p.set_defaults(func=cmd_proposals)
    p = commands.add_parser("vote", parents=[common], help="vote on a proposal")
    p.add_argument("proposal", type=int, metavar="PROPOSAL")
    p.add_argument("option", choices=["yes", "no", "abstain", "veto"])
    p.set_defaults(func=cmd_vote)


def with_ledger(cfg: NodeConfig, use: Callable[[Any], Awaitable[T]]) -> T:
    """Run USE with the ledger service of the node in CFG's folder."""
    from connector.ledger.service import open_ledger
    from connector.node import open_keys
    from connector.identity.did import did_web_from_url

    async def go() -> T:
        async with open_ledger(cfg, open_keys(cfg.home), did_web_from_url(cfg.public_url),
                               follow=False) as ledger:
            return await use(ledger)

    return run(go())


def _link(args: argparse.Namespace) -> NodeConfig:
    """The node's config with [ledger] set from RPC_URL and --genesis (saved)."""
    from connector.ledger.config import LedgerConfig

    cfg = config(args)
    current = cfg.ledger
    if args.genesis is not None:
        shutil.copyfile(args.genesis, home(args) / GENESIS_FILE)
        current = dataclasses.replace(current, genesis=GENESIS_FILE)
    if args.rpc_url:
        current = dataclasses.replace(current, rpc_url=args.rpc_url.rstrip("/"))
    if not current.rpc_url or not current.genesis:
        raise ConnectorError(Reason.BAD_INPUT, "join needs the ledger's RPC_URL and --genesis FILE "
                             "(the federation's genesis.json, from a member you trust) the first time")
    if current != cfg.ledger:
        cfg = dataclasses.replace(cfg, ledger=LedgerConfig(**{
            f.name: getattr(current, f.name) for f in dataclasses.fields(current)}))
        save(cfg)
    return cfg


async def _digest(cfg: NodeConfig) -> str:
    """The digest of this node's self-description claims, as the registry holds it."""
    from connector.node import open_node
    from connector.selfdescription.digest import claims_digest
    from connector.selfdescription.publisher import Framework

    async with open_node(cfg) as node:
        await node.self_descriptions.check(node.resolver)
        built = node.self_descriptions.get(Framework.LOIRE)
        return claims_digest(built.credentials.values())


def cmd_join(args: argparse.Namespace) -> int:
    from ledger.cli.amounts import parse_amount
    from ledger.errors import LedgerError

    try:
        deposit = parse_amount(args.deposit, bare_unit="com", allow_zero=True)
    except LedgerError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"--deposit: {exc}") from None
    cfg = _link(args)
    sd_hash = run(_digest(cfg))
    done = with_ledger(cfg, lambda ledger: ledger.join(cfg.public_url, sd_hash, deposit, args.title))
    if args.json:
        print_json(done)
    else:
        print(f"proposal {done['proposalId']} filed at height {done['height']}: the members "
              f"vote on admitting this node (communs proposals; communs vote {done['proposalId']} yes)")
    return 0


def cmd_proposals(args: argparse.Namespace) -> int:
    found = with_ledger(config(args), lambda ledger: ledger.proposals())
    if args.json:
        print_json({"proposals": found})
        return 0
    table("proposals", ("id", "status", "title", "messages", "yes", "no", "abstain", "veto"),
          [(p["id"], p["status"], p["title"],
            ", ".join(m["type"] for m in p["messages"]) or "text",
            *(str((p.get("tally") or {}).get(k, "-")) for k in ("yes", "no", "abstain", "no_with_veto")))
           for p in found])
    return 0


def cmd_vote(args: argparse.Namespace) -> int:
    done = with_ledger(config(args), lambda ledger: ledger.vote(args.proposal, args.option))
    if args.json:
        print_json(done)
    else:
        fields([("proposal", done["proposalId"]), ("vote", done["option"]),
                ("height", done["height"])])
    return 0
