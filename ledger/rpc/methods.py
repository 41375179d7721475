"""The CometBFT v0.38 RPC methods this node serves, over a `NodeApi` (what a validator answers,
`node_api.RpcApi`): parameters as CometBFT names and types them, results in its shapes."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

from ..mempool import tx_hash
from ..txindex import Condition
from . import query as q
from .jsonrpc import INTERNAL_ERROR, SERVER_BUSY, Param, RpcFault, bad_params

T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100


class NodeApi(Protocol):
    """What the RPC asks of a node; each method may be plain or ``async``. Results are JSON-
    ready CometBFT shapes; a `LedgerError` becomes a JSON-RPC error carrying its sentence."""

    def status(self) -> MaybeAwaitable[dict[str, Any]]: ...
    def net_info(self) -> MaybeAwaitable[dict[str, Any]]: ...
    def consensus_state(self) -> MaybeAwaitable[dict[str, Any]]: ...
    def abci_info(self) -> MaybeAwaitable[dict[str, Any]]: ...
    def abci_query(self, path: str, data: bytes, height: int | None,
                   prove: bool) -> MaybeAwaitable[dict[str, Any]]: ...
    def block(self, height: int | None) -> MaybeAwaitable[dict[str, Any]]: ...
    def block_results(self, height: int | None) -> MaybeAwaitable[dict[str, Any]]: ...
    def commit(self, height: int | None) -> MaybeAwaitable[dict[str, Any]]: ...
    def validators(self, height: int | None
                   ) -> MaybeAwaitable[tuple[int, list[dict[str, Any]]]]: ...
    def blockchain(self, min_height: int | None,
                   max_height: int | None) -> MaybeAwaitable[dict[str, Any]]: ...
    def broadcast_tx(self, tx: bytes) -> MaybeAwaitable[dict[str, Any]]: ...
    def wait_tx(self, h: bytes, timeout: float) -> Awaitable[dict[str, Any] | None]: ...
    def tx(self, h: bytes) -> MaybeAwaitable[dict[str, Any] | None]: ...
    def tx_search(self, conds: Sequence[Condition],
                  desc: bool) -> MaybeAwaitable[list[tuple[int, int]]]: ...
    def txs_at(self, positions: Sequence[tuple[int, int]]
               ) -> MaybeAwaitable[list[dict[str, Any]]]: ...
    def num_unconfirmed_txs(self) -> MaybeAwaitable[dict[str, Any]]: ...
    def subscribe_blocks(self) -> AsyncIterator[dict[str, Any]]: ...
    def subscribe_events(self) -> AsyncIterator[list[tuple[dict[str, Any],
                                                          dict[str, list[str]]]]]: ...


async def call(value: Any) -> Any:
    """Await what a ``NodeApi`` method returned if it is awaitable (sync or async impls)."""
    if inspect.isawaitable(value):
        return await value
    return value


# Mempool refusals are JSON-RPC errors in CometBFT, with these sentences.
_REFUSED = {"duplicate": "tx already exists in cache",
            "committed": "tx already exists in cache (already committed)",
            "too_large": "tx too large", "full": "mempool is full"}


def broadcast_result(res: dict[str, Any]) -> dict[str, Any]:
    """A `NodeApi.broadcast_tx` answer as CometBFT's ResultBroadcastTx (or its error)."""
    code, log = res.get("code"), str(res.get("log") or "")
    if res.get("ok") or code == "rejected":
        return {"code": 0 if res.get("ok") else int(res.get("abci_code") or 1), "data": "",
                "log": log, "codespace": str(res.get("codespace") or ""),
                "hash": str(res["hash"]).upper()}
    if code == "busy":
        raise RpcFault(SERVER_BUSY, f"busy: {log or 'the node is overloaded'}",
                       retry_after=int(res.get("retry_after") or 1), http_status=503)
    text = _REFUSED.get(str(code), str(code))
    raise RpcFault(INTERNAL_ERROR, f"{text}: {log}" if log and log != text else text)


def _check_tx(b: dict[str, Any]) -> dict[str, Any]:
    return {"code": b["code"], "data": None, "log": b["log"], "info": "", "gas_wanted": "0",
            "gas_used": "0", "events": [], "codespace": b["codespace"]}


EMPTY_TX_RESULT: dict[str, Any] = {"code": 0, "data": None, "log": "", "info": "",
                                   "gas_wanted": "0", "gas_used": "0", "events": [],
                                   "codespace": ""}


@dataclass(frozen=True)
class Method:
    params: tuple[Param, ...]
    run: Callable[..., Awaitable[Any]]
    txs: bool = False  # submits a transaction: bounded per client


def _paginate(total: int, page: int | None, per_page: int | None) -> tuple[int, int]:
    """CometBFT's validatePage/validatePerPage: (skip, count)."""
    size = DEFAULT_PER_PAGE if per_page is None else min(per_page, MAX_PER_PAGE)
    pages = max(1, (total - 1) // size + 1)
    p = 1 if page is None else page
    if not 1 <= p <= pages:
        raise bad_params(f"page should be within [1, {pages}] range, given {p}")
    skip = (p - 1) * size
    return skip, max(0, min(size, total - skip))


def methods(api: NodeApi, max_wait: float) -> dict[str, Method]:
    H = Param("height", "int")

    async def health() -> dict[str, Any]:
        return {}

    async def abci_info() -> dict[str, Any]:
        return {"response": await call(api.abci_info())}

    async def blockchain(minHeight: int | None, maxHeight: int | None) -> Any:  # noqa: N803
        return await call(api.blockchain(minHeight, maxHeight))

    async def validators(height: int | None, page: int | None,
                         per_page: int | None) -> dict[str, Any]:
        at, vals = await call(api.validators(height))
        skip, count = _paginate(len(vals), page, per_page)
        return {"block_height": str(at), "validators": vals[skip:skip + count],
                "count": str(count), "total": str(len(vals))}

    async def abci_query(path: str | None, data: bytes | None, height: int | None,
                         prove: bool | None) -> dict[str, Any]:
        if path is not None and len(path) > 256:
            raise bad_params("path is longer than 256 characters")
        r = await call(api.abci_query(path or "", data or b"", height or None, bool(prove)))
        return {"response": r}

    async def broadcast(tx: bytes) -> dict[str, Any]:
        if not tx:
            raise bad_params("tx is empty")
        return broadcast_result(await call(api.broadcast_tx(tx)))

    async def broadcast_commit(tx: bytes, timeout: int | None) -> dict[str, Any]:
        checked = await broadcast(tx)
        out = {"check_tx": _check_tx(checked), "tx_result": EMPTY_TX_RESULT,
               "hash": checked["hash"], "height": "0"}
        if checked["code"] != 0:
            return out
        wait = min(float(10 if timeout is None else timeout), max_wait)  # CometBFT: 10 s
        found = await api.wait_tx(tx_hash(tx), wait)
        if found is None:
            raise RpcFault(INTERNAL_ERROR, "timed out waiting for tx to be included in a block")
        return {**out, "tx_result": found["tx_result"], "height": found["height"]}

    async def tx(hash: bytes, prove: bool | None) -> dict[str, Any]:
        h = hash
        if prove:
            raise bad_params("prove=true is not supported: this node serves no inclusion proofs")
        found = await call(api.tx(h))
        if found is None:
            raise RpcFault(INTERNAL_ERROR, f"tx ({h.hex().upper()}) not found")
        return dict(found)

    async def tx_search(query: str, prove: bool | None, page: int | None,
                        per_page: int | None, order_by: str | None) -> dict[str, Any]:
        if prove:
            raise bad_params("prove=true is not supported: this node serves no inclusion proofs")
        if order_by not in (None, "", "asc", "desc"):
            raise bad_params("order_by must be asc or desc")
        try:
            conds = q.parse(query)
        except q.QueryError as e:
            raise bad_params(f"invalid query: {e}") from None
        found = await call(api.tx_search(conds, order_by == "desc"))
        skip, count = _paginate(len(found), page, per_page)
        txs = await call(api.txs_at(found[skip:skip + count]))
        return {"txs": txs, "total_count": str(len(found))}

    def simple(name: str) -> Callable[..., Awaitable[Any]]:
        async def run(**kw: Any) -> Any:  # looked up per call: a partial NodeApi still serves
            return await call(getattr(api, name)(**kw))
        return run

    tx_param = (Param("tx", "bytes", required=True),)
    return {
        "health": Method((), health),
        "status": Method((), simple("status")),
        "net_info": Method((), simple("net_info")),
        "consensus_state": Method((), simple("consensus_state")),
        "abci_info": Method((), abci_info),
        "abci_query": Method((Param("path", "str"), Param("data", "hex"),
                              Param("height", "int", minimum=0), Param("prove", "bool")),
                             abci_query),
        "block": Method((H,), simple("block")),
        "block_results": Method((H,), simple("block_results")),
        "commit": Method((H,), simple("commit")),
        "validators": Method((H, Param("page", "int"), Param("per_page", "int")), validators),
        "blockchain": Method((Param("minHeight", "int"), Param("maxHeight", "int")),
                             blockchain),
        "broadcast_tx_async": Method(tx_param, broadcast, txs=True),
        "broadcast_tx_sync": Method(tx_param, broadcast, txs=True),
        "broadcast_tx_commit": Method(tx_param + (Param("timeout", "int", minimum=0),),
                                      broadcast_commit, txs=True),
        "tx": Method((Param("hash", "hash", required=True), Param("prove", "bool")), tx),
        "tx_search": Method((Param("query", "str", required=True), Param("prove", "bool"),
                             Param("page", "int"), Param("per_page", "int"),
                             Param("order_by", "str")), tx_search),
        "num_unconfirmed_txs": Method((), simple("num_unconfirmed_txs")),
    }
