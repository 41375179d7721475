"""The block a handler runs in: what a pure module may know about "now".

The state machine has no clock: the block's height, its time (integer milliseconds, from the
proposer's header as agreed by consensus) and the chain id come in through this value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlockContext:
    """Height, block time in integer milliseconds, and chain id of the block being executed."""

    height: int
    time: int
    chain_id: str
