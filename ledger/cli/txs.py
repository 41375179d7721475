"""Signing and submitting a transaction of module messages for `communs ledger staking |
distribution | gov | registry`: the sequence and the parameters (for the minimum fee) read
from the node, the answer of CheckTx, then (with --wait, the default) the outcome in a block.
A refusal is printed as the one sentence the application gave, and the command exits 1."""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import keys
from ..app import client, modules
from ..app.msgs import Msg
from ..app.params import Params
from ..app.wire import jsonable
from ..crypto import PrivateKey
from ..errors import LedgerError, Reason
from ..node import load_genesis
from ..rpc import RpcClient
from .amounts import parse_amount
from .base import client_call, home, out, signing_key

assert modules.ROUTES  # every module's message parsers are registered


def tx_parser(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of a command that signs and submits a transaction."""
    p = argparse.ArgumentParser(add_help=False, parents=[common])
    p.add_argument("--key", type=Path, help="sign with this key file instead of the node's")
    p.add_argument("--fee", default=None,
                   help="default: the minimum for these messages under the chain's parameters")
    p.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                   help="wait until a block holds it (default); --no-wait only submits it")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the commit")
    p.add_argument("--sequence", type=int, default=None,
                   help="the account's sequence (default: the chain's), to send several "
                        "transactions with --no-wait before the first is committed")
    return p


def readable(m: Msg) -> dict[str, Any]:
    """A message as people read it: addresses as com1..., other bytes as hex."""
    return jsonable(m.to_obj())  # type: ignore[no-any-return]


def attribute(commit: dict[str, Any], kind: str, key: str) -> str | None:
    """The first value of `key` in an event of type `kind` of a committed transaction."""
    for e in commit.get("events") or []:
        if e.get("type") == kind:
            for a in e.get("attributes") or []:
                if a.get("key") == key:
                    return str(a.get("value"))
    return None


def submit(args: argparse.Namespace, messages: Sequence[Msg],
           key: PrivateKey | None = None) -> dict[str, Any]:
    """Sign `messages` with `key` (default: --key or the node's account) and submit them;
    return the transaction's document (with "height" and "events" once committed), or raise
    LedgerError with the application's sentence if CheckTx or the block refused it."""
    key = key or signing_key(args)
    signer = keys.address_text(key)
    chain_id = load_genesis(home(args)).chain_id
    fee_arg = getattr(args, "fee", None)
    fee = None if fee_arg is None else parse_amount(fee_arg, allow_zero=True)

    async def go(c: RpcClient) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
        acc, par = await c.query("/auth/account", signer.encode()), await c.query("/params")
        if acc["code"] != 0 or par["code"] != 0:
            raise LedgerError(f"cannot read the account {signer}: {acc['log'] or par['log']}",
                              Reason.UNAVAILABLE)
        seq = json.loads(base64.b64decode(acc["value"]))["sequence"]
        if getattr(args, "sequence", None) is not None:
            seq = args.sequence
        params = Params.from_obj(json.loads(base64.b64decode(par["value"])))
        paid = client.min_fee(messages, params) if fee is None else fee
        tx = client.sign(key, chain_id, seq, messages, paid)
        if not args.wait:
            return paid, await c.broadcast_tx(tx), None
        res = await c.broadcast_tx_commit(tx, args.timeout)
        return paid, res["check_tx"], res["commit"]

    paid, check, commit = client_call(args, go)
    doc: dict[str, Any] = {"hash": check["hash"], "signer": signer, "fee": paid,
                           "messages": [readable(m) for m in messages],
                           "accepted": check["ok"], "log": check["log"]}
    if not check["ok"]:
        if args.json:
            out(args, doc, "")
        raise LedgerError(check["log"] or f"transaction refused ({check['code']})")
    if not args.wait:
        return doc
    if commit is None:
        raise LedgerError(f"transaction {check['hash']} was accepted but not committed "
                          f"within {args.timeout:g} s", Reason.UNAVAILABLE)
    doc.update(height=commit["height"], code=commit["code"], log=commit["log"],
               events=commit["events"])
    if commit["code"] != 0:  # in a block, but refused there: only the fee was taken
        if args.json:
            out(args, doc, "")
        raise LedgerError(commit["log"] or f"transaction {check['hash']} failed at height "
                                           f"{commit['height']} (code {commit['code']})")
    return doc


def report(args: argparse.Namespace, doc: dict[str, Any], done: str) -> int:
    """Print a submitted transaction: what it did and where, or its JSON document."""
    if "height" not in doc:
        out(args, doc, f"transaction {doc['hash']} accepted (not waiting for its commit): "
                       f"{done}")
    else:
        out(args, doc, f"{done}: transaction {doc['hash']} committed at height {doc['height']}")
    return 0


def run(args: argparse.Namespace, messages: Sequence[Msg], done: str,
        key: PrivateKey | None = None) -> int:
    return report(args, submit(args, messages, key), done)
