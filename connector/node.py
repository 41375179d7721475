"""A node's resources (keys, DID, database, outbound session, resolver...), opened together,
and NODE, the app key under which every feature's routes and resources find them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from connector.config import NodeConfig
from connector.credentials.sql import SqlCredentialStore
from connector.credentials.store import CredentialStore
from connector.errors import ConnectorError, Reason
from connector.identity.addresses import AddressPolicy
from connector.identity.did import Signer, did_web_from_url, node_did_document
from connector.identity.keys import KeyStore
from connector.identity.resolver import DidResolver
from connector.metrics import Metrics
from connector.selfdescription.publisher import SelfDescriptions, participant_of
from connector.storage.database import Database, sqlite_file

KEYS_DIR = "keys"
PASSPHRASE_ENV = "COMMUNS_PASSPHRASE"


def passphrase_from_env() -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None


def open_keys(home: Path) -> KeyStore:
    return KeyStore.open(home / KEYS_DIR, passphrase_from_env())


@dataclass
class Node:
    config: NodeConfig
    keys: KeyStore
    did: str
    database: Database
    credentials: CredentialStore
    session: aiohttp.ClientSession
    resolver: DidResolver
    metrics: Metrics
    self_descriptions: SelfDescriptions

    @property
    def signer(self) -> Signer:
        """Ed25519 signs by default: it is the key every peer implementation verifies."""
        return Signer.for_store(self.keys, self.did)


NODE = web.AppKey("node", Node)


def http_session() -> aiohttp.ClientSession:
    """The process's outbound session: bounded in time, never following redirects by default."""
    timeout = aiohttp.ClientTimeout(total=30, connect=5, sock_read=15)
    return aiohttp.ClientSession(timeout=timeout, raise_for_status=False)


def check_database_present(config: NodeConfig) -> None:
    """A node's folder (its keys open before this) gets its SQLite file from `init`: a missing
    one was lost, and opening would silently start an empty one, every negotiation, agreement
    and dataset record gone."""
    file = sqlite_file(config.database_url)
    if file is not None and not file.exists():
        raise ConnectorError(
            Reason.STORAGE,
            f"the database {file} is missing, but {config.home} holds this node's keys and "
            "communs.toml: restore the file from a backup, or start afresh with an empty database "
            "(communs serve --new-database)",
        )


@asynccontextmanager
async def open_node(config: NodeConfig, *, new_database: bool = False) -> AsyncIterator[Node]:
    """The node's resources; `new_database` lets a missing database be created empty (`init`,
    `serve --new-database`; see check_database_present)."""
    keys = open_keys(config.home)  # fails before anything else is opened
    if not new_database:
        check_database_present(config)
    database = await Database.open(config.database_url)
    session = http_session()
    did = did_web_from_url(config.public_url)
    resolver = DidResolver(session, policy=AddressPolicy.for_node(config))
    resolver.pin(node_did_document(did, keys, config.public_url))
    # Loire compliance accepts EC keys only (no EdDSA), so self-descriptions are ES256
    p256 = Signer.for_store(keys, did, crv="P-256")
    try:
        yield Node(
            config=config,
            keys=keys,
            did=did,
            database=database,
            credentials=SqlCredentialStore(database),
            session=session,
            resolver=resolver,
            metrics=Metrics(),
            self_descriptions=SelfDescriptions(participant_of(config, did), p256),
        )
    finally:
        await session.close()
        await database.close()
