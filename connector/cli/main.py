"""The `communs` command: subcommands registered by each area, one error path for all."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from connector.catalog import cli as catalog
from connector.cli import identity, node, selfdesc, sparql
from connector.cli.output import error
from connector.compute import cli as compute
from connector.errors import ConnectorError
from connector.negotiation import cli as negotiation
from connector.transfer import cli as transfer
from ledger import cli as ledger_cli
from ledger.errors import LedgerError
from vocab.errors import VocabError


def build_parser() -> argparse.ArgumentParser:
    # --dir and --json work before or after the subcommand; SUPPRESS keeps a subcommand
    # from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=argparse.SUPPRESS, help="the node's folder (default $COMMUNS_HOME or ./.communs)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    parser = argparse.ArgumentParser(prog="communs", description="A federated data-space connector.")
    parser.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    node.register(commands, common)
    identity.register(commands, common)
    selfdesc.register(commands, common)
    catalog.register(commands, common)
    sparql.register(commands, common)
    negotiation.register(commands, common)
    transfer.register(commands, common)
    compute.register(commands, common)
    ledger_cli.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 here
    try:
        return int(args.func(args))
    except (ConnectorError, VocabError, LedgerError) as exc:
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one sentence, never a traceback
        error(f"internal error ({type(exc).__name__}: {exc}); set COMMUNS_DEBUG=1 for details")
        if __import__("os").environ.get("COMMUNS_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
