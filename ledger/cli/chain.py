"""`communs ledger init | run | status | tx | query block|key|validators|tx`: the chain itself
(the kvstore test application's `tx key=value` and `query key` included)."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from .. import gctune, keys, logs, privval
from ..application import APPLICATIONS
from ..cometbft import home as cometbft_home
from ..consensus import views
from ..crypto import address
from ..errors import LedgerError, Reason
from ..node import NodeConfig, key_path, pv_state_path, run_node
from ..p2p import NodeKey
from ..types import ConsensusParams, Genesis
from . import federation
from .amounts import UCOM_PER_COM, parse_account, parse_amount
from .base import client_call as _client_call
from .base import home as _home
from .base import out as _out

ENGINES = ("communs", "cometbft")
POWER = 10  # each founding validator's voting power: its self-bond of 10 com (power = com)
SELF_BOND = POWER * UCOM_PER_COM


def register(sub: Any, common: argparse.ArgumentParser) -> Any:
    """Add the chain's commands; return the `query` group for other command modules."""
    p = sub.add_parser("init", parents=[common], help="create N validator folders")
    p.add_argument("--validators", type=int, required=True, metavar="N")
    p.add_argument("--chain-id", default=None)
    p.add_argument("--base-port", type=int, default=26656,
                   help="node i listens on base+2i (p2p) and base+2i+1 (rpc); with --engine "
                        "cometbft on base+3i (p2p), base+3i+1 (rpc), base+3i+2 (its app)")
    p.add_argument("--engine", choices=ENGINES, default="communs",
                   help="the consensus engine: ours (communs, default) or CometBFT (also "
                        "writes each node's CometBFT home in NODE/cometbft)")
    p.add_argument("--app", choices=APPLICATIONS, default="ledger",
                   help="the application: ledger (accounts and the token, default) or kvstore")
    p.add_argument("--balance", default="1000000",
                   help="each node account's genesis balance, in com (5com, 1500000ucom "
                        "also read; default 1000000 com)")
    p.add_argument("--fund", action="append", default=[], metavar="ADDRESS=AMOUNT",
                   help="a further genesis account and its balance in com (repeatable)")
    p.add_argument("--account-key", action="append", default=[], type=Path, metavar="FILE",
                   help="node i's account key (an Ed25519 JWK, such as a connector's did:web "
                        "key, or a key file of ours), one per node in node order (repeatable): "
                        "the organization's DID and its ledger account are then the same key")
    federation.add_options(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", parents=[common], help="run the validator in --dir")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", parents=[common], help="height, latest hash, peers")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("tx", parents=[common],
                       help="submit a transaction (key=value) and wait for its commit")
    p.add_argument("tx")
    p.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                   help="wait until a block holds it (default); --no-wait only submits it")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for the commit (at most 60)")
    p.set_defaults(func=cmd_tx)

    q = sub.add_parser("query", parents=[common], help="blocks, keys, validators, txs")
    qs = q.add_subparsers(dest="query_command", required=True)
    p = qs.add_parser("block", parents=[common])
    p.add_argument("height", type=int, nargs="?")
    p.set_defaults(func=cmd_query_block)
    p = qs.add_parser("key", parents=[common])
    p.add_argument("key")
    p.set_defaults(func=cmd_query_key)
    p = qs.add_parser("validators", parents=[common])
    p.add_argument("height", type=int, nargs="?")
    p.set_defaults(func=cmd_query_validators)
    p = qs.add_parser("tx", parents=[common])
    p.add_argument("hash")
    p.set_defaults(func=cmd_query_tx)
    return qs


# ---------------------------------------------------------------------------- init


def cmd_init(args: argparse.Namespace) -> int:
    n = args.validators
    if not 1 <= n <= 100:
        print("--validators must be between 1 and 100", file=sys.stderr)
        return 2
    balance = parse_amount(args.balance, bare_unit="com", allow_zero=True)
    if args.app == "ledger" and balance < SELF_BOND:
        raise LedgerError(f"--balance must be at least {POWER} com: each node's account bonds "
                          f"{POWER} com as its validator's stake", Reason.BAD_INPUT)
    funded = dict(_genesis_account(f) for f in args.fund)
    if funded and args.app != "ledger":
        raise LedgerError("--fund needs the ledger application (the kvstore has no accounts)",
                          Reason.BAD_INPUT)
    federation.check(args, n)
    if len(args.account_key) > n:
        raise LedgerError(f"{len(args.account_key)} --account-key for {n} nodes",
                          Reason.BAD_INPUT)
    given = [keys.load_account_key(path) for path in args.account_key]
    root = _home(args)
    homes = [root / f"node{i}" for i in range(n)]
    for h in homes:
        if (h / "ledger.json").exists() or (h / "genesis.json").exists():
            raise LedgerError(f"{h} already holds a ledger node; choose an empty folder",
                              Reason.CONFIG)
    chain_id = args.chain_id or f"communs-{secrets.token_hex(3)}"
    ids, pubs, accounts = [], [], []
    for i, h in enumerate(homes):
        (h / "data").mkdir(parents=True, exist_ok=True)
        if i < len(given):
            keys.save_account_key(h, given[i])
        pv = privval.FilePV(key_path(h), pv_state_path(h))  # creates key and empty sign state
        pubs.append(pv.public_key)
        ids.append(NodeKey.load_or_generate(h / "node_key.json").id)
        accounts.append(keys.address_text(keys.create_account_key(h)))
    app_state: dict[str, Any] | None = None
    if args.app == "ledger":  # each node's account funded, and bonded as its validator's
        app_state = {"balances": {**funded, **{a: balance for a in accounts}},
                     "staking": {"validators": [
                         {"operator": a, "pub_key": pk.hex(), "self_bond": SELF_BOND,
                          "commission_ppm": 100_000, "moniker": f"node{i}"}
                         for i, (pk, a) in enumerate(zip(pubs, accounts, strict=True))]}}
        for name, section in federation.sections(args, accounts).items():
            app_state[name] = {**app_state.get(name, {}), **section}
    genesis = Genesis(chain_id, int(time.time() * 1000), tuple((pk, POWER) for pk in pubs),
                      app_state=app_state, params=ConsensusParams())
    doc = json.dumps(views.genesis_to_json(genesis), indent=2) + "\n"
    nodes = []
    step = 3 if args.engine == "cometbft" else 2  # CometBFT's nodes also need an app port
    for i, h in enumerate(homes):
        (h / "genesis.json").write_text(doc)
        p2p, rpc = args.base_port + step * i, args.base_port + step * i + 1
        peers = [f"{ids[j]}@127.0.0.1:{args.base_port + step * j}" for j in range(n) if j != i]
        NodeConfig(moniker=f"node{i}", p2p_port=p2p, rpc_port=rpc, peers=peers,
                   application=args.app).save(h)
        nodes.append({"dir": str(h), "node_id": ids[i], "p2p_port": p2p, "rpc_port": rpc,
                      "validator_address": address(pubs[i]).hex(), "account": accounts[i]})
        if args.engine == "cometbft":
            nodes[-1]["abci"] = cometbft_home.write_node(h, f"node{i}", genesis, n, p2p + 2,
                                                         peers)
    _out(args, {"chain_id": chain_id, "application": args.app, "engine": args.engine,
                "nodes": nodes},
         f"initialized chain {chain_id} ({args.app}, {args.engine} engine) with {n} validators in "
         f"{root}/node0..node{n - 1}")
    return 0


def _genesis_account(text: str) -> tuple[str, int]:
    addr, sep, amount = text.partition("=")
    if not sep:
        raise LedgerError(f"--fund {text[:60]!r}: write it as ADDRESS=AMOUNT", Reason.BAD_INPUT)
    return parse_account(addr), parse_amount(amount, bare_unit="com")


def cmd_run(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    gctune.tune()
    try:
        asyncio.run(run_node(_home(args)))
    except OSError as e:  # a port in use, an unreadable folder
        raise LedgerError(f"the ledger node cannot start: {e}", Reason.UNAVAILABLE) from e
    return 0


# ------------------------------------------------------------------------- clients


def cmd_status(args: argparse.Namespace) -> int:
    st = _client_call(args, lambda c: c.status())
    _out(args, st, f"{st['chain_id']} height {st['height']} hash {st['hash']} "
                   f"peers {st['peers']} round {st['round']}")
    return 0


def _kvstore_only(args: argparse.Namespace, what: str) -> None:
    app = NodeConfig.load(_home(args)).application
    if app != "kvstore":
        raise LedgerError(f"`ledger {what}` is for kvstore chains and this one runs the {app} "
                          f"application: use `communs ledger bank send TO AMOUNT`, or `ledger "
                          f"query store KEYHEX` to read the store", Reason.BAD_INPUT)


def cmd_tx(args: argparse.Namespace) -> int:
    _kvstore_only(args, "tx key=value")
    tx = args.tx.encode()
    if args.wait:
        res = _client_call(args, lambda c: c.broadcast_tx_commit(tx, args.timeout))
        check, commit = res["check_tx"], res["commit"]
        doc = {**check, "committed": commit}
        if not check["ok"]:
            raise LedgerError(f"transaction refused: {check['log']}")
        if commit is None:
            raise LedgerError(f"transaction {check['hash']} was accepted but not committed "
                              f"within {args.timeout:g} s", Reason.UNAVAILABLE)
        if commit["code"] != 0:  # in a block, but FinalizeBlock refused it: nothing changed
            if args.json:
                _out(args, doc, "")
            raise LedgerError(f"transaction {check['hash']} failed at height {commit['height']} "
                              f"(code {commit['code']}): {commit['log'] or 'no log'}")
        _out(args, doc, f"transaction {check['hash']} committed at height {commit['height']}")
        return 0
    res = _client_call(args, lambda c: c.broadcast_tx(tx))
    if not res["ok"]:
        raise LedgerError(f"transaction refused: {res['log'] or res['code']}")
    _out(args, res, f"transaction {res['hash']} accepted (not waiting for its commit)")
    return 0


def cmd_query_block(args: argparse.Namespace) -> int:
    b = _client_call(args, lambda c: c.block(args.height))
    if b is None:
        raise LedgerError(f"no block at height {args.height}", Reason.NOT_FOUND)
    _out(args, b, f"block {b['height']} hash {b['hash']} txs {b['num_txs']} "
                  f"app_hash {b['header']['app_hash']}")
    return 0


def cmd_query_key(args: argparse.Namespace) -> int:
    _kvstore_only(args, "query key")
    r = _client_call(args, lambda c: c.query("/key", args.key.encode()))
    if r["code"] != 0:
        if args.json:
            _out(args, r, "")
        else:
            print(f"{args.key}: {r['log']}")
        return 1
    _out(args, r, f"{args.key} = {r['value_text']}")
    return 0


def cmd_query_validators(args: argparse.Namespace) -> int:
    vs = _client_call(args, lambda c: c.validators(args.height))
    _out(args, vs, "\n".join(f"{v['address']} power {v['power']}" for v in vs))
    return 0


def cmd_query_tx(args: argparse.Namespace) -> int:
    try:
        h = bytes.fromhex(args.hash)
    except ValueError:
        raise LedgerError("the transaction hash must be hex") from None
    r = _client_call(args, lambda c: c.tx(h))
    if r is None:
        raise LedgerError(f"transaction {args.hash} is not committed", Reason.NOT_FOUND)
    outcome = "succeeded" if r["code"] == 0 else f"failed (code {r['code']}): {r['log']}"
    _out(args, r, f"transaction {args.hash} committed at height {r['height']}, {outcome}")
    return 0 if r["code"] == 0 else 1
