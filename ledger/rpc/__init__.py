"""The node's RPC: CometBFT v0.38-compatible JSON-RPC (server over a `NodeApi`) and our client.

Integration points: `node_api.RpcApi` implements `NodeApi`; `await RpcServer(api, port=...)
.start()` serves it; `RpcClient(url)` is what the CLI and benchmarks use."""

from .client import RpcClient, RpcError
from .feed import EventFeed
from .jsonrpc import RpcFault
from .limits import TxLimiter
from .methods import NodeApi, broadcast_result
from .server import RpcServer, create_app

__all__ = ["EventFeed", "NodeApi", "RpcClient", "RpcError", "RpcFault", "RpcServer",
           "TxLimiter", "broadcast_result", "create_app"]
