"""`communs ledger keys | bank balance|send | params | query account|supply|store`: accounts
and the ucom token of a ledger chain. `--prove` answers are checked by the light client
against the genesis validators of the node folder before they are printed."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path
from typing import Any

from .. import keys
from ..app import client
from ..errors import LedgerError, Reason
from . import txs
from .amounts import parse_account, parse_amount, shown
from .base import at_parser, emit, out, query, show
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
    p = bs.add_parser("send", parents=[txs.tx_parser(common)],
                      help="send ucom and wait for the commit")
    p.add_argument("to", metavar="TO")
    p.add_argument("amount", metavar="AMOUNT", help="5com, 1.5com, 1500000ucom or ucom")
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
    key = _key(args)
    what = f"{shown(amount)} from {keys.address_text(key)} to {to}"
    return txs.run(args, [client.send_msg(key, to, amount)], f"sent {what}", key)
