"""Authenticated, encrypted peer-to-peer networking between ledger nodes.

``handshake`` proves node identities and derives session keys, ``transport`` moves encrypted
length-prefixed frames tagged with a channel byte, ``peers`` keeps the set of connections.
"""

from ledger.p2p.handshake import HandshakeError, NodeKey, Session, node_id
from ledger.p2p.peers import PeerAddress, PeerManager
from ledger.p2p.transport import CH_KEEPALIVE, Connection, FrameError, Handler

__all__ = [
    "CH_KEEPALIVE",
    "Connection",
    "FrameError",
    "HandshakeError",
    "Handler",
    "NodeKey",
    "PeerAddress",
    "PeerManager",
    "Session",
    "node_id",
]
