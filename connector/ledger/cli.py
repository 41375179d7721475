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
    p = commands.add_parser("value", parents=[common],
                            help="what paid usage paid, returned to contributors and extracted")
    p.add_argument("dataset", metavar="DATASET", nargs="?",
                   help="a listed dataset's IRI (default: every listing and the federation's total)")
    p.set_defaults(func=cmd_value)
    p = commands.add_parser("audit", parents=[common],
                            help="an agreement checked against its anchor, with its payments and uses")
    p.add_argument("agreement", metavar="AGREEMENT_ID")
    p.set_defaults(func=cmd_audit)
    for name, helptext in (("stake", "vouch for a listed dataset with a stake (curators earn a share of its payments)"),
                           ("unstake", "take a stake back (returned after the unbonding blocks)")):
        p = commands.add_parser(name, parents=[common], help=helptext)
        p.add_argument("dataset", metavar="DATASET_IRI")
        p.add_argument("amount", metavar="AMOUNT", help="5com, 1500000ucom")
        p.set_defaults(func=cmd_stake, unstake=name == "unstake")
    p = commands.add_parser("vote", parents=[common], help="vote on a proposal")
    p.add_argument("proposal", type=int, metavar="PROPOSAL")
    p.add_argument("option", choices=["yes", "no", "abstain", "veto"])
    p.set_defaults(func=cmd_vote)


def with_ledger(cfg: NodeConfig, use: Callable[[Any], Awaitable[T]]) -> T:
    """Run USE with the ledger service of the node in CFG's folder."""
    from connector.identity.did import did_web_from_url
    from connector.ledger.service import open_ledger
    from connector.node import open_keys

    async def go() -> T:
        async with open_ledger(cfg, open_keys(cfg.home), did_web_from_url(cfg.public_url),
                               follow=False) as ledger:
            return await use(ledger)

    return run(go())


def _link(args: argparse.Namespace) -> NodeConfig:
    """The node's config with [ledger] set from RPC_URL and --genesis (saved)."""
    cfg = config(args)
    current = cfg.ledger
    if args.genesis is not None:
        from connector.ledger.proven import load_genesis

        load_genesis(args.genesis)  # a clear sentence for a file that is not a genesis
        shutil.copyfile(args.genesis, home(args) / GENESIS_FILE)
        current = dataclasses.replace(current, genesis=GENESIS_FILE)
    if args.rpc_url:
        current = dataclasses.replace(current, rpc_url=args.rpc_url.rstrip("/"))
    if not current.rpc_url or not current.genesis:
        raise ConnectorError(Reason.BAD_INPUT, "join needs the ledger's RPC_URL and --genesis FILE "
                             "(the federation's genesis.json, from a member you trust) the first time")
    if current != cfg.ledger:
        cfg = dataclasses.replace(cfg, ledger=current)
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
    from connector.ledger.market import parse_price

    deposit = parse_price(args.deposit)
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


VALUE_COLUMNS = ("paid", "contributors", "curators", "extracted", "burned", "community",
                 "validators")


async def _report(ledger: Any, dataset: str | None) -> dict[str, Any]:
    if dataset:
        return await ledger.market.value(dataset)
    listed = (await ledger.ledger.unproven("/market/listings"))["listings"]
    rows = [await ledger.market.value(entry["dataset_id"]) for entry in listed]
    return {"total": await ledger.market.value(None), "datasets": rows}


def cmd_value(args: argparse.Namespace) -> int:
    report = with_ledger(config(args), lambda ledger: _report(ledger, args.dataset))
    if args.json:
        print_json(report)
        return 0
    rows = [report] if args.dataset else [*report["datasets"], report["total"]]
    table("value in ucom (proven against the ledger)", ("dataset", *VALUE_COLUMNS, "uses", "balanced"),
          [(r.get("dataset_id") or "federation total", *(r[k] for k in VALUE_COLUMNS),
            r["payments"], "yes" if r["balanced"] else "NO") for r in rows])
    return 0 if all(r["balanced"] for r in rows) else 1


async def _audit(cfg: NodeConfig, agreement_id: str) -> dict[str, Any]:
    from connector.compute.sql import SqlComputeStore
    from connector.identity.did import did_web_from_url
    from connector.ledger.audit import audit
    from connector.ledger.service import open_ledger
    from connector.negotiation.sql import SqlNegotiationStore
    from connector.node import open_node
    from connector.transfer.sql import SqlTransferStore

    async with open_node(cfg) as node, open_ledger(cfg, node.keys, did_web_from_url(cfg.public_url),
                                                   follow=False) as ledger:
        db = node.database
        return await audit(ledger, SqlNegotiationStore(db), SqlTransferStore(db),
                           SqlComputeStore(db), agreement_id)


def cmd_audit(args: argparse.Namespace) -> int:
    report = run(_audit(config(args), args.agreement))
    if args.json:
        print_json(report)
        return 0 if report["intact"] else 1
    anchor, paid = report["anchor"], report["payments"]
    fields([("agreement", report["agreementId"]), ("role", report["role"]),
            ("counterparty", report["counterparty"]), ("dataset", report["dataset"]),
            ("digest", report["digest"]),
            ("anchor", ("matches" if anchor["matches"] else "DIFFERS") if anchor["anchored"]
             else "none on the ledger"),
            ("anchored at", (anchor.get("anchor") or {}).get("height", "-")),
            ("payments", f"{paid.get('count', 0)} ({paid.get('total', 0)} ucom)"),
            ("transfers", ", ".join(f"{t['id']} {t['state']}" for t in report["transfers"]) or "-"),
            ("jobs", ", ".join(f"{j['id']} {j['state']}" + (
                "" if "receipt" not in j else " receipt " + (
                    "matches" if j["receipt"]["matches"] else "DIFFERS"))
                for j in report["jobs"]) or "-"),
            ("proof", anchor["proof"]),
            ("intact", "yes" if report["intact"] else "NO")])
    return 0 if report["intact"] else 1


def cmd_stake(args: argparse.Namespace) -> int:
    from connector.ledger.market import parse_price

    amount = parse_price(args.amount)
    done = with_ledger(config(args), lambda ledger: ledger.market.stake(
        args.dataset, amount, withdraw=args.unstake))
    if args.json:
        print_json(done)
    else:
        print(f"{'unstaked' if args.unstake else 'staked'} {amount} ucom on {args.dataset} "
              f"(height {done['height']})")
    return 0
