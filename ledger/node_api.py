"""What a validator process answers through its RPC (`rpc.NodeApi`): status, blocks,
validators, transactions and queries, read from the node's stores, replica and application.
`committed` is told of every block the node commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from . import rpc
from .abci import ResponseFinalizeBlock
from .consensus import views
from .types import Block, Commit

if TYPE_CHECKING:
    from .node import Node


class RpcApi:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.feed = rpc.EventFeed()

    def close(self) -> None:
        self.feed.close()

    def committed(self, block: Block, commit: Commit, result: ResponseFinalizeBlock) -> None:
        self.feed.publish({"height": block.height, "hash": block.hash().hex(),
                           "time": block.header.time, "num_txs": len(block.txs),
                           "app_hash": result.app_hash.hex()})

    def status(self) -> dict[str, Any]:
        n = self.node
        st = n.replica.state
        c = n.replica.core
        val = st.validators.get(n.address)
        return {"chain_id": st.chain_id, "moniker": n.config.moniker,
                "node_id": n.peers.id, "height": st.last_block_height,
                "hash": st.last_block_hash.hex(), "app_hash": st.app_hash.hex(),
                "time": st.last_block_time, "validator_address": n.address.hex(),
                "voting_power": 0 if val is None else val.voting_power,
                "round": c.round, "step": c.step, "peers": len(n.peers.peers()),
                "mempool_size": len(n.mempool)}

    def block(self, height: int | None) -> dict[str, Any] | None:
        blocks = self.node.blocks
        h = blocks.height() if height is None else height
        b = blocks.block(h)
        return None if b is None else views.block_json(b, blocks.commit(h))

    def validators(self, height: int | None) -> list[dict[str, Any]]:
        n = self.node
        vs = n.states.validators(n.replica.state.next_height if height is None else height)
        return [] if vs is None else views.validators_json(vs)

    def broadcast_tx(self, tx: bytes) -> dict[str, Any]:
        return self.node.submit_tx(tx)

    async def wait_tx(self, tx_hash: bytes, timeout: float) -> dict[str, Any] | None:
        info = await self.node.mempool.wait_committed(tx_hash, timeout)
        if info is None:
            return None
        return {"hash": tx_hash.hex(), "height": info.height, "index": info.index,
                "log": info.log}

    def query(self, path: str, data: bytes, height: int | None) -> dict[str, Any]:
        r = self.node.app.query(path, data, height or 0)
        return {"code": r.code, "value": views.b64(r.value), "value_text":
                r.value.decode("utf-8", "replace"), "log": r.log, "height": r.height}

    def subscribe_blocks(self) -> AsyncIterator[dict[str, Any]]:
        return self.feed.subscribe()
