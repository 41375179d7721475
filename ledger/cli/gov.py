"""`communs ledger gov ...`: proposals (messages the gov module account runs if they pass),
deposits, votes, and what the chain says of them. A proposal's messages come from a JSON file
of readable messages or from the convenience options (--param, --spend, --admit, --anchor,
--slash); `--text` proposes nothing to run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..app.errors import AppError
from ..app.gov import msgs as gmsgs
from ..app.gov.store import OPTION_NAMES, OPTIONS, STATUSES
from ..errors import LedgerError, Reason
from ..light import VerificationError
from .amounts import parse_account, parse_amount, shown
from .base import at_parser, emit, query, signing_key, utc
from .forms import bad, messages_file, param_value, parse_rate, parse_sd_hash, wire_message
from .stake import no_proof
from .txs import attribute, report, run, submit, tx_parser

ALIASES = {"veto": "no_with_veto", "nowithveto": "no_with_veto", "no-with-veto": "no_with_veto"}


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    at, tx = at_parser(common), tx_parser(common)
    g = sub.add_parser("gov", parents=[common], help="proposals, deposits and votes")
    s = g.add_subparsers(dest="gov_command", required=True)
    p = s.add_parser("propose", parents=[tx], help="submit a proposal")
    p.add_argument("--title", required=True)
    p.add_argument("--summary", default=None, help="default: the title")
    p.add_argument("--metadata", default="")
    p.add_argument("--deposit", required=True, help="the initial deposit: 10com, 0")
    p.add_argument("--messages", type=Path, metavar="FILE",
                   help="a JSON list of messages (addresses as com1..., amounts in ucom)")
    p.add_argument("--text", action="store_true", help="a text proposal: nothing to run")
    p.add_argument("--param", action="append", default=[], metavar="MODULE.NAME=VALUE",
                   help="change a parameter (repeatable)")
    p.add_argument("--spend", action="append", default=[], metavar="TO=AMOUNT",
                   help="pay from the community pool (repeatable)")
    p.add_argument("--admit", action="append", nargs=4, default=[],
                   metavar=("DID", "ENDPOINT", "SDHASH", "ACCOUNT"),
                   help="admit a member to the registry (repeatable)")
    p.add_argument("--anchor", action="append", nargs=2, default=[],
                   metavar=("DID", "TYPE[,TYPE]"), help="add a trust anchor (repeatable)")
    p.add_argument("--slash", action="append", nargs=3, default=[],
                   metavar=("DATASET", "FRACTION_BPS", "REASON"),
                   help="slash the stakes on a market dataset (basis points: 10000 = all; "
                        "repeatable)")
    p.set_defaults(func=cmd_propose)
    p = s.add_parser("deposit", parents=[tx], help="add to a proposal's deposit")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("amount", metavar="AMOUNT")
    p.set_defaults(func=cmd_deposit)
    p = s.add_parser("vote", parents=[tx], help="vote yes|no|abstain|no_with_veto")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("option", nargs="?", metavar="OPTION")
    p.add_argument("--weighted", metavar="yes=0.6,no=0.4", help="a split vote instead")
    p.set_defaults(func=cmd_vote)

    p = s.add_parser("proposals", parents=[at], help="every proposal (a list: not provable)")
    p.add_argument("--status", choices=STATUSES, default=None)
    p.set_defaults(func=cmd_proposals)
    for name, path, helptext in (("show", "/gov/proposal", "one proposal"),
                                 ("tally", "/gov/tally", "a proposal's count of votes"),
                                 ("votes", "/gov/votes", "a proposal's votes (a list)"),
                                 ("deposits", "/gov/deposits", "a proposal's deposits (a list)")):
        p = s.add_parser(name, parents=[at], help=helptext)
        p.add_argument("id", type=int, metavar="ID")
        p.set_defaults(func=cmd_about, path=path)
    p = s.add_parser("params", parents=[at], help="the governance parameters")
    p.set_defaults(func=cmd_params)


# --------------------------------------------------------------------------- transactions


def convenience(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The readable messages of --param, --spend, --admit, --anchor and --slash."""
    out: list[dict[str, Any]] = []
    changes: dict[str, dict[str, Any]] = {}
    for text in args.param:
        name, sep, value = text.partition("=")
        module, dot, field = name.partition(".")
        if not sep or not dot or not module or not field:
            raise bad(f"--param {text[:60]!r}: write it as MODULE.NAME=VALUE "
                      f"(gov.voting_period=600)")
        changes.setdefault(module, {})[field] = param_value(value)
    out += [{"type": "gov/update_params", "module": m, "changes": c}
            for m, c in sorted(changes.items())]
    for text in args.spend:
        to, sep, amount = text.partition("=")
        if not sep:
            raise bad(f"--spend {text[:60]!r}: write it as ADDRESS=AMOUNT")
        out.append({"type": "gov/community_pool_spend", "recipient": parse_account(to),
                    "amount": parse_amount(amount)})
    for did, endpoint, sd_hash, account in args.admit:
        out.append({"type": "registry/register_member", "did": did, "endpoint": endpoint,
                    "sd_hash": parse_sd_hash(sd_hash).hex(), "account": parse_account(account)})
    for did, types in args.anchor:
        out.append({"type": "registry/add_trust_anchor", "did": did,
                    "credential_types": [t.strip() for t in types.split(",") if t.strip()]})
    for dataset, bps, reason in args.slash:
        if not bps.isdigit():
            raise bad(f"--slash {dataset[:40]!r} {bps[:20]!r}: the fraction is a whole number "
                      f"of basis points (2500 = 25%)")
        out.append({"type": "market/slash", "dataset_id": dataset, "fraction_bps": int(bps),
                    "reason": reason})
    return out


def cmd_propose(args: argparse.Namespace) -> int:
    key = signing_key(args)
    wires = messages_file(args.messages) if args.messages else []
    wires += [wire_message(m, f"message {i}") for i, m in enumerate(convenience(args), 1)]
    if not wires and not args.text:
        raise bad("a proposal needs messages (--messages FILE, --param, --spend, --admit, "
                  "--anchor, --slash) or --text for a proposal with nothing to run")
    if wires and args.text:
        raise bad("--text is for a proposal with nothing to run, and this one has messages")
    d = {"type": gmsgs.MsgSubmitProposal.type, "proposer": key.address, "messages": wires,
         "initial_deposit": parse_amount(args.deposit, allow_zero=True), "title": args.title,
         "summary": args.summary if args.summary is not None else args.title,
         "metadata": args.metadata}
    try:
        m = gmsgs.parse_submit(d)
    except AppError as e:  # the sentence the chain would give, before paying a fee
        raise LedgerError(str(e), Reason.BAD_INPUT) from None
    doc = submit(args, [m], key)
    pid = attribute(doc, "submit_proposal", "proposal_id")
    voting = attribute(doc, "proposal_deposit", "voting_period_start") is not None
    doc["proposal_id"] = None if pid is None else int(pid)
    what = ", ".join(x.type for x in m.messages) or "text"
    return report(args, doc, f"proposal {pid} submitted ({what}), "
                             f"{'in its voting period' if voting else 'in its deposit period'}"
                  if "height" in doc else f"proposal {args.title!r} ({what})")


def cmd_deposit(args: argparse.Namespace) -> int:
    key = signing_key(args)
    m = gmsgs.MsgDeposit(args.id, key.address, parse_amount(args.amount))
    return run(args, [m], f"deposited {shown(m.amount)} on proposal {args.id}")


def _option(text: str) -> int:
    name = ALIASES.get(text.strip().lower(), text.strip().lower())
    if name not in OPTIONS:
        raise bad(f"{text[:32]!r} is not a vote option: yes, no, abstain or no_with_veto")
    return OPTIONS[name]


def cmd_vote(args: argparse.Namespace) -> int:
    key = signing_key(args)
    if (args.option is None) == (args.weighted is None):
        raise bad("give either an OPTION (yes, no, abstain, no_with_veto) or --weighted "
                  "yes=0.6,no=0.4")
    if args.option is not None:
        m: gmsgs.MsgVote = gmsgs.MsgVote(args.id, key.address, ((_option(args.option),
                                                                 1_000_000),))
        said = OPTION_NAMES[m.options[0][0]]
    else:
        opts = []
        for part in args.weighted.split(","):
            name, sep, weight = part.partition("=")
            if not sep:
                raise bad(f"--weighted {args.weighted[:60]!r}: write it as yes=0.6,no=0.4")
            opts.append({"option": OPTION_NAMES[_option(name)],
                         "weight": parse_rate(weight, "weight")})
        try:
            m = gmsgs.parse_vote_weighted({"type": gmsgs.MsgVoteWeighted.type,
                                           "proposal_id": args.id, "voter": key.address,
                                           "options": opts})
        except AppError as e:
            raise LedgerError(str(e), Reason.BAD_INPUT) from None
        said = args.weighted
    return run(args, [m], f"voted {said} on proposal {args.id}")


# -------------------------------------------------------------------------------- queries


def _proposal_line(p: dict[str, Any]) -> str:
    what = ", ".join(m["type"] for m in p["messages"]) or "text"
    when = (f"voting ends {utc(p['voting_end_time'])}" if p["status"] == "voting_period" else
            f"deposits until {utc(p['deposit_end_time'])}"
            if p["status"] == "deposit_period" else f"voting ended {utc(p['voting_end_time'])}")
    return (f"#{p['id']:<4} {p['status']:<15} {p['title'][:40]!r} ({what}), deposit "
            f"{shown(p['total_deposit'])}, {when}")


def cmd_proposals(args: argparse.Namespace) -> int:
    no_proof(args, "the proposal list", "`gov show ID --prove`")
    doc, height, verified = query(args, "/gov/proposals", (args.status or "").encode())
    lines = [_proposal_line(p) for p in doc["proposals"]]
    return emit(args, doc, height, verified, "\n".join(lines) or f"no proposals at height "
                                                                 f"{height}")


def _tally_text(t: dict[str, Any]) -> str:
    return (f"proposal {t['proposal_id']} ({t['status']}): yes {t['yes']}, no {t['no']}, "
            f"abstain {t['abstain']}, no_with_veto {t['no_with_veto']} ucom of "
            f"{t['total_bonded']} bonded")


def cmd_about(args: argparse.Namespace) -> int:
    path = args.path
    if path in ("/gov/votes", "/gov/deposits"):
        no_proof(args, f"the {path.rsplit('/', 1)[1]} of a proposal", "`query store KEYHEX "
                                                                      "--prove`")
    try:
        doc, height, verified = query(args, path, str(args.id).encode())
    except VerificationError:
        if path != "/gov/tally":
            raise
        raise bad(f"the running tally of proposal {args.id} cannot be proven: it is counted "
                  f"from every vote and delegation; its final tally can, once its voting "
                  f"period ends") from None
    if path == "/gov/proposal":
        text = _proposal_line(doc)
        if doc.get("failed_reason"):
            text += f"\nmessage {doc['failed_message']} failed: {doc['failed_reason']}"
    elif path == "/gov/tally":
        text = _tally_text(doc)
    elif path == "/gov/votes":
        text = "\n".join(f"{v['voter']}  {v['option']}" for v in doc["votes"]) or \
            f"no votes on proposal {args.id}"
    else:
        text = "".join(f"{d['depositor']}  {shown(d['amount'])}\n" for d in doc["deposits"]) \
            + f"total {shown(doc['total'])}"
    return emit(args, doc, height, verified, f"{text}\n(height {height})")


def cmd_params(args: argparse.Namespace) -> int:
    doc, height, verified = query(args, "/gov/params", b"")
    return emit(args, doc, height, verified, "\n".join(f"{k} {doc[k]}" for k in sorted(doc)))
