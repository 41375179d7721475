"""The `communs` command: subcommands registered by each area, one error path for all.

An area's module is imported only when one of its commands runs: `communs --help` and the
commands that only call the management API must not pay for rdflib, pyshacl or SQLAlchemy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from connector.errors import ConnectorError
from connector.terminal.output import error
from ledger.errors import LedgerError
from vocab.errors import VocabError

# command -> (the module whose register() adds it, its line in `communs --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("connector.cli.node", "create a node: keys, did:web, config, self-description"),
    "serve": ("connector.cli.node", "serve the public and management APIs"),
    "did": ("connector.cli.identity", "this node's DID, or resolve any DID"),
    "credential": ("connector.cli.credentials", "issue, verify, list and add credentials"),
    "trust": ("connector.cli.trust", "the issuers whose credentials this node believes"),
    "selfdesc": ("connector.cli.selfdesc", "Gaia-X self-descriptions"),
    "publish": ("connector.catalog.cli", "publish a file or an http(s) source as a dataset"),
    "datasets": ("connector.catalog.cli", "list, show, update or withdraw datasets"),
    "import-dcat": ("connector.catalog.cli", "import a DCAT / DCAT-AP catalog file"),
    "catalog": ("connector.catalog.cli", "a provider's DSP catalog"),
    "sparql": ("connector.cli.sparql", "run a SPARQL query against an endpoint"),
    "negotiate": ("connector.negotiation.cli", "ask a provider for a contract on a dataset"),
    "negotiations": ("connector.negotiation.cli", "list, show, offer, agree or terminate"),
    "transfer": ("connector.transfer.cli", "pull a dataset under one of our agreements"),
    "transfers": ("connector.transfer.cli", "list, show or steer transfers"),
    "compute": ("connector.compute.cli", "run an algorithm on a provider's data"),
    "jobs": ("connector.compute.cli", "compute jobs run here: list, show, approve or reject"),
    "ledger": ("ledger.cli", "the federation's ledger"),
    "federation": ("connector.cli.federation", "a local federation: up, status, down"),
    "crawl": ("connector.crawler.cli", "crawl the federation's members into the federated catalog"),
    "join": ("connector.ledger.cli", "ask the federation to admit this node (a proposal)"),
    "proposals": ("connector.ledger.cli", "the federation's proposals and their tallies"),
    "vote": ("connector.ledger.cli", "vote on a federation proposal"),
    "value": ("connector.ledger.cli", "paid usage: paid, returned to contributors, extracted"),
    "audit": ("connector.ledger.cli", "an agreement checked against its anchor on the ledger"),
    "stake": ("connector.ledger.cli", "vouch for a listed dataset with a stake (a curator)"),
    "unstake": ("connector.ledger.cli", "take back a stake on a dataset"),
    "demo": ("connector.cli.demo", "play a narrated scenario against a running federation"),
}
ALIASES = {"credentials": "credential"}


class Version(argparse.Action):
    """--version: the installed package's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                         nargs=0, help="print the version of communs and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from importlib.metadata import version

        print(f"communs {version('communs')}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with COMMAND's area registered in full; every other command is a name
    and a line of help, enough to list it and to find which area to load."""
    # --dir and --json work before or after the subcommand; SUPPRESS keeps a subcommand
    # from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=argparse.SUPPRESS,
                        help="the node's folder (default $COMMUNS_HOME or ./.communs)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="machine-readable output")
    parser = argparse.ArgumentParser(prog="communs",
                                     description="A federated data-space connector.")
    parser.add_argument("--version", action=Version)
    parser.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    area = COMMANDS[ALIASES.get(command, command)][0] if command else None
    if area:
        import_module(area).register(commands, common)
    for name, (module, summary) in COMMANDS.items():
        if module != area:
            aliases = [alias for alias, target in ALIASES.items() if target == name]
            commands.add_parser(name, aliases=aliases, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        # which command? (--help, --version and unknown commands end here, before any import)
        command = build_parser().parse_known_args(argv)[0].command
        args = build_parser(command).parse_args(argv)  # usage errors exit 2 here
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
