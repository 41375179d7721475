"""`communs ledger keys | bank balance|send | params | query account|supply|store`: accounts
and the ucom token of a ledger chain. `--prove` answers are checked by the light client
against the genesis validators of the node folder before they are printed."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

from .. import keys
from ..app import client
from ..errors import LedgerError, Reason
from ..node import load_genesis
from ..rpc import RpcClient
from .amounts import parse_account, parse_amount, shown
from .base import at_parser, client_call, emit, home, out, query, show
from .base import signing_key as _key


def register(sub: Any, queries: Any, common: argparse.ArgumentParser) -> None:
    at = at_parser(common)

    p = sub.add_parser("keys", parents=[common], help="this node's account (or --key FILE)")
    p.add_argument("--key", type=Path, help="an account_key.json or an Ed25519 private JWK")
    p.set_defaults(func=cmd_keys)

    bank = sub.add_parser("bank", parents=[common], help="balances and sends of ucom")
    bs = bank.add_subparsers(dest="bank_command", required=True)
    p = bs.add_parser("balance", parents=[at], help="an account's balance (default: ours)")
    p.add_argument("address", nargs="?")
    p.set_defaults(func=cmd_balance)
    p = bs.add_parser("send", parents=[common], help="send ucom and wait for the commit")
    p.add_argument("to", metavar="TO")
    p.add_argument("amount", metavar="AMOUNT", help="5com, 1.5com, 1500000ucom or ucom")
    p.add_argument("--fee", default=None, help="default: the minimum (2000ucom a send)")
    p.add_argument("--key", type=Path, help="sign with this key file instead of the node's")
    p.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--timeout", type=float, default=30.0)
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("params", parents=[at], help="the application's parameters")
    p.set_defaults(func=lambda a: show(a, "/params", b"", _params_text))
    p = queries.add_parser("account", parents=[at])
    p.add_argument("address")
    p.set_defaults(func=cmd_account)
    p = queries.add_parser("supply", parents=[at])
    p.set_defaults(func=lambda a: show(a, "/bank/supply", b"", _supply_text))
    p = queries.add_parser("store", parents=[at])
    p.add_argument("key", metavar="KEYHEX")
    p.set_defaults(func=cmd_store)


def cmd_keys(args: argparse.Namespace) -> int:
    k = _key(args)
    doc = {"address": keys.address_text(k), "hex": k.address.hex(),
           "pub_key": base64.b64encode(k.pub_key).decode(), "pub_key_hex": k.pub_key.hex()}
    out(args, doc, "\n".join(f"{n:<8} {doc[f]}" for n, f in (
        ("address", "address"), ("hex", "hex"), ("pub_key", "pub_key"))))
    return 0


# ----------------------------------------------------------------------- queries


def _params_text(doc: dict[str, Any], height: int) -> str:
    return "\n".join(f"{k} {doc[k]}" for k in sorted(doc))


def _supply_text(doc: dict[str, Any], height: int) -> str:
    return (f"supply {shown(doc['total'])} at height {height} (genesis {doc['genesis']}, "
            f"minted {doc['minted']}, burned {doc['burned']} ucom)")


def cmd_balance(args: argparse.Namespace) -> int:
    who = parse_account(args.address) if args.address else keys.address_text(_key(args))
    doc, height, verified = query(args, "/bank/balance", who.encode())
    return emit(args, doc, height, verified,
                f"{who} has {shown(doc['balance'])} at height {height}")


def cmd_account(args: argparse.Namespace) -> int:
    who = parse_account(args.address)
    doc, height, verified = query(args, "/auth/account", who.encode())
    return emit(args, doc, height, verified,
                f"{who} has {shown(doc['balance'])}, sequence {doc['sequence']}, "
                f"public key {doc['pub_key'] or 'not yet known'} (height {height})")


def cmd_store(args: argparse.Namespace) -> int:
    try:
        key = bytes.fromhex(args.key)
    except ValueError:
        raise LedgerError(f"the store key must be hex, not {args.key[:40]!r}",
                          Reason.BAD_INPUT) from None
    raw, height, verified = query(args, "/store", key)
    return emit(args, {"key": key.hex(), "value": raw.hex() or None}, height, verified,
                f"{key.hex()} = {raw.hex() or '(absent)'} at height {height}")


# -------------------------------------------------------------------------- send


def cmd_send(args: argparse.Namespace) -> int:
    to = parse_account(args.to)
    amount = parse_amount(args.amount)
    fee = None if args.fee is None else parse_amount(args.fee, allow_zero=True)
    key = _key(args)
    sender = keys.address_text(key)
    chain_id = load_genesis(home(args)).chain_id

    async def go(c: RpcClient) -> tuple[dict[str, Any], dict[str, Any] | None]:
        r = await c.query("/auth/account", sender.encode())
        if r["code"] != 0:
            raise LedgerError(f"cannot read the account {sender}: {r['log']}")
        seq = json.loads(base64.b64decode(r["value"]))["sequence"]
        tx = client.send(key, chain_id, seq, to, amount, fee)
        if not args.wait:
            return await c.broadcast_tx(tx), None
        res = await c.broadcast_tx_commit(tx, args.timeout)
        return res["check_tx"], res["commit"]

    check, commit = client_call(args, go)
    what = f"{shown(amount)} from {sender} to {to}"
    doc: dict[str, Any] = {"hash": check["hash"], "from": sender, "to": to, "amount": amount,
                           "accepted": check["ok"], "log": check["log"]}
    if not check["ok"]:
        raise LedgerError(f"transaction refused: {check['log'] or check['code']}")
    if not args.wait:
        out(args, doc, f"transaction {check['hash']} accepted (not waiting for its commit): "
                       f"{what}")
        return 0
    if commit is None:
        raise LedgerError(f"transaction {check['hash']} was accepted but not committed "
                          f"within {args.timeout:g} s", Reason.UNAVAILABLE)
    doc.update(height=commit["height"], code=commit["code"], log=commit["log"])
    if commit["code"] != 0:  # in a block, but FinalizeBlock refused it: nothing moved
        if args.json:
            out(args, doc, "")
        raise LedgerError(f"transaction {check['hash']} failed at height {commit['height']} "
                          f"(code {commit['code']}): {commit['log'] or 'no log'}")
    out(args, doc, f"sent {what}: transaction {check['hash']} committed at height "
                   f"{commit['height']}")
    return 0
