"""`ledger init` options for a local federation: short governance periods, a small minimum
deposit, a short unbonding time, a small downtime window, and the founding registry members
(one per node, in node order). Each becomes a section of the genesis app_state, checked here
with the application's own rules so that a mistake is refused before any folder is made."""

from __future__ import annotations

import argparse
import re
from typing import Any

from ..app.errors import AppError
from ..app.gov.params import GovParams
from ..app.registry import model
from ..app.slashing import SlashingParams
from ..app.staking import StakingParams
from ..errors import LedgerError, Reason
from .amounts import parse_amount

ZERO_HASH = "00" * 32


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--voting-period", type=int, metavar="SECONDS",
                   help="governance's voting period (default 2 days)")
    p.add_argument("--deposit-period", type=int, metavar="SECONDS",
                   help="how long a proposal may gather its minimum deposit (default 2 days)")
    p.add_argument("--min-deposit", metavar="AMOUNT",
                   help="the deposit that opens a proposal's vote, in com (default 10 com)")
    p.add_argument("--unbonding-time", type=int, metavar="SECONDS",
                   help="how long undelegated stake stays slashable (default 21 days)")
    p.add_argument("--signed-blocks-window", type=int, metavar="N",
                   help="the downtime window in blocks (default 100; half must be signed)")
    p.add_argument("--downtime-jail", type=int, metavar="SECONDS",
                   help="how long a validator down too long stays jailed (default 600)")
    p.add_argument("--member", action="append", default=[], metavar="DID=ENDPOINT[@SDHASH]",
                   help="a founding registry member, one per node in node order, with that "
                        "node's account (repeatable)")


def wanted(args: argparse.Namespace) -> bool:
    return bool(args.member) or any(getattr(args, n) is not None for n in (
        "voting_period", "deposit_period", "min_deposit", "unbonding_time",
        "signed_blocks_window", "downtime_jail"))


def _params(cls: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The overrides that were given, checked by the module's own validation."""
    chosen = {k: v for k, v in given.items() if v is not None}
    try:
        cls.from_obj(chosen)
    except AppError as e:
        raise LedgerError(f"ledger init: {e}", Reason.BAD_INPUT) from None
    return chosen


def parse_member(text: str, account: str) -> dict[str, str]:
    did, sep, rest = text.partition("=")
    if not sep:
        raise LedgerError(f"--member {text[:60]!r}: write it as DID=ENDPOINT or "
                          f"DID=ENDPOINT@SDHASH", Reason.BAD_INPUT)
    endpoint, sd_hash = rest, ZERO_HASH
    head, at, tail = rest.rpartition("@")
    if at and re.fullmatch(r"[0-9a-fA-F]{64}", tail):
        endpoint, sd_hash = head, tail.lower()
    try:
        model.check_did_web(did.strip())
        model.check_endpoint(endpoint.strip())
    except AppError as e:
        raise LedgerError(f"--member {text[:60]!r}: {e}", Reason.BAD_INPUT) from None
    return {"did": did.strip(), "endpoint": endpoint.strip(), "sd_hash": sd_hash,
            "account": account}


def check(args: argparse.Namespace, nodes: int) -> None:
    """Refuse what genesis would refuse, before any folder is written."""
    if wanted(args) and args.app != "ledger":
        raise LedgerError("the staking, governance and registry options need the ledger "
                          "application", Reason.BAD_INPUT)
    if len(args.member) > nodes:
        raise LedgerError(f"{len(args.member)} --member for {nodes} nodes: each founding "
                          f"member is one node's organization", Reason.BAD_INPUT)
    dids = [m.partition("=")[0].strip() for m in args.member]
    if len(set(dids)) != len(dids):
        raise LedgerError("a DID appears twice in --member", Reason.BAD_INPUT)
    sections(args, [""] * nodes)


def sections(args: argparse.Namespace, accounts: list[str]) -> dict[str, Any]:
    """The app_state sections these options make (nothing for the options not given)."""
    out: dict[str, Any] = {}
    gov = _params(GovParams, {
        "voting_period": args.voting_period, "max_deposit_period": args.deposit_period,
        "min_deposit": None if args.min_deposit is None
        else parse_amount(args.min_deposit, bare_unit="com")})
    if gov:
        out["gov"] = {"params": gov}
    slashing = _params(SlashingParams, {"signed_blocks_window": args.signed_blocks_window,
                                        "downtime_jail_duration": args.downtime_jail})
    if slashing:
        out["slashing"] = {"params": slashing}
    staking = _params(StakingParams, {"unbonding_time": args.unbonding_time})
    if staking:
        out["staking"] = {"params": staking}
    if args.member:
        out["registry"] = {"members": [parse_member(m, a) for m, a in
                                       zip(args.member, accounts, strict=False)]}
    return out
