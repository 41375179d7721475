"""`communs ledger staking ...`: validators, delegations, unbonding, redelegation, and
`unjail` (the slashing module's message). Amounts as `bank send` reads them (5com, 1.5com,
1500000ucom); rates as 10%, 0.1 or 100000ppm."""

from __future__ import annotations

import argparse
from typing import Any

from .. import keys
from ..app import address
from ..app.slashing import MsgUnjail
from ..app.staking import msgs as smsgs
from ..node import key_path
from .amounts import parse_account, parse_amount, shown
from .base import at_parser, emit, home, query, signing_key, utc
from .forms import bad, parse_pub_key, parse_rate, percent
from .txs import run, tx_parser


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    at, tx = at_parser(common), tx_parser(common)
    g = sub.add_parser("staking", parents=[common], help="validators and delegations")
    s = g.add_subparsers(dest="staking_command", required=True)

    p = s.add_parser("create-validator", parents=[tx], help="bond AMOUNT as a new validator")
    p.add_argument("amount", metavar="AMOUNT", help="the self-bond: 5com, 1500000ucom")
    p.add_argument("--moniker", default=None, help="default: the node folder's name")
    p.add_argument("--commission", default="10%", help="commission rate (default 10%%)")
    p.add_argument("--max-commission", default="20%", help="its ceiling, for ever (20%%)")
    p.add_argument("--max-change", default="1%", help="its largest change a day (1%%)")
    p.add_argument("--pub-key", default=None,
                   help="the consensus key: hex, base64 or a priv_validator_key.json "
                        "(default: the node folder's)")
    p.set_defaults(func=cmd_create)
    p = s.add_parser("edit-validator", parents=[tx], help="change moniker or commission")
    p.add_argument("--moniker", default=None)
    p.add_argument("--commission", default=None)
    p.set_defaults(func=cmd_edit)
    for name, helptext in (("delegate", "bond AMOUNT to VALIDATOR"),
                           ("undelegate", "unbond AMOUNT from VALIDATOR (after the unbonding "
                                          "time)")):
        p = s.add_parser(name, parents=[tx], help=helptext)
        p.add_argument("validator", metavar="VALIDATOR")
        p.add_argument("amount", metavar="AMOUNT")
        p.set_defaults(func=cmd_delegate if name == "delegate" else cmd_undelegate)
    p = s.add_parser("redelegate", parents=[tx], help="move AMOUNT from SRC to DST at once")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("amount", metavar="AMOUNT")
    p.set_defaults(func=cmd_redelegate)
    p = s.add_parser("cancel-unbonding", parents=[tx],
                     help="delegate back what an unbonding entry still holds")
    p.add_argument("validator", metavar="VALIDATOR")
    p.add_argument("amount", metavar="AMOUNT")
    p.add_argument("creation_height", metavar="HEIGHT", type=int,
                   help="the entry's creation height (see `staking unbonding`)")
    p.set_defaults(func=cmd_cancel)
    p = s.add_parser("unjail", parents=[tx], help="ask to rejoin after a downtime jail")
    p.set_defaults(func=cmd_unjail)

    p = s.add_parser("validators", parents=[at], help="every validator (a list: not provable)")
    p.add_argument("--status", choices=("bonded", "unbonding", "unbonded"), default=None)
    p.set_defaults(func=cmd_validators)
    p = s.add_parser("validator", parents=[at], help="one validator (default: ours)")
    p.add_argument("address", nargs="?", metavar="VALIDATOR")
    p.set_defaults(func=cmd_validator)
    p = s.add_parser("signing-info", parents=[at],
                     help="a validator's missed blocks and jail (default: ours)")
    p.add_argument("address", nargs="?", metavar="VALIDATOR")
    p.set_defaults(func=cmd_signing_info)
    for name in ("delegations", "unbonding", "redelegations"):
        p = s.add_parser(name, parents=[at], help=f"an account's {name} (default: ours)")
        p.add_argument("address", nargs="?", metavar="DELEGATOR")
        p.set_defaults(func=cmd_of_delegator, what=name)
    p = s.add_parser("pool", parents=[at], help="bonded and not bonded tokens")
    p.set_defaults(func=cmd_pool)
    p = s.add_parser("params", parents=[at], help="the staking parameters")
    p.set_defaults(func=cmd_params)


def no_proof(args: argparse.Namespace, what: str, instead: str) -> None:
    """A list's answer is computed from many keys: only each entry can be proven."""
    if args.prove:
        raise bad(f"{what} cannot be proven: it is a list, read from many store keys; "
                  f"prove its entries one by one with {instead}")


def ours(args: argparse.Namespace, given: str | None) -> str:
    return parse_account(given) if given else keys.address_text(signing_key(args))


def _addr(text: str) -> bytes:
    return address.parse(parse_account(text))


# --------------------------------------------------------------------------- transactions


def cmd_create(args: argparse.Namespace) -> int:
    key = signing_key(args)
    pub = parse_pub_key(args.pub_key or str(key_path(home(args))))
    rate = parse_rate(args.commission, "commission")
    m = smsgs.MsgCreateValidator(key.address, pub, parse_amount(args.amount), rate,
                                 parse_rate(args.max_commission, "maximum commission"),
                                 parse_rate(args.max_change, "maximum change"),
                                 args.moniker or home(args).resolve().name)
    smsgs.check_create(m)
    return run(args, [m], f"validator {keys.address_text(key)} ({m.moniker}) created with "
                          f"{shown(m.amount)} bonded, commission {percent(rate)}")


def cmd_edit(args: argparse.Namespace) -> int:
    rate = None if args.commission is None else parse_rate(args.commission, "commission")
    m = smsgs.MsgEditValidator(signing_key(args).address, args.moniker, rate)
    smsgs.check_edit(m)
    return run(args, [m], f"validator {address.to_text(m.operator)} edited")


def cmd_delegate(args: argparse.Namespace) -> int:
    m = smsgs.MsgDelegate(signing_key(args).address, _addr(args.validator),
                          parse_amount(args.amount))
    return run(args, [m], f"delegated {shown(m.amount)} to {address.to_text(m.validator)}")


def cmd_undelegate(args: argparse.Namespace) -> int:
    m = smsgs.MsgUndelegate(signing_key(args).address, _addr(args.validator),
                            parse_amount(args.amount))
    return run(args, [m], f"undelegating {shown(m.amount)} from "
                          f"{address.to_text(m.validator)} (paid after the unbonding time)")


def cmd_redelegate(args: argparse.Namespace) -> int:
    m = smsgs.MsgRedelegate(signing_key(args).address, _addr(args.src), _addr(args.dst),
                            parse_amount(args.amount))
    smsgs.check_redelegate(m)
    return run(args, [m], f"redelegated {shown(m.amount)} from {address.to_text(m.src)} to "
                          f"{address.to_text(m.dst)}")


def cmd_cancel(args: argparse.Namespace) -> int:
    if args.creation_height < 1:
        raise bad("the creation height of an unbonding entry is a positive block height")
    m = smsgs.MsgCancelUnbonding(signing_key(args).address, _addr(args.validator),
                                 parse_amount(args.amount), args.creation_height)
    return run(args, [m], f"delegated back {shown(m.amount)} of the unbonding entry of height "
                          f"{m.creation_height} to {address.to_text(m.validator)}")


def cmd_unjail(args: argparse.Namespace) -> int:
    m = MsgUnjail(signing_key(args).address)
    return run(args, [m], f"validator {address.to_text(m.operator)} unjailed")


# -------------------------------------------------------------------------------- queries


def _validator_line(v: dict[str, Any]) -> str:
    state = "tombstoned" if v["tombstoned"] else "jailed" if v["jailed"] else v["status"]
    return (f"{v['moniker'][:16]:<16} {v['operator']}  {state:<10} power {v['power']:<6} "
            f"{shown(v['tokens'])}, commission {percent(v['commission_ppm'])}")


def cmd_validators(args: argparse.Namespace) -> int:
    no_proof(args, "the validator list", "`staking validator VALIDATOR --prove`")
    doc, height, verified = query(args, "/staking/validators", (args.status or "").encode())
    lines = [_validator_line(v) for v in doc["validators"]]
    return emit(args, doc, height, verified,
                "\n".join(lines) or f"no validators at height {height}")


def cmd_validator(args: argparse.Namespace) -> int:
    who = ours(args, args.address)
    doc, height, verified = query(args, "/staking/validator", who.encode())
    return emit(args, doc, height, verified,
                _validator_line(doc) + f" (height {height})")


def cmd_signing_info(args: argparse.Namespace) -> int:
    who = ours(args, args.address)
    doc, height, verified = query(args, "/slashing/signing_info", who.encode())
    if not doc["found"]:
        text = f"{who} has signed no block yet (height {height})"
    else:
        jail = ("tombstoned" if doc["tombstoned"] else
                f"jail time ending {utc(doc['jailed_until'])}" if doc["jailed_until"] else
                "never jailed")
        text = (f"{who}: {doc['missed_blocks']} missed blocks in the window since height "
                f"{doc['start_height']}, {jail} (height {height})")
    return emit(args, doc, height, verified, text)


def _delegator_lines(what: str, doc: dict[str, Any]) -> list[str]:
    if what == "delegations":
        return [f"{d['validator']}  {shown(d['balance'])}" for d in doc["delegations"]]
    if what == "unbonding":
        return [f"{u['validator']}  {shown(e['balance'])} at {utc(e['completion_time'])} "
                f"(entry of height {e['creation_height']})"
                for u in doc["unbonding"] for e in u["entries"]]
    return [f"{r['src']} -> {r['dst']}  {shown(e['initial_balance'])} until "
            f"{utc(e['completion_time'])}" for r in doc["redelegations"] for e in r["entries"]]


def cmd_of_delegator(args: argparse.Namespace) -> int:
    what = args.what
    no_proof(args, f"the {what} of an account", "`query store KEYHEX --prove`")
    who = ours(args, args.address)
    doc, height, verified = query(args, f"/staking/{what}", who.encode())
    lines = _delegator_lines(what, doc)
    return emit(args, doc, height, verified,
                "\n".join(lines) or f"{who} has no {what} at height {height}")


def cmd_pool(args: argparse.Namespace) -> int:
    no_proof(args, "the pool (it counts the bonded validators)",
             "`bank balance` of the pool accounts")
    doc, height, verified = query(args, "/staking/pool", b"")
    return emit(args, doc, height, verified,
                f"bonded {shown(doc['bonded'])} by {doc['bonded_validators']} validators, "
                f"not bonded {shown(doc['not_bonded'])} (height {height})")


def cmd_params(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, "/staking/params", b"")
    return emit(args, doc, height, verified, "\n".join(f"{k} {doc[k]}" for k in sorted(doc)))
