"""`communs ledger ...`: init a local validator set, run a validator, talk to one, use its
accounts and token, stake, govern, read the federation's registry, and use its data market.

Registered into the project's CLI by `register(subparsers, common)`; `python -m ledger.cli
ledger ...` works on its own. Handlers return the exit code; errors are `LedgerError`s whose
message is one sentence."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import LedgerError
from . import abciapp, bank, chain, distrib, gov, market, registry, stake


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    ledger = subparsers.add_parser("ledger", parents=[common], help="the federation's ledger")
    sub = ledger.add_subparsers(dest="ledger_command", required=True)
    queries = chain.register(sub, common)
    bank.register(sub, queries, common)
    stake.register(sub, common)
    distrib.register(sub, common)
    gov.register(sub, common)
    registry.register(sub, common)
    market.register(sub, common)
    abciapp.register(sub, common)


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
