"""Client of the node's RPC for the CLI and benchmarks: it speaks CometBFT's JSON-RPC and hands
back plain views (ints, lower-case hex, millisecond times) of what they use."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp

from ..consensus.views import from_rfc3339
from ..errors import LedgerError, Reason
from ..mempool import tx_hash
from .jsonrpc import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, SERVER_BUSY
from .server import LEN

_REFUSALS = (("tx already exists in cache (already", "committed"),
             ("tx already exists in cache", "duplicate"), ("tx too large", "too_large"),
             ("mempool is full", "full"))
_MISSING = ("must be less than or equal to the current blockchain height", "there is no block")


class RpcError(LedgerError):
    """An RPC call failed: ``status`` is the HTTP status (0: the node could not be reached),
    ``code`` the JSON-RPC error code (or a word when there was no JSON-RPC answer)."""

    def __init__(self, status: int, code: int | str, message: str) -> None:
        if status == 0 or code == SERVER_BUSY or (isinstance(code, str) and status >= 500):
            reason = Reason.UNAVAILABLE
        elif code == METHOD_NOT_FOUND or "not found" in message or \
                any(m in message for m in _MISSING):
            reason = Reason.NOT_FOUND
        elif code in (INVALID_PARAMS, INVALID_REQUEST):
            reason = Reason.BAD_INPUT
        else:
            reason = Reason.INVALID
        super().__init__(message, reason)
        self.status = status
        self.code = code


def _hex(s: str) -> str:
    return s.lower()


def header_view(h: dict[str, Any]) -> dict[str, Any]:
    """A CometBFT header with our field names, ints, lower-case hex and millisecond time."""
    return {"version": int(h["version"]["block"]), "chain_id": h["chain_id"],
            "height": int(h["height"]), "time": from_rfc3339(h["time"]),
            "last_block_hash": _hex(h["last_block_id"]["hash"]),
            **{k: _hex(h[k]) for k in ("last_commit_hash", "data_hash", "validators_hash",
                                       "next_validators_hash", "consensus_hash", "app_hash",
                                       "last_results_hash", "evidence_hash",
                                       "proposer_address")}}


def tx_view(r: dict[str, Any]) -> dict[str, Any]:
    res = r["tx_result"]
    return {"hash": _hex(r["hash"]), "height": int(r["height"]), "index": int(r["index"]),
            "code": int(res.get("code") or 0), "log": res.get("log") or "",
            "data": res.get("data"), "gas_wanted": int(res.get("gas_wanted") or 0),
            "gas_used": int(res.get("gas_used") or 0), "events": res.get("events") or [],
            "tx": r.get("tx")}


class RpcClient:
    """One HTTP session with explicit timeouts; every method raises `RpcError` on failure."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_connections: int = 64) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._ids = 0
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections),
            timeout=aiohttp.ClientTimeout(total=timeout))

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._session.close()

    async def _post(self, path: str, body: Any, extra_wait: float = 0.0, **kw: Any) -> Any:
        timeout = aiohttp.ClientTimeout(total=self.timeout + extra_wait)
        try:
            async with self._session.post(self.url + path, timeout=timeout, **(
                    kw or {"json": body})) as resp:
                try:
                    doc = await resp.json(content_type=None)
                except ValueError:
                    doc = None
                return resp.status, doc
        except (aiohttp.ClientError, TimeoutError) as exc:
            msg = f"cannot reach the node RPC at {self.url} ({type(exc).__name__})"
            raise RpcError(0, "unavailable", msg) from None

    @staticmethod
    def _result(status: int, doc: Any, url: str) -> Any:
        if not isinstance(doc, dict) or ("result" not in doc and "error" not in doc):
            raise RpcError(status, "bad_response", f"{url} did not answer JSON-RPC")
        err = doc.get("error")
        if err is not None:
            raise RpcError(status, err.get("code", "error"),
                           str(err.get("data") or err.get("message") or "error"))
        return doc["result"]

    async def call(self, method: str, extra_wait: float = 0.0, **params: Any) -> Any:
        """One JSON-RPC call (params as CometBFT types them: int64s as strings, bytes b64)."""
        self._ids += 1
        body = {"jsonrpc": "2.0", "id": self._ids, "method": method,
                "params": {k: v for k, v in params.items() if v is not None}}
        status, doc = await self._post("/", body, extra_wait)
        return self._result(status, doc, self.url)

    async def batch(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                for i, (m, p) in enumerate(calls)]
        status, doc = await self._post("/", body)
        if not isinstance(doc, list) or len(doc) != len(calls):
            raise RpcError(status, "bad_response", f"{self.url} did not answer the batch")
        by_id = {d.get("id"): d for d in doc if isinstance(d, dict)}
        return [self._result(status, by_id.get(i), self.url) for i in range(len(calls))]

    # ------------------------------------------------------------------ views

    async def status(self) -> dict[str, Any]:
        st, net, mp, cs = await self.batch([("status", {}), ("net_info", {}),
                                            ("num_unconfirmed_txs", {}),
                                            ("consensus_state", {})])
        ni, si, vi = st["node_info"], st["sync_info"], st["validator_info"]
        hrs = str(cs["round_state"]["height/round/step"]).split("/")
        return {"chain_id": ni["network"], "moniker": ni["moniker"], "node_id": ni["id"],
                "height": int(si["latest_block_height"]),
                "hash": _hex(si["latest_block_hash"]), "app_hash": _hex(si["latest_app_hash"]),
                "time": from_rfc3339(si["latest_block_time"]),
                "validator_address": _hex(vi["address"]),
                "voting_power": int(vi["voting_power"]), "peers": int(net["n_peers"]),
                "mempool_size": int(mp["total"]), "round": int(hrs[1]), "step": int(hrs[2])}

    async def block(self, height: int | None = None) -> dict[str, Any] | None:
        try:
            r = await self.call("block", height=None if height is None else str(height))
        except RpcError as e:
            if e.reason == Reason.NOT_FOUND:
                return None
            raise
        b = r["block"]
        header = header_view(b["header"])
        txs = b["data"]["txs"] or []
        return {"height": header["height"], "hash": _hex(r["block_id"]["hash"]),
                "time": header["time"], "header": header, "txs": txs, "num_txs": len(txs),
                "evidence": b["evidence"]["evidence"] or [], "last_commit": b["last_commit"]}

    async def validators(self, height: int | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            r = await self.call("validators", height=None if height is None else str(height),
                                page=str(page), per_page="100")
            out += [{"address": _hex(v["address"]), "pub_key": v["pub_key"]["value"],
                     "power": int(v["voting_power"]),
                     "proposer_priority": int(v["proposer_priority"])} for v in r["validators"]]
            if len(out) >= int(r["total"]) or not r["validators"]:
                return out
            page += 1

    async def broadcast_tx(self, tx: bytes) -> dict[str, Any]:
        """{ok, code ("ok", "rejected", "duplicate", ...), hash, log}; busy raises."""
        h = tx_hash(tx).hex()
        try:
            r = await self.call("broadcast_tx_sync", tx=base64.b64encode(tx).decode())
        except RpcError as e:
            code = next((c for prefix, c in _REFUSALS if str(e).startswith(prefix)), None)
            if code is None:
                raise
            return {"ok": False, "code": code, "hash": h, "log": str(e)}
        ok = r["code"] == 0
        return {"ok": ok, "code": "ok" if ok else "rejected", "hash": _hex(r["hash"]),
                "log": r["log"], "abci_code": r["code"]}

    async def broadcast_txs(self, txs: Sequence[bytes]) -> list[dict[str, Any]]:
        """One answer per tx, as broadcast_tx; a batch refused for load is `busy` for each."""
        body = b"".join(LEN.pack(len(t)) + t for t in txs)
        status, doc = await self._post("/broadcast_txs", None, data=body,
                                       headers={"Content-Type": "application/octet-stream"})
        try:
            return list(self._result(status, doc, self.url))
        except RpcError as e:
            if e.code != SERVER_BUSY:
                raise
            return [{"ok": False, "code": "busy", "hash": tx_hash(t).hex(), "log": str(e)}
                    for t in txs]

    async def broadcast_tx_commit(self, tx: bytes, timeout: float = 10.0) -> dict[str, Any]:
        """{check_tx: as broadcast_tx, commit: the tx view (code, log, height...) or None}."""
        check = await self.broadcast_tx(tx)
        if not check["ok"]:
            return {"check_tx": check, "commit": None}
        return {"check_tx": check, "commit": await self.wait_tx(bytes.fromhex(check["hash"]),
                                                                timeout)}

    async def tx(self, h: bytes) -> dict[str, Any] | None:
        try:
            return tx_view(await self.call("tx", hash=base64.b64encode(h).decode()))
        except RpcError as e:
            if e.reason == Reason.NOT_FOUND:
                return None
            raise

    async def wait_tx(self, h: bytes, timeout: float = 0.0) -> dict[str, Any] | None:
        """The committed tx, polling until `timeout` seconds have passed (None then)."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            found = await self.tx(h)
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.5)

    async def tx_search(self, query: str, page: int = 1, per_page: int = 30,
                        order_by: str = "asc") -> tuple[int, list[dict[str, Any]]]:
        r = await self.call("tx_search", query=query, page=str(page), per_page=str(per_page),
                            order_by=order_by)
        return int(r["total_count"]), [tx_view(t) for t in r["txs"]]

    async def query(self, path: str, data: bytes = b"", height: int | None = None,
                    prove: bool = False) -> dict[str, Any]:
        r = (await self.call("abci_query", path=path, data=data.hex(),
                             height=None if height is None else str(height),
                             prove=prove or None))["response"]
        value = base64.b64decode(r.get("value") or "")
        return {"code": int(r.get("code") or 0), "log": r.get("log") or "",
                "value": r.get("value") or "", "value_text": value.decode("utf-8", "replace"),
                "key": r.get("key"), "height": int(r.get("height") or 0),
                "proof": r.get("proofOps"), "codespace": r.get("codespace") or ""}

    async def block_results(self, height: int | None = None) -> dict[str, Any]:
        return dict(await self.call("block_results",
                                    height=None if height is None else str(height)))

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """New blocks as they are committed (a WebSocket; ends when the server drops us)."""
        timeout = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0)
        async with self._session.ws_connect(
            self.url + "/subscribe", timeout=timeout, heartbeat=30.0
        ) as ws:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    yield json.loads(msg.data)
                elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return
