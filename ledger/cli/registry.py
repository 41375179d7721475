"""`communs ledger registry ...`: the federation's members and trust anchors (which only
governance changes: see `gov propose --admit/--anchor`), an organization's application, and a
member's update of its own endpoint and self-description hash."""

from __future__ import annotations

import argparse
from typing import Any

from ..app.errors import AppError
from ..app.registry import model
from ..app.registry import msgs as rmsgs
from ..errors import LedgerError, Reason
from .amounts import parse_account
from .base import at_parser, emit, query, signing_key, utc
from .forms import parse_sd_hash
from .stake import no_proof
from .txs import run, tx_parser


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    at, tx = at_parser(common), tx_parser(common)
    g = sub.add_parser("registry", parents=[common], help="the federation's members and "
                                                          "trust anchors")
    s = g.add_subparsers(dest="registry_command", required=True)
    p = s.add_parser("members", parents=[at], help="every member (a list: not provable)")
    p.add_argument("--status", choices=model.STATUSES, default=None)
    p.set_defaults(func=cmd_members)
    p = s.add_parser("member", parents=[at], help="one member, by DID or by account")
    p.add_argument("who", metavar="DID|ACCOUNT")
    p.set_defaults(func=cmd_member)
    p = s.add_parser("anchors", parents=[at], help="the trust anchors, or the one of DID")
    p.add_argument("did", nargs="?", metavar="DID")
    p.set_defaults(func=cmd_anchors)
    for name, helptext in (("apply", "ask to join (governance admits)"),
                           ("update", "change our own endpoint and self-description hash")):
        p = s.add_parser(name, parents=[tx], help=helptext)
        p.add_argument("did", metavar="DID")
        p.add_argument("endpoint", metavar="ENDPOINT")
        p.add_argument("sd_hash", metavar="SDHASH",
                       help="the SHA-256 of the signed self-description (64 hex digits), or "
                            "its file")
        p.set_defaults(func=cmd_apply if name == "apply" else cmd_update)


def _member_line(m: dict[str, Any]) -> str:
    return (f"{m['did']}  {m['status']:<9} {m['endpoint']}  account {m['account']}  since "
            f"{utc(m['since']['time'])} (height {m['since']['height']})")


def cmd_members(args: argparse.Namespace) -> int:
    no_proof(args, "the member list", "`registry member DID --prove`")
    doc, height, verified = query(args, "/registry/members", (args.status or "").encode())
    return emit(args, doc, height, verified,
                "\n".join(_member_line(m) for m in doc["members"]) or
                f"no members at height {height}")


def cmd_member(args: argparse.Namespace) -> int:
    who = args.who.strip()
    if who.startswith("did:"):
        doc, height, verified = query(args, "/registry/member", who.encode())
    else:
        doc, height, verified = query(args, "/registry/member_by_account",
                                      parse_account(who).encode())
    return emit(args, doc, height, verified, _member_line(doc))


def cmd_anchors(args: argparse.Namespace) -> int:
    if args.did:
        doc, height, verified = query(args, "/registry/anchor", args.did.strip().encode())
        return emit(args, doc, height, verified,
                    f"{doc['did']}  {', '.join(doc['credential_types'])}")
    no_proof(args, "the trust anchor list", "`registry anchors DID --prove`")
    doc, height, verified = query(args, "/registry/anchors", b"")
    return emit(args, doc, height, verified,
                "\n".join(f"{a['did']}  {', '.join(a['credential_types'])}"
                          for a in doc["trust_anchors"]) or f"no trust anchors at height "
                                                            f"{height}")


def _member_msg(args: argparse.Namespace, cls: Any) -> Any:
    key = signing_key(args)
    try:
        return cls(key.address, model.check_did_web(args.did.strip()),
                   model.check_endpoint(args.endpoint.strip()),
                   parse_sd_hash(args.sd_hash))
    except AppError as e:
        raise LedgerError(str(e), Reason.BAD_INPUT) from None


def cmd_apply(args: argparse.Namespace) -> int:
    m = _member_msg(args, rmsgs.MsgApply)
    return run(args, [m], f"{m.did} applied to join (governance decides)")


def cmd_update(args: argparse.Namespace) -> int:
    m = _member_msg(args, rmsgs.MsgUpdateMember)
    return run(args, [m], f"{m.did} updated: endpoint {m.endpoint}")
