"""`communs publish`, `communs import-dcat`, `communs datasets list|show|update|withdraw`, and
`communs catalog PROVIDER_URL` (the consumer side).

While the node serves, they go through its management API, so that the node mirrors every
change into /sparql at once; a file to publish is then sent as an upload, since the operator's
shell may publish any file it can read (the fences of `fences.py` hold either way). Otherwise
they open the node's folder themselves. Heavy modules are imported by the path that needs them:
a command that only talks to the node starts fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from connector.catalog.model import summary
from connector.errors import ConnectorError, Reason
from connector.terminal.common import config, home, run
from connector.terminal.management import call, serving
from connector.terminal.output import fields, print_json, table


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
    parser.add_argument("--policy", default="open" if required else None, metavar="open|members|paid:AMOUNT|POLICY_FILE")


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The metadata given on the command line, as the management API names it."""
    given = {
        "title": args.title, "description": args.description, "keywords": args.keywords,
        "license": args.license, "policy": args.policy,
    }
    return {k: v for k, v in given.items() if v is not None}


def _policy_for_node(policy: str) -> str | dict:
    """A policy file is read here (the node may not see this shell's files) and sent as JSON-LD."""
    from connector.catalog.service import PAID, CatalogService
    from policies.serialize import to_jsonld

    if policy in ("open", "members") or policy.startswith(PAID):
        return policy

    return to_jsonld(CatalogService.read_policy(Path(policy)))


def _for_node(args: argparse.Namespace) -> dict[str, Any]:
    changes = _changes(args)
    if "policy" in changes:
        changes["policy"] = _policy_for_node(changes["policy"])
    return changes


def _locally(args: argparse.Namespace, work):  # type: ignore[no-untyped-def]
    """WORK(service) on the node's folder, as the operator (any readable file may be published)."""
    from connector.catalog.resources import service_for
    from connector.node import open_node

    async def opened():  # type: ignore[no-untyped-def]
        async with open_node(config(args)) as node:
            return await work(service_for(node, operator=True))

    return run(opened())


def _show(args: argparse.Namespace, shown: dict) -> int:
    if getattr(args, "json", False):
        print_json(shown)
    else:
        fields((k, v) for k, v in shown.items() if k != "offers")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    remote_source = args.path.startswith(("http://", "https://"))
    if serving(args):
        metadata = _for_node(args)
        if remote_source:
            return _show(args, run(call(args, "POST", "/api/v1/datasets", {"source": args.path, **metadata})))
        from connector.catalog import files, remote

        return _show(args, remote.upload(args, files.open_source(args.path, None), metadata))

    async def work(service):  # type: ignore[no-untyped-def]
        return await service.publish(args.path, **_changes(args))

    return _show(args, summary(_locally(args, work)))


def cmd_import(args: argparse.Namespace) -> int:
    from connector.catalog import formats
    from connector.catalog.service import MAX_IMPORT_BYTES

    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ConnectorError(Reason.TOO_LARGE, f"{path} is above the {MAX_IMPORT_BYTES} bytes limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot read {path}: {exc.strerror}") from None
    fmt = formats.format_of(path.name, data)
    if serving(args):
        from connector.catalog import remote

        report = remote.send(args, "POST", remote.IMPORT, data, formats.MEDIA_TYPES[fmt], len(data))
    else:

        async def work(service):  # type: ignore[no-untyped-def]
            return await service.import_dcat(data, path.name, fmt)

        report = _locally(args, work).to_json()
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
    if serving(args):
        params = {"limit": str(args.limit), "offset": str(args.offset)}
        found = run(call(args, "GET", "/api/v1/datasets", params=params))["items"]
    else:

        async def work(service):  # type: ignore[no-untyped-def]
            return [summary(d) for d in await service.list(args.limit, args.offset)]

        found = _locally(args, work)
    if getattr(args, "json", False):
        print_json(found)
    else:
        table("datasets", ("id", "title", "access", "source"), ((d["id"], d["title"], d["access"], d["source"]) for d in found))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    if serving(args):
        return _show(args, run(call(args, "GET", f"/api/v1/datasets/{args.id}")))

    async def work(service):  # type: ignore[no-untyped-def]
        return await service.get(args.id)

    return _show(args, summary(_locally(args, work)))


def cmd_update(args: argparse.Namespace) -> int:
    if serving(args):
        return _show(args, run(call(args, "PATCH", f"/api/v1/datasets/{args.id}", _for_node(args))))

    async def work(service):  # type: ignore[no-untyped-def]
        return await service.update(args.id, **_changes(args))

    return _show(args, summary(_locally(args, work)))


def cmd_withdraw(args: argparse.Namespace) -> int:
    if serving(args):
        from connector.catalog import remote

        gone = run(call(args, "GET", f"/api/v1/datasets/{args.id}"))
        remote.send(args, "DELETE", f"{remote.DATASETS}/{args.id}")
    else:

        async def work(service):  # type: ignore[no-untyped-def]
            return summary(await service.withdraw(args.id))

        gone = _locally(args, work)
    if getattr(args, "json", False):
        print_json({"id": gone["id"], "withdrawn": True})
    else:
        print(f"withdrew {gone['id']} ({gone['title']})")
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
    from connector.catalog.client import fetch_catalog
    from connector.config import CONFIG_FILE
    from connector.identity.did import Signer, did_web_from_url
    from connector.node import http_session, open_keys

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
