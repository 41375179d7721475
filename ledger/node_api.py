"""What a validator process answers through its RPC (`rpc.NodeApi`), in CometBFT v0.38's
shapes: status, blocks, commits, validators, results, transactions and queries, read from the
node's stores, replica, application and transaction index (`data/tx_index.db`).
`committed` is told of every block the node commits: it indexes it, then tells subscribers."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import rpc
from .abci import Event, ResponseFinalizeBlock
from .consensus import views
from .errors import LedgerError, Reason
from .mempool import tx_hash
from .txindex import Condition, TxIndex
from .types import Block, Commit

log = logging.getLogger("ledger.rpc")
VERSION = "0.38.0+communs"  # the CometBFT RPC version we speak (clients pick their decoder)
CHANNELS = "2030"  # consensus and mempool, as CometBFT writes channel ids in hex


class RpcApi:
    def __init__(self, node: Any) -> None:  # the ledger.node.Node it answers for
        self.node = node
        self.feed = rpc.EventFeed()  # block summaries, for our /subscribe
        self.comet = rpc.EventFeed()  # CometBFT events (NewBlock, Tx...), for /websocket
        path = node.home / "data" / "tx_index.db"
        # Indexing a large block takes tens of milliseconds: a worker thread does it with its
        # own connection, in commit order, while the event loop reads through another (WAL).
        self._writer = TxIndex(path)
        self.index = TxIndex(path)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="txindex")
        self._indexed = self.index.last_height()
        self._opened_at = self._indexed
        self._queued: set[int] = set()  # heights handed to the worker, not indexed yet
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._parts: OrderedDict[int, bytes] = OrderedDict()
        self._earliest: Block | None = None

    def replayed(self, block: Block, result: ResponseFinalizeBlock) -> None:
        """A block the start-up handshake re-executed: indexed now if the index stops before
        it (a crash between saving a block and indexing it; the application's restart replays
        at least its last block, so that height is caught up here)."""
        if block.height > self._opened_at and self._writer.index_block(
                block.height, block.txs, result):
            self._indexed = max(self._indexed, block.height)
            log.info("indexed height %d, which the index lacked", block.height)

    def check_index(self) -> None:
        """After start: say which committed heights the index still lacks (their results
        are gone with the crash that skipped them, unless a later replay brings them)."""
        top = self.node.replica.height
        missing = [h for h in self.index.missing(self._opened_at + 1, top)
                   if h not in self._queued]
        if missing:
            log.warning("the tx index lacks %d of the heights %d..%d (first %d): their "
                        "transactions are not searchable", len(missing), self._opened_at + 1,
                        top, missing[0])

    def close(self) -> None:
        self.feed.close()
        self.comet.close()
        self._worker.shutdown(wait=True)  # what was committed gets indexed before we stop
        self._writer.close()
        self.index.close()

    def committed(self, block: Block, commit: Commit, result: ResponseFinalizeBlock) -> None:
        loop = asyncio.get_running_loop()
        h = block.height
        self._queued.add(h)
        job = self._worker.submit(self._writer.index_block, h, block.txs, result)
        job.add_done_callback(lambda f: loop.call_soon_threadsafe(self._done, h, f))
        self.feed.publish({"height": h, "hash": block.hash().hex(),
                           "time": block.header.time, "num_txs": len(block.txs),
                           "app_hash": result.app_hash.hex()})
        if len(self.comet):  # rendered once per block, and only when someone listens
            self.comet.publish(self._comet_events(block, result))

    def _comet_events(self, block: Block, result: ResponseFinalizeBlock
                      ) -> list[tuple[dict[str, Any], dict[str, list[str]]]]:
        """(data, event map) pairs as CometBFT's event bus sends them to subscribers."""
        h = block.height
        bj = views.block_json(block, self._parts_of(h) or b"", self._parts_of(h - 1))
        txr = [views.exec_tx_result_json(r) for r in result.tx_results]
        fin = {"events": views.events_json(result.events), "tx_results": txr,
               "validator_updates": [], "consensus_param_updates": None,
               "app_hash": views.b64(result.app_hash)}
        block_map = _event_map(result.events, {"tm.event": ["NewBlock"]})
        out = [({"type": "tendermint/event/NewBlock",
                 "value": {"block": bj["block"], "block_id": bj["block_id"],
                           "result_finalize_block": fin}}, block_map),
               ({"type": "tendermint/event/NewBlockHeader",
                 "value": {"header": bj["block"]["header"]}},
                {"tm.event": ["NewBlockHeader"]})]
        for i, (tx, r) in enumerate(zip(block.txs, result.tx_results, strict=True)):
            base = {"tm.event": ["Tx"], "tx.hash": [views.hexu(tx_hash(tx))],
                    "tx.height": [str(h)]}
            out.append(({"type": "tendermint/event/Tx",
                         "value": {"TxResult": {"height": str(h), "index": i,
                                                "tx": views.b64(tx), "result": txr[i]}}},
                        _event_map(r.events, base)))
        return out

    def _done(self, height: int, job: Any) -> None:
        if job.exception() is not None:  # the node goes on; `tx` will not find this block
            log.error("indexing height %d failed: %s", height, job.exception())
        self._queued.discard(height)
        self._indexed = max(self._indexed, height)
        keep = []
        for h, fut in self._waiters:
            if h <= self._indexed:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((h, fut))
        self._waiters = keep

    async def indexed(self, height: int, timeout: float) -> bool:
        """Wait until the index holds `height` (False on timeout)."""
        if height <= self._indexed:
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((height, fut))
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except TimeoutError:
            return False

    # ------------------------------------------------------------------ helpers

    def _height(self, height: int | None, latest: int | None = None) -> int:
        top = self.node.blocks.height() if latest is None else latest
        if height is None:
            return top
        if height > top:
            raise LedgerError(f"height {height} must be less than or equal to the current "
                              f"blockchain height {top}", Reason.NOT_FOUND)
        return height

    def _block(self, height: int) -> Block:
        b = self.node.blocks.block(height)
        if b is None:
            raise LedgerError(f"there is no block at height {height}", Reason.NOT_FOUND)
        return b

    def _parts_of(self, height: int) -> bytes | None:
        """The part set hash of a stored block (cached: a header names its parent's)."""
        hit = self._parts.get(height)
        if hit is None:
            b = self.node.blocks.block(height)
            if b is None:
                return None
            hit = self._parts[height] = views.parts_hash(b)
            if len(self._parts) > 256:
                self._parts.popitem(last=False)
        return hit

    # --------------------------------------------------------------- the methods

    def status(self) -> dict[str, Any]:
        n = self.node
        st, cfg = n.replica.state, n.config
        if self._earliest is None and st.last_block_height:
            self._earliest = n.blocks.block(n.genesis.initial_height)
        first = self._earliest
        val = st.validators.get(n.address)
        return {
            "node_info": {"protocol_version": {"p2p": "8", "block": "11", "app": "0"},
                          "id": n.peers.id, "listen_addr": f"tcp://{cfg.p2p_host}:{cfg.p2p_port}",
                          "network": st.chain_id, "version": VERSION, "channels": CHANNELS,
                          "moniker": cfg.moniker,
                          "other": {"tx_index": "on",
                                    "rpc_address": f"tcp://{cfg.rpc_host}:{cfg.rpc_port}"}},
            "sync_info": {"latest_block_hash": views.hexu(st.last_block_hash),
                          "latest_app_hash": views.hexu(st.app_hash),
                          "latest_block_height": str(st.last_block_height),
                          "latest_block_time": views.rfc3339(st.last_block_time),
                          "earliest_block_hash": views.hexu(first.hash()) if first else "",
                          "earliest_app_hash": views.hexu(first.header.app_hash) if first else "",
                          "earliest_block_height": str(first.height) if first else "0",
                          "earliest_block_time": views.rfc3339(first.header.time if first else 0),
                          "catching_up": False},
            "validator_info": {"address": views.hexu(n.address),
                               "pub_key": views.pub_key(n.pv.public_key),
                               "voting_power": str(0 if val is None else val.voting_power)}}

    def net_info(self) -> dict[str, Any]:
        n = self.node
        peers = n.peers.peers()
        return {"listening": True, "listeners": [f"tcp://{n.config.p2p_host}:{n.config.p2p_port}"],
                "n_peers": str(len(peers)),
                "peers": [{"node_info": {"id": p}, "is_outbound": False, "connection_status": {},
                           "remote_ip": ""} for p in peers]}

    def consensus_state(self) -> dict[str, Any]:
        c = self.node.replica.core
        return {"round_state": {"height/round/step": f"{c.height}/{c.round}/{c.step}"}}

    def abci_info(self) -> dict[str, Any]:
        i = self.node.app.info()
        return {"data": type(self.node.app).__name__, "version": i.version,
                "app_version": str(i.app_version), "last_block_height": str(i.last_block_height),
                "last_block_app_hash": views.b64(i.last_block_app_hash)}

    def abci_query(self, path: str, data: bytes, height: int | None,
                   prove: bool) -> dict[str, Any]:
        return views.query_json(self.node.app.query(path, data, height or 0, prove))

    def block(self, height: int | None) -> dict[str, Any]:
        h = self._height(height)
        b = self._block(h)
        return views.block_json(b, self._parts_of(h) or b"", self._parts_of(h - 1))

    async def block_results(self, height: int | None) -> dict[str, Any]:
        h = self._height(height)
        await self.indexed(h, 5.0)  # just committed: its results may be on their way
        found = self.index.block_results(h)
        if found is None:
            raise LedgerError(f"the results of height {h} are not in this node's index",
                              Reason.NOT_FOUND)
        return found

    def commit(self, height: int | None) -> dict[str, Any]:
        h = self._height(height)
        b = self._block(h)
        after = self.node.blocks.block(h + 1)
        canonical = after is not None and after.last_commit is not None
        c = after.last_commit if canonical and after else self.node.blocks.commit(h)
        return {"signed_header": {"header": views.header_json(b.header, self._parts_of(h - 1)),
                                  "commit": views.commit_json(c, self._parts_of(h))},
                "canonical": canonical}

    def validators(self, height: int | None) -> tuple[int, list[dict[str, Any]]]:
        n = self.node
        h = self._height(height, n.replica.state.next_height)
        vs = n.states.validators(h)
        if vs is None:
            raise LedgerError(f"the validators of height {h} are not stored", Reason.NOT_FOUND)
        return h, views.validators_json(vs)

    def blockchain(self, min_height: int | None, max_height: int | None) -> dict[str, Any]:
        top = self.node.blocks.height()
        hi = min(top, max_height or top)
        lo = max(1, min_height or 1, hi - 19)  # at most 20 metas, as CometBFT
        metas = []
        for h in range(hi, lo - 1, -1):
            b = self._block(h)
            metas.append({"block_id": views.block_id(b.hash(), self._parts_of(h)),
                          "block_size": str(sum(len(t) for t in b.txs)),
                          "header": views.header_json(b.header, self._parts_of(h - 1)),
                          "num_txs": str(len(b.txs))})
        return {"last_height": str(top), "block_metas": metas}

    def broadcast_tx(self, tx: bytes) -> Any:
        return self.node.submit_tx(tx)  # a dict, or (soon) an awaitable of one

    async def wait_tx(self, tx_hash: bytes, timeout: float) -> dict[str, Any] | None:
        info = await self.node.mempool.wait_committed(tx_hash, timeout)
        if info is None:
            return None
        if info.height is None:
            raise LedgerError(f"the transaction left the mempool without being committed: "
                              f"{info.log}", Reason.INVALID)
        await self.indexed(info.height, max(timeout, 5.0))
        return self.tx(tx_hash)

    def tx(self, h: bytes) -> dict[str, Any] | None:
        found = self.index.get(h)
        return None if found is None else found.to_json()

    def tx_search(self, conds: Sequence[Condition], desc: bool) -> list[tuple[int, int]]:
        return self.index.search(conds, desc)

    def txs_at(self, positions: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.index.at(positions)]

    def num_unconfirmed_txs(self) -> dict[str, Any]:
        mp = self.node.mempool
        return {"n_txs": str(len(mp)), "total": str(len(mp)), "total_bytes": str(mp.total_bytes),
                "txs": None}

    def subscribe_blocks(self) -> AsyncIterator[dict[str, Any]]:
        return self.feed.subscribe()

    def subscribe_events(self) -> AsyncIterator[list[tuple[dict[str, Any], dict[str, list[str]]]]]:
        return self.comet.subscribe()


def _event_map(events: Sequence[Event], base: dict[str, list[str]]) -> dict[str, list[str]]:
    out = dict(base)
    for e in events:
        for a in e.attributes:
            out.setdefault(f"{e.type}.{a.key}", []).append(a.value)
    return out
