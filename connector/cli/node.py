"""`communs init` and `communs serve`."""

from __future__ import annotations

import argparse
import secrets
import shutil
from pathlib import Path

from connector.app import logs
from connector.app.server import serve
from connector.config import (
    CONFIG_FILE,
    TOKEN_FILE,
    NodeConfig,
    save,
    validate_public_url,
    write_secret,
)
from connector.errors import ConnectorError, Reason
from connector.identity.keys import KeyStore
from connector.node import KEYS_DIR, open_node, passphrase_from_env
from connector.selfdescription.digest import claims_digest
from connector.selfdescription.model import Framework, RegistrationNumber, check_subdivision
from connector.terminal.common import config, home, run
from connector.terminal.output import fields, print_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    init = commands.add_parser("init", parents=[common], help="create a node: keys, did:web, config, self-description")
    init.add_argument("--name", required=True, help="the organization's legal name")
    init.add_argument("--url", required=True, help="the node's public URL, e.g. https://connector.example.org")
    # the Gaia-X self-description that init signs needs both: asked up front, not after the keys
    init.add_argument("--country", required=True,
                      help="ISO 3166-2 subdivision of the legal address, e.g. FR-75")
    init.add_argument("--registration-number", required=True,
                      help="TYPE:VALUE, TYPE one of vatID, leiCode, EORI, EUID, taxID, local")
    init.add_argument("--management-port", type=int, help="default: the public port + 1")
    init.add_argument("--dev", action="store_true", help="a development node: it reaches private networks and this host (DIDs, callbacks, PUSH)")
    init.set_defaults(func=cmd_init)
    serve_cmd = commands.add_parser("serve", parents=[common], help="serve the public and management APIs")
    serve_cmd.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    serve_cmd.add_argument("--new-database", action="store_true",
                           help="start afresh with an empty database where the old one was lost")
    serve_cmd.set_defaults(func=cmd_serve)


def _new_config(args: argparse.Namespace, folder: Path) -> NodeConfig:
    if not args.name.strip():
        raise ConnectorError(Reason.BAD_INPUT, "the name must not be empty")
    host, port = validate_public_url(args.url)
    check_subdivision(args.country)  # kept as given: the self-description normalizes it
    registration = str(RegistrationNumber.parse(args.registration_number))
    management_port = args.management_port if args.management_port is not None else port + 1
    if not 0 <= management_port <= 65535:
        raise ConnectorError(Reason.BAD_INPUT, f"the management port {management_port} is out of range")
    return NodeConfig(
        home=folder,
        name=args.name.strip(),
        public_url=args.url.rstrip("/"),
        public_host="127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0",
        public_port=port,
        management_port=management_port,
        country=args.country,
        registration_number=registration,
        dev=args.dev,
        allow_private_dids=args.dev,
    )


def cmd_init(args: argparse.Namespace) -> int:
    folder = home(args)
    if (folder / CONFIG_FILE).exists():
        raise ConnectorError(Reason.CONFLICT, f"{folder} already holds a node; choose another --dir")
    cfg = _new_config(args, folder)  # every input is checked before anything is written
    existed = folder.exists()
    created = [folder / name for name in (KEYS_DIR, CONFIG_FILE, TOKEN_FILE)]
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        KeyStore.create(folder / KEYS_DIR, passphrase_from_env())
        save(cfg)
        write_secret(folder / TOKEN_FILE, secrets.token_urlsafe(32))
        summary = run(_finish(cfg))
    except BaseException:
        # leave nothing half-made behind: the folder as it was before
        if existed:
            for path in created + [folder / name for name in ("communs.db", "communs.db-wal", "communs.db-shm")]:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if args.json:
        print_json(summary)
    else:
        fields(summary.items())
        print(f"Next: communs serve --dir {folder}")
    return 0


async def _finish(cfg: NodeConfig) -> dict[str, object]:
    async with open_node(cfg, new_database=True) as node:  # creates and migrates the database
        await node.self_descriptions.check(node.resolver)  # also warms the shapes cache
        built = node.self_descriptions.get(Framework.LOIRE)
        return {
            "did": node.did,
            "name": cfg.name,
            "publicUrl": cfg.public_url,
            "managementUrl": cfg.management_url,
            "tokenFile": str(cfg.home / TOKEN_FILE),
            "dir": str(cfg.home),
            "selfDescriptionHash": claims_digest(built.credentials.values()),
        }


def cmd_serve(args: argparse.Namespace) -> int:
    cfg = config(args)
    logs.configure(args.log_level)
    run(serve(cfg, new_database=args.new_database))
    return 0
