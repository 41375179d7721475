"""`communs publish`, `communs import-dcat`, `communs datasets list|show|update|withdraw`, and
`communs catalog PROVIDER_URL` (the consumer side).

They write the node's database directly, as the operator: any file this shell can read may be
published (the fences of `fences.py` hold). A serving node holds the SPARQL store's lock, so
the mirror of a change made here reaches /sparql when the node next starts (resync); the DSP
catalog and /catalog read the database and show it at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from connector.app.node import http_session, open_keys
from connector.catalog import formats
from connector.catalog.client import fetch_catalog
from connector.catalog.model import summary
from connector.catalog.resources import service_for
from connector.catalog.service import MAX_IMPORT_BYTES
from connector.cli.common import config, home, run
from connector.cli.output import fields, print_json, table
from connector.config import CONFIG_FILE
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer, did_web_from_url


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    publish = commands.add_parser("publish", parents=[common], help="publish a file or an http(s) source as a dataset")
    publish.add_argument("path", metavar="PATH", help="a file this shell can read, or an http(s) URL")
    _metadata(publish, required=True)
    publish.set_defaults(func=cmd_publish)

    browse = commands.add_parser("catalog", parents=[common], help="a provider's DSP catalog (authenticated as this node when run in its folder)")
    browse.add_argument("provider", metavar="PROVIDER_URL")
    browse.add_argument("--anonymous", action="store_true", help="do not authenticate, even in a node's folder")
    browse.set_defaults(func=cmd_catalog)

    importer = commands.add_parser("import-dcat", parents=[common], help="import a DCAT / DCAT-AP catalog file")
    importer.add_argument("file", metavar="FILE", help="Turtle, RDF/XML, N-Triples, N3 or JSON-LD")
    importer.add_argument("--strict", action="store_true", help="exit 1 when any dataset is rejected or has warnings")
    importer.set_defaults(func=cmd_import)

    datasets = commands.add_parser("datasets", parents=[common], help="list, show, update or withdraw datasets")
    actions = datasets.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="the node's datasets")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(func=cmd_list)
    show = actions.add_parser("show", parents=[common], help="one dataset")
    show.add_argument("id")
    show.set_defaults(func=cmd_show)
    update = actions.add_parser("update", parents=[common], help="change a dataset's metadata or policy")
    update.add_argument("id")
    _metadata(update, required=False)
    update.set_defaults(func=cmd_update)
    withdraw = actions.add_parser("withdraw", parents=[common], help="remove a dataset and its copied file")
    withdraw.add_argument("id")
    withdraw.set_defaults(func=cmd_withdraw)


def _metadata(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--title", required=required)
    parser.add_argument("--description")
    parser.add_argument("--keyword", action="append", dest="keywords", metavar="K", help="repeat for several")
    parser.add_argument("--license", metavar="URI")
    parser.add_argument("--policy", default="open" if required else None, metavar="open|members|POLICY_FILE")


async def _with_service(args: argparse.Namespace, work):  # type: ignore[no-untyped-def]
    from connector.app.node import open_node

    async with open_node(config(args)) as node:
        return await work(service_for(node, operator=True))


def _show(args: argparse.Namespace, shown: dict) -> int:
    if getattr(args, "json", False):
        print_json(shown)
    else:
        fields((k, v) for k, v in shown.items() if k != "offers")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    async def work(service):  # type: ignore[no-untyped-def]
        return await service.publish(
            args.path, title=args.title, description=args.description, keywords=args.keywords or (),
            license=args.license, policy=args.policy,
        )

    return _show(args, summary(run(_with_service(args, work))))


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ConnectorError(Reason.TOO_LARGE, f"{path} is above the {MAX_IMPORT_BYTES} bytes limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot read {path}: {exc.strerror}") from None
    fmt = formats.format_of(path.name, data)

    async def work(service):  # type: ignore[no-untyped-def]
        return await service.import_dcat(data, path.name, fmt)

    report = run(_with_service(args, work)).to_json()
    if getattr(args, "json", False):
        print_json(report)
    else:
        _print_report(path.name, report)
    return import_status(report, args.strict)


def import_status(report: dict[str, Any], strict: bool) -> int:
    """0 when something was imported; with STRICT, 1 as soon as anything was rejected or warned."""
    if strict and (report["rejected"] or report["warnings"]):
        return 1
    return 0 if report["imported"] else 1


def _print_report(name: str, report: dict[str, Any]) -> None:
    rejected, warnings = report["rejected"], report["warnings"]
    lines = sum(len(found) for found in warnings.values())
    print(f"{name}: {_count(report['imported'], 'dataset')} imported ({len(report['created'])} new, "
          f"{len(report['updated'])} updated, {len(report['unchanged'])} unchanged), {len(rejected)} rejected; "
          f"{_count(lines, 'warning')} on {_count(len(warnings), 'imported dataset')}")
    if rejected:
        table("rejected", ("dataset", "reason"), ((r["iri"], reason) for r in rejected for reason in r["reasons"]))
    if warnings:
        table("warnings", ("dataset", "warning"), ((iri, line) for iri, found in warnings.items() for line in found))


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def cmd_list(args: argparse.Namespace) -> int:
    async def work(service):  # type: ignore[no-untyped-def]
        return await service.list(args.limit, args.offset)

    found = run(_with_service(args, work))
    if getattr(args, "json", False):
        print_json([summary(d) for d in found])
    else:
        table("datasets", ("id", "title", "access", "source"), ((d.id, d.title, d.access.value, d.source) for d in found))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    async def work(service):  # type: ignore[no-untyped-def]
        return await service.get(args.id)

    return _show(args, summary(run(_with_service(args, work))))


def cmd_update(args: argparse.Namespace) -> int:
    async def work(service):  # type: ignore[no-untyped-def]
        return await service.update(
            args.id, title=args.title, description=args.description, keywords=args.keywords,
            license=args.license, policy=args.policy,
        )

    return _show(args, summary(run(_with_service(args, work))))


def cmd_withdraw(args: argparse.Namespace) -> int:
    async def work(service):  # type: ignore[no-untyped-def]
        return await service.withdraw(args.id)

    gone = run(_with_service(args, work))
    if getattr(args, "json", False):
        print_json({"id": gone.id, "withdrawn": True})
    else:
        print(f"withdrew {gone.id} ({gone.title})")
    return 0


def _text_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("@value", ""))
    if isinstance(value, list):
        return ", ".join(_text_of(v) for v in value)
    return "" if value is None else str(value)


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def cmd_catalog(args: argparse.Namespace) -> int:
    async def browse() -> dict:
        signer = None
        if not args.anonymous and (home(args) / CONFIG_FILE).exists():
            cfg = config(args)
            signer = Signer.for_store(open_keys(cfg.home), did_web_from_url(cfg.public_url))
        async with http_session() as session:
            return await fetch_catalog(session, args.provider, signer)

    catalog = run(browse())
    if args.json:
        print_json(catalog)
        return 0
    rows = [
        (d.get("@id"), _text_of(d.get("dct:title")), _text_of(d.get("dcat:keyword")), len(_as_list(d.get("hasPolicy"))))
        for d in catalog["dataset"]
    ]
    plural = "" if len(rows) == 1 else "s"
    table(f"{len(rows)} dataset{plural} at {args.provider}", ("id", "title", "keywords", "offers"), rows)
    return 0
