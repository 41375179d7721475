"""`communs crawl`: one crawl of the federation into this node's crawler store, then a table
of members (datasets, sources rewritten, failures). Exit 1 when some source failed or did not
validate, so that scripts notice."""

from __future__ import annotations

import argparse
from pathlib import Path

from connector.terminal.common import home, run
from connector.terminal.output import print_json, table


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    crawl = commands.add_parser("crawl", parents=[common],
                                help="crawl the federation's members into the federated catalog")
    crawl.add_argument("--rpc", metavar="URL", help="a ledger node's RPC (default: [crawler] rpc_url)")
    crawl.add_argument("--genesis", metavar="FILE",
                       help="the ledger's genesis.json: verify the registry's answers against it")
    crawl.set_defaults(func=cmd_crawl)


def cmd_crawl(args: argparse.Namespace) -> int:
    from connector.crawler.config import load
    from connector.crawler.service import open_crawler, signer_of

    folder = home(args)

    async def crawl():  # type: ignore[no-untyped-def]
        config = load(folder)
        signer = signer_of(folder)
        async with open_crawler(folder, config, signer=signer, serve=False) as service:
            return await service.run_once(args.rpc, Path(args.genesis) if args.genesis else None)

    report = run(crawl())
    if getattr(args, "json", False):
        print_json(report.to_json())
    else:
        shown = report.to_json()
        proof = "verified" if report.verified else "not verified (give --genesis)"
        table(f"{len(report.members)} members at height {report.height} ({proof}): "
              f"{shown['datasets']} datasets in {report.seconds:.1f} s",
              ("member", "status", "datasets", "changed", "failures", "invalid"), report.rows())
        if report.removed:
            print(f"removed {len(report.removed)} graph(s) of members gone from the registry")
    return 1 if report.failed or any(m.invalid for m in report.members) else 0
