"""`communs ledger distribution ...`: rewards and commissions, their withdrawal, the withdraw
address, and the community pool."""

from __future__ import annotations

import argparse
from typing import Any

from ..app import address
from ..app.distribution import msgs as dmsgs
from .amounts import parse_account, shown
from .base import at_parser, emit, query, signing_key
from .forms import bad
from .stake import no_proof, ours
from .txs import report, run, submit, tx_parser


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    at, tx = at_parser(common), tx_parser(common)
    g = sub.add_parser("distribution", parents=[common], help="rewards and the community pool")
    s = g.add_subparsers(dest="distribution_command", required=True)
    p = s.add_parser("rewards", parents=[at], help="what an account's delegations would pay "
                                                   "now (default: ours)")
    p.add_argument("address", nargs="?", metavar="DELEGATOR")
    p.set_defaults(func=cmd_rewards)
    p = s.add_parser("commission", parents=[at], help="a validator's unpaid commission")
    p.add_argument("address", nargs="?", metavar="VALIDATOR")
    p.set_defaults(func=cmd_commission)
    p = s.add_parser("community-pool", parents=[at], help="the community pool's balance")
    p.set_defaults(func=cmd_pool)
    p = s.add_parser("withdraw", parents=[tx], help="withdraw rewards from VALIDATOR "
                                                    "(default: from every delegation)")
    p.add_argument("validator", nargs="?", metavar="VALIDATOR")
    p.set_defaults(func=cmd_withdraw)
    p = s.add_parser("withdraw-commission", parents=[tx], help="withdraw our commission")
    p.set_defaults(func=cmd_withdraw_commission)
    p = s.add_parser("set-withdraw-address", parents=[tx],
                     help="where rewards and commission are paid")
    p.add_argument("to", metavar="ADDRESS")
    p.set_defaults(func=cmd_set_withdraw_address)


def cmd_rewards(args: argparse.Namespace) -> int:
    no_proof(args, "the rewards of an account (one per delegation)",
             "`staking delegations` and the store keys of each")
    who = ours(args, args.address)
    doc, height, verified = query(args, "/distribution/rewards", who.encode())
    lines = [f"{r['validator']}  {shown(r['reward'])}" for r in doc["rewards"]]
    lines.append(f"total {shown(doc['total'])} at height {height}")
    return emit(args, doc, height, verified, "\n".join(lines))


def cmd_commission(args: argparse.Namespace) -> int:
    who = ours(args, args.address)
    doc, height, verified = query(args, "/distribution/commission", who.encode())
    return emit(args, doc, height, verified,
                f"validator {who} has {shown(doc['commission'])} of commission to withdraw "
                f"(height {height})")


def cmd_pool(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, "/distribution/community_pool", b"")
    return emit(args, doc, height, verified,
                f"the community pool holds {shown(doc['pool'])} (height {height})")


def _paid(events: list[dict[str, Any]], kind: str) -> int:
    """The ucom that the withdraw events of a committed transaction paid."""
    total = 0
    for e in events:
        if e.get("type") == kind:
            for a in e.get("attributes") or []:
                if a.get("key") == "amount" and str(a.get("value")).endswith("ucom"):
                    total += int(str(a["value"]).removesuffix("ucom") or 0)
    return total


def cmd_withdraw(args: argparse.Namespace) -> int:
    key = signing_key(args)
    if args.validator:
        validators = [parse_account(args.validator)]
    else:
        doc, _, _ = query(argparse.Namespace(**{**vars(args), "height": None, "prove": False}),
                          "/staking/delegations", address.to_text(key.address).encode())
        validators = [d["validator"] for d in doc["delegations"]]
        if not validators:
            raise bad(f"{address.to_text(key.address)} has no delegation to withdraw "
                      f"rewards from")
    ms = [dmsgs.MsgWithdrawRewards(key.address, address.parse(v)) for v in validators]
    doc = submit(args, ms, key)
    paid = _paid(doc.get("events") or [], "withdraw_rewards")
    doc["withdrawn"] = paid
    src = validators[0] if len(validators) == 1 else f"{len(validators)} validators"
    return report(args, doc, f"withdrew {shown(paid)} of rewards from {src}"
                  if "height" in doc else f"withdraw rewards from {src}")


def cmd_withdraw_commission(args: argparse.Namespace) -> int:
    key = signing_key(args)
    doc = submit(args, [dmsgs.MsgWithdrawCommission(key.address)], key)
    paid = _paid(doc.get("events") or [], "withdraw_commission")
    doc["withdrawn"] = paid
    return report(args, doc, f"withdrew {shown(paid)} of commission"
                  if "height" in doc else "withdraw the commission")


def cmd_set_withdraw_address(args: argparse.Namespace) -> int:
    key = signing_key(args)
    to = parse_account(args.to)
    return run(args, [dmsgs.MsgSetWithdrawAddress(key.address, address.parse(to))],
               f"rewards of {address.to_text(key.address)} now go to {to}")
