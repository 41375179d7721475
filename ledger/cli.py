"""`communs ledger ...`: init a local validator set, run a validator, and talk to one.

Registered into the project's CLI by `register(subparsers, common)`; `python -m ledger.cli
ledger ...` works on its own. Handlers return the exit code; errors are `LedgerError`s whose
message is one sentence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from . import logs, privval
from .consensus import views
from .crypto import address
from .errors import LedgerError, Reason
from .node import NodeConfig, key_path, pv_state_path, run_node
from .p2p import NodeKey
from .rpc import RpcClient
from .types import ConsensusParams, Genesis

T = TypeVar("T")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    ledger = subparsers.add_parser("ledger", parents=[common], help="the federation's ledger")
    sub = ledger.add_subparsers(dest="ledger_command", required=True)

    p = sub.add_parser("init", parents=[common], help="create N validator folders")
    p.add_argument("--validators", type=int, required=True, metavar="N")
    p.add_argument("--chain-id", default=None)
    p.add_argument("--base-port", type=int, default=26656,
                   help="node i listens on base+2i (p2p) and base+2i+1 (rpc)")
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


def _out(args: argparse.Namespace, doc: Any, human: str) -> None:
    print(json.dumps(doc, indent=2) if args.json else human)


def _home(args: argparse.Namespace) -> Path:
    return Path(args.dir or os.environ.get("COMMUNS_HOME", ".communs"))


# ---------------------------------------------------------------------------- init


def cmd_init(args: argparse.Namespace) -> int:
    n = args.validators
    if not 1 <= n <= 100:
        print("--validators must be between 1 and 100", file=sys.stderr)
        return 2
    root = _home(args)
    homes = [root / f"node{i}" for i in range(n)]
    for h in homes:
        if (h / "ledger.json").exists() or (h / "genesis.json").exists():
            raise LedgerError(f"{h} already holds a ledger node; choose an empty folder",
                              Reason.CONFIG)
    chain_id = args.chain_id or f"communs-{secrets.token_hex(3)}"
    ids, pubs = [], []
    for h in homes:
        (h / "data").mkdir(parents=True, exist_ok=True)
        pv = privval.FilePV(key_path(h), pv_state_path(h))  # creates key and empty sign state
        pubs.append(pv.public_key)
        ids.append(NodeKey.load_or_generate(h / "node_key.json").id)
    genesis = Genesis(chain_id, int(time.time() * 1000), tuple((pk, 10) for pk in pubs),
                      params=ConsensusParams())
    doc = json.dumps(views.genesis_to_json(genesis), indent=2) + "\n"
    nodes = []
    for i, h in enumerate(homes):
        (h / "genesis.json").write_text(doc)
        p2p, rpc = args.base_port + 2 * i, args.base_port + 2 * i + 1
        peers = [f"{ids[j]}@127.0.0.1:{args.base_port + 2 * j}" for j in range(n) if j != i]
        NodeConfig(moniker=f"node{i}", p2p_port=p2p, rpc_port=rpc, peers=peers).save(h)
        nodes.append({"dir": str(h), "node_id": ids[i], "p2p_port": p2p, "rpc_port": rpc,
                      "validator_address": address(pubs[i]).hex()})
    _out(args, {"chain_id": chain_id, "nodes": nodes},
         f"initialized chain {chain_id} with {n} validators in {root}/node0..node{n - 1}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    try:
        asyncio.run(run_node(_home(args)))
    except OSError as e:  # a port in use, an unreadable folder
        raise LedgerError(f"the ledger node cannot start: {e}", Reason.UNAVAILABLE) from e
    return 0


# ------------------------------------------------------------------------- clients


def _client_call(args: argparse.Namespace, fn: Callable[[RpcClient], Awaitable[T]]) -> T:
    cfg = NodeConfig.load(_home(args))

    async def go() -> T:
        async with RpcClient(cfg.rpc_url, timeout=getattr(args, "timeout", 10.0) + 5) as c:
            return await fn(c)

    return asyncio.run(go())


def cmd_status(args: argparse.Namespace) -> int:
    st = _client_call(args, lambda c: c.status())
    _out(args, st, f"{st['chain_id']} height {st['height']} hash {st['hash']} "
                   f"peers {st['peers']} round {st['round']}")
    return 0


def cmd_tx(args: argparse.Namespace) -> int:
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


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=None)
    common.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser(prog="communs")
    register(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except LedgerError as e:
        print(str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
