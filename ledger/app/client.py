"""Client side: build and sign transactions (for the CLI, benchmarks and the simulator).

    from ledger.app import client
    raw = client.send(key, "communs-1", sequence=0, to="com1...", amount=5_000_000)
    # raw is what the node's broadcast endpoint takes

Fees default to the minimum for the messages under the default parameters."""

from __future__ import annotations

from collections.abc import Sequence

from ..crypto import PrivateKey
from . import address, msgs
from .params import Params, defaults
from .tx import Tx


def min_fee(messages: Sequence[msgs.Msg], params: Params | None = None) -> int:
    params = params or defaults()
    return sum(msgs.gas(m, params) for m in messages) * params.min_gas_price


def sign(key: PrivateKey, chain_id: str, sequence: int, messages: Sequence[msgs.Msg],
         fee: int | None = None, memo: str = "", params: Params | None = None) -> bytes:
    """The signed transaction's bytes."""
    tx = Tx(chain_id, tuple(messages), min_fee(messages, params) if fee is None else fee,
            sequence, key.pub_key, memo)
    signed = Tx(tx.chain_id, tx.msgs, tx.fee, tx.sequence, tx.pub_key, tx.memo,
                key.sign(tx.sign_bytes()))
    return signed.encode()


def send_msg(key: PrivateKey, to: str | bytes, amount: int) -> msgs.MsgSend:
    return msgs.MsgSend(key.address, address.parse(to), amount)


def multi_send_msg(key: PrivateKey,
                   outputs: Sequence[tuple[str | bytes, int]]) -> msgs.MsgMultiSend:
    outs = tuple((address.parse(a), n) for a, n in outputs)
    return msgs.MsgMultiSend(key.address, sum(n for _, n in outs), outs)


def send(key: PrivateKey, chain_id: str, sequence: int, to: str | bytes, amount: int,
         fee: int | None = None, memo: str = "") -> bytes:
    return sign(key, chain_id, sequence, [send_msg(key, to, amount)], fee, memo)


def account_address(key: PrivateKey) -> str:
    return address.to_text(key.address)
