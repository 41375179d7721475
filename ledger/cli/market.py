"""`communs ledger market ...`: list a dataset, curate it with a stake, pay for a use under an
agreement, anchor agreements and compute receipts, and read the listings, stakes, payments,
anchors and the value report (single lookups take --prove; the list of listings cannot).
Governance's slash is a proposal: `gov propose --slash DATASET FRACTION_BPS REASON`."""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path
from typing import Any

from ..app import msgs
from ..app.errors import AppError
from ..app.market import client as mc
from ..app.market.model import AGREEMENT, RECEIPT
from ..errors import LedgerError, Reason
from .amounts import parse_account, parse_amount, shown
from .base import at_parser, emit, query, signing_key, utc
from .forms import bad
from .stake import no_proof
from .txs import run, tx_parser


def _listing_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--price", required=True, help="per use: 5com, 250ucom, 0")
    p.add_argument("--content-hash", required=True, metavar="HASH|FILE",
                   help="the dataset's SHA-256 (64 hex digits), or its file")
    p.add_argument("--contributor", action="append", default=[], metavar="ACCOUNT=SHARE",
                   help="a contributor and its share (repeatable; default: us, share 1)")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    at, tx = at_parser(common), tx_parser(common)
    g = sub.add_parser("market", parents=[common], help="datasets, stakes, payments, anchors")
    s = g.add_subparsers(dest="market_command", required=True)
    p = s.add_parser("list", parents=[tx], help="list a dataset (as a registry member)")
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("--did", required=True, help="our registry DID (did:web)")
    p.add_argument("--stake", default="0", help="the provider's stake on it (default 0)")
    _listing_args(p)
    p.set_defaults(func=cmd_list)
    p = s.add_parser("update", parents=[tx], help="change our listing's price, hash, shares")
    p.add_argument("dataset", metavar="DATASET")
    _listing_args(p)
    p.set_defaults(func=cmd_update)
    p = s.add_parser("delist", parents=[tx], help="take no more payments; stakes unbond")
    p.add_argument("dataset", metavar="DATASET")
    p.set_defaults(func=cmd_delist)
    for name, helptext in (("stake", "vouch for a dataset with a stake"),
                           ("unstake", "start returning a stake (after the unbonding blocks)")):
        p = s.add_parser(name, parents=[tx], help=helptext)
        p.add_argument("dataset", metavar="DATASET")
        p.add_argument("amount", metavar="AMOUNT")
        p.set_defaults(func=cmd_stake, unstake=name == "unstake")
    p = s.add_parser("pay", parents=[tx], help="pay one use of a dataset under an agreement")
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("agreement", metavar="AGREEMENT_ID")
    p.add_argument("amount", metavar="AMOUNT", help="the listing's price: 5com, 250ucom")
    p.set_defaults(func=cmd_pay)
    p = s.add_parser("anchor", parents=[tx], help="anchor an agreement or a compute receipt")
    p.add_argument("kind", choices=(AGREEMENT, RECEIPT))
    p.add_argument("id", metavar="ID")
    p.add_argument("--digest", required=True, metavar="HASH|FILE",
                   help="SHA-256 of the signed agreement or of the receipt, or its file")
    p.add_argument("--agreement", default=None, help="the agreement (a receipt's)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--provider-did", required=True)
    p.add_argument("--consumer-did", required=True)
    p.add_argument("--policy-hash", default="0" * 64, metavar="HASH|FILE")
    p.set_defaults(func=cmd_anchor)

    p = s.add_parser("listing", parents=[at], help="one listing with its stake totals")
    p.add_argument("dataset", metavar="DATASET")
    p.set_defaults(func=cmd_listing)
    p = s.add_parser("listings", parents=[at], help="every listing (a list: not provable)")
    p.set_defaults(func=cmd_listings)
    for name, path, arg, helptext in (
            ("stakes", "/market/stakes", "DATASET", "the stakes on a dataset"),
            ("payments", "/market/payments", "AGREEMENT_ID", "an agreement's payments"),
            ("anchor-show", "/market/anchor", "KIND/ID", "an anchor (agreement/ID)")):
        p = s.add_parser(name, parents=[at], help=helptext)
        p.add_argument("arg", metavar=arg)
        p.set_defaults(func=cmd_show, path=path)
    p = s.add_parser("value", parents=[at], help="what a dataset (or the federation) was "
                                                 "paid, returned and extracted")
    p.add_argument("dataset", nargs="?", default="", metavar="DATASET")
    p.set_defaults(func=cmd_value)
    p = s.add_parser("params", parents=[at], help="the market's parameters (gov sets them)")
    p.set_defaults(func=cmd_params)


# --------------------------------------------------------------------------- transactions


def parse_hash(text: str, what: str) -> bytes:
    t = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", t):
        return bytes.fromhex(t)
    path = Path(t)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).digest()
    raise bad(f"invalid {what} {t[:48]!r}: give 64 hex digits (a SHA-256) or the file")


def _contributors(given: list[str]) -> list[tuple[str, int]]:
    out = []
    for text in given:
        acct, sep, share = text.partition("=")
        if not sep or not share.strip().isdigit():
            raise bad(f"--contributor {text[:60]!r}: write it as ACCOUNT=SHARE (a whole "
                      f"number)")
        out.append((parse_account(acct), int(share)))
    return out


def _checked(m: msgs.Msg) -> msgs.Msg:
    """The message as the chain reads it: its refusal before a fee is paid."""
    try:
        return msgs.parse(m.to_obj())
    except AppError as e:
        raise LedgerError(str(e), Reason.BAD_INPUT) from None


def cmd_list(args: argparse.Namespace) -> int:
    key = signing_key(args)
    price, stake = parse_amount(args.price, allow_zero=True), parse_amount(args.stake,
                                                                           allow_zero=True)
    m = _checked(mc.list_msg(key, args.dataset, args.did.strip(),
                             parse_hash(args.content_hash, "content hash"), price,
                             _contributors(args.contributor), stake))
    return run(args, [m], f"listed {args.dataset!r} at {shown(price)} per use, staking "
                          f"{shown(stake)}")


def cmd_update(args: argparse.Namespace) -> int:
    key = signing_key(args)
    price = parse_amount(args.price, allow_zero=True)
    m = _checked(mc.update_listing_msg(key, args.dataset, price,
                                       parse_hash(args.content_hash, "content hash"),
                                       _contributors(args.contributor)))
    return run(args, [m], f"updated {args.dataset!r}: {shown(price)} per use")


def cmd_delist(args: argparse.Namespace) -> int:
    m = _checked(mc.delist_msg(signing_key(args), args.dataset))
    return run(args, [m], f"delisted {args.dataset!r} (its stakes are unbonding)")


def cmd_stake(args: argparse.Namespace) -> int:
    key, amount = signing_key(args), parse_amount(args.amount)
    if args.unstake:
        m = _checked(mc.unstake_msg(key, args.dataset, amount))
        return run(args, [m], f"unstaking {shown(amount)} from {args.dataset!r} (returned "
                              f"after the unbonding blocks)")
    m = _checked(mc.stake_msg(key, args.dataset, amount))
    return run(args, [m], f"staked {shown(amount)} on {args.dataset!r}")


def cmd_pay(args: argparse.Namespace) -> int:
    amount = parse_amount(args.amount, allow_zero=True)
    m = _checked(mc.pay_msg(signing_key(args), args.dataset, args.agreement, amount))
    return run(args, [m], f"paid {shown(amount)} for {args.dataset!r} under agreement "
                          f"{args.agreement!r}")


def cmd_anchor(args: argparse.Namespace) -> int:
    agreement = args.agreement or (args.id if args.kind == AGREEMENT else None)
    if agreement is None:
        raise bad("a receipt's anchor names its agreement: --agreement AGREEMENT_ID")
    m = _checked(mc.anchor_msg(signing_key(args), args.kind, args.id,
                               parse_hash(args.digest, "digest"), agreement, args.dataset,
                               args.provider_did.strip(), args.consumer_did.strip(),
                               parse_hash(args.policy_hash, "policy hash")))
    return run(args, [m], f"anchored {args.kind} {args.id!r}")


# -------------------------------------------------------------------------------- queries


def _listing_line(x: dict[str, Any]) -> str:
    return (f"{x['dataset_id']}  {x['status']:<8} {shown(x['price'])} per use, by "
            f"{x['provider_did']}; stake {x['provider_stake']} ucom (provider) + "
            f"{x['curator_stake']} ucom ({x['curators']} curators), {x['unbonding']} ucom "
            f"unbonding")


def cmd_listing(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, "/market/listing", args.dataset.encode())
    shares = ", ".join(f"{c['account']} {c['share']}" for c in doc["contributors"])
    return emit(args, doc, height, verified,
                f"{_listing_line(doc)}\ncontent {doc['content_hash']}\ncontributors: "
                f"{shares}\n(height {height})")


def cmd_listings(args: argparse.Namespace) -> int:
    no_proof(args, "the list of listings", "`market listing DATASET --prove`")
    doc, height, verified = query(args, "/market/listings", b"")
    return emit(args, doc, height, verified,
                "\n".join(_listing_line(x) for x in doc["listings"]) or
                f"no listings at height {height}")


def _stake_line(who: str, s: dict[str, Any]) -> str:
    unbonding = ", ".join(f"{u['amount']} ucom after block {u['release_height']}"
                          for u in s["unbonding"])
    return f"{who} {s['account']}  {s['bonded']} ucom bonded" + (
        f"; unbonding {unbonding}" if unbonding else "")


def cmd_show(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, args.path, args.arg.encode())
    if args.path == "/market/stakes":
        text = "\n".join([_stake_line("provider", doc["provider"]),
                          *(_stake_line("curator ", s) for s in doc["curators"])])
    elif args.path == "/market/payments":
        text = (f"agreement {doc['agreement_id']!r}: {doc['count']} payment(s), "
                f"{shown(doc['total'])} in all, by {doc['payer']} for {doc['dataset_id']!r} "
                f"(last at height {doc['last_height']})" if doc["count"] else
                f"agreement {doc['agreement_id']!r} has no payments")
    else:
        text = (f"{doc['kind']} {doc['id']!r} anchored by {doc['provider_did']} at height "
                f"{doc['height']} ({utc(doc['time'])}): digest {doc['digest']}, dataset "
                f"{doc['dataset_id']!r}, consumer {doc['consumer_did']}")
    return emit(args, doc, height, verified, f"{text}\n(height {height})")


def cmd_value(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, "/market/value", args.dataset.encode())
    what = repr(args.dataset) if args.dataset else "the federation"
    lines = [f"{what}: paid {shown(doc['paid'])} in {doc['payments']} payment(s)",
             f"  returned to contributors {shown(doc['contributors'])}",
             f"  returned to curators     {shown(doc['curators'])}",
             f"  extracted {shown(doc['extracted'])}: burned {doc['burned']}, community pool "
             f"{doc['community']}, validators {doc['validators']} ucom"]
    lines += [f"  {r['account']} {shown(r['amount'])}" for r in doc.get("returned", [])]
    return emit(args, doc, height, verified, "\n".join(lines) + f"\n(height {height})")



def cmd_params(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, "/market/params", b"")
    return emit(args, doc, height, verified, "\n".join(f"{k} {doc[k]}" for k in sorted(doc)))
