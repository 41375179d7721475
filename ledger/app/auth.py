"""Accounts and the ante checks every transaction passes before its messages run (as the
SDK's x/auth ante handler): chain id, sequence, minimum fee, fee payment, sequence increment.

Store layout: b"acc/" + address -> the Ed25519 public key (32 bytes) then the sequence (8 bytes,
big-endian), a fixed layout since every transaction reads and writes it; an account appears
with its first signed transaction (until then its sequence is 0)."""

from __future__ import annotations

from typing import NamedTuple

from ..abci import Event
from . import address, bank
from .errors import INSUFFICIENT_FEE, INSUFFICIENT_FUNDS, WRONG_CHAIN_ID, WRONG_SEQUENCE, AppError
from .params import Params
from .state import State
from .tx import Tx

ACCOUNT = b"acc/"


class Account(NamedTuple):
    pub_key: bytes
    sequence: int

    def encode(self) -> bytes:
        return self.pub_key + self.sequence.to_bytes(8, "big")


def account(state: State, addr: bytes) -> Account | None:
    raw = state.get(ACCOUNT + addr)
    return None if raw is None else Account(raw[:32], int.from_bytes(raw[32:], "big"))


def sequence(state: State, addr: bytes) -> int:
    raw = state.get(ACCOUNT + addr)
    return 0 if raw is None else int.from_bytes(raw[32:], "big")


def min_fee(tx: Tx, params: Params) -> int:
    return tx.gas(params) * params.min_gas_price


def ante(state: State, tx: Tx, params: Params, chain_id: str, check: bool) -> list[Event]:
    """Refuse the transaction (AppError) or charge its fee and advance its sequence.

    In CheckTx (`check`), the balance must also cover what the messages spend, so that the
    mempool does not keep what is sure to fail; the check state then only serves the next
    checks of this signer, so the fee and the spends leave its balance (recipients are credited
    by the block) and no events are made."""
    if tx.chain_id != chain_id:
        raise AppError(WRONG_CHAIN_ID, f"wrong chain id: this chain is {chain_id}, "
                                       f"the transaction is for {tx.chain_id[:64]}")
    signer = tx.signer
    seq = sequence(state, signer)
    if tx.sequence != seq:
        raise AppError(WRONG_SEQUENCE,
                       f"account sequence mismatch: expected {seq}, got {tx.sequence}")
    need = min_fee(tx, params)
    if tx.fee < need:
        n = len(tx.msgs)
        raise AppError(INSUFFICIENT_FEE, f"fee {bank.shown(tx.fee)} is below the minimum "
                                         f"{bank.shown(need)} for {n} message{'s' * (n != 1)}")
    total = tx.fee + (tx.spend() if check else 0)
    have = bank.balance(state, signer)
    if have < total:
        raise AppError(INSUFFICIENT_FUNDS, f"insufficient funds: {address.to_text(signer)} has "
                                           f"{bank.shown(have)}, needs {bank.shown(total)}")
    state.set(ACCOUNT + signer, Account(tx.pub_key, seq + 1).encode())
    if check:
        bank.reserve(state, signer, total)
        return []
    events = bank.transfer(state, signer, bank.module(bank.FEE_COLLECTOR), tx.fee)
    signer_text = address.to_text(signer)
    events.append(bank.event("tx", fee=bank.coins(tx.fee), fee_payer=signer_text,
                             acc_seq=f"{signer_text}/{seq}"))
    return events
