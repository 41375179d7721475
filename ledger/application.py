"""Which application a validator runs, opened from its folder: the ledger's own (`ledger`,
the default: accounts, the token, state in `data/app.db`) or the key-value test application
(`kvstore`, in memory, replayed from the blocks at start; for engine tests)."""

from __future__ import annotations

from pathlib import Path

from .abci import Application
from .errors import LedgerError, Reason

APPLICATIONS = ("ledger", "kvstore")


def open_application(home: Path, name: str, versions_kept: int) -> Application:
    if name == "kvstore":
        from .kvstore import KVStore

        return KVStore()
    if name != "ledger":
        raise LedgerError(f"unknown application {name!r} in {home}/ledger.json "
                          f"(one of {', '.join(APPLICATIONS)})", Reason.CONFIG)
    if versions_kept == 1:
        raise LedgerError("app_versions_kept must be 0 (keep all) or at least 2: a restart "
                          "replays the last block over the version before it", Reason.CONFIG)
    from .app.app import LedgerApp
    from .app.store import VersionedStore

    return LedgerApp(VersionedStore.open(home / "data" / "app.db", retain=versions_kept))
