"""`communs selfdesc show | validate`."""

from __future__ import annotations

import argparse

from connector.cli.identity import cli_resolver
from connector.node import open_node
from connector.selfdescription.publisher import VARIANTS, framework_of
from connector.selfdescription.routes import view
from connector.selfdescription.validate import validate_self_description
from connector.terminal.common import config, read_input, run
from connector.terminal.output import print_document, print_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    selfdesc = commands.add_parser("selfdesc", help="Gaia-X self-descriptions").add_subparsers(dest="action", required=True, metavar="ACTION")
    show = selfdesc.add_parser("show", parents=[common], help="print this node's signed self-description")
    show.add_argument("--variant", choices=sorted(VARIANTS), default="loire", help="loire (25.11, vp+jwt) or tagus (22.10, JSON-LD)")
    show.set_defaults(func=cmd_show)
    validate = selfdesc.add_parser("validate", parents=[common], help="validate a self-description, VP, VC or JWT file ('-' for stdin)")
    validate.add_argument("file")
    validate.set_defaults(func=cmd_validate)


def cmd_show(args: argparse.Namespace) -> int:
    async def show() -> dict:
        async with open_node(config(args)) as node:
            return view(node.self_descriptions.get(framework_of(args.variant)))

    shown = run(show())
    print_document(shown, "presentation", args.json)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    text = read_input(args.file)

    async def validate():
        async with cli_resolver(args) as resolver:
            return await validate_self_description(text, resolver)

    report = run(validate())
    if args.json:
        print_json(report.to_json())
    else:
        print(report.render())
    return 0 if report.conforms else 1
