"""Running one transaction on a state: decode (memoized), ante (fee and sequence), then its
messages on a branch. As in the SDK, a failing message reverts all of the transaction's
messages while the fee and the sequence increment stand; a failing ante changes nothing.

CheckTx (`check`) runs, as the SDK's, the ante handler and each message's stateless checks, not
the messages: the ante takes the fee and everything the messages spend from the signer in the
check state, so the next transactions of that signer are checked against what is left."""

from __future__ import annotations

from dataclasses import dataclass

from ..abci import Event, ExecTxResult
from . import address, auth, bank, modules, msgs
from .blockctx import BlockContext
from .errors import CODESPACE, INTERNAL, UNKNOWN_REQUEST, AppError
from .params import Params
from .state import State
from .tx import ParseCache


@dataclass
class Context:
    chain_id: str
    params: Params
    cache: ParseCache
    block: BlockContext | None = None  # the block being executed (None in CheckTx)


def failed(e: AppError, gas_wanted: int = 0, gas_used: int = 0,
           events: tuple[Event, ...] = ()) -> ExecTxResult:
    return ExecTxResult(e.code, b"", str(e), gas_wanted, gas_used, events, CODESPACE)


def _route(m: msgs.Msg) -> tuple[str, modules.Route]:
    found = modules.ROUTES.get(m.type)
    if found is None:
        raise AppError(UNKNOWN_REQUEST, f"no handler for message type {m.type}")
    return found


def execute(state: State, m: msgs.Msg, block: BlockContext) -> list[Event]:
    """Run one message: its stateless check again (a proposer may include what CheckTx would
    refuse), then its handler. Any other exception than AppError becomes one (the SDK recovers
    from a handler's panic the same way): the same on every node, it fails the message instead
    of halting the chain."""
    _, (_, check, handle) = _route(m)
    check(m)
    try:
        return handle(state, m, block)
    except (AppError, MemoryError, RecursionError):
        raise  # the last two depend on the machine: a node halts rather than diverges
    except Exception as e:  # noqa: BLE001 (deterministic: the same on every node)
        raise AppError(INTERNAL, f"{m.type} failed unexpectedly ({type(e).__name__})") from e


def run_tx(state: State, raw: bytes, ctx: Context, check: bool = False) -> ExecTxResult:
    try:
        tx = ctx.cache.get(raw, ctx.params)
    except AppError as e:
        return failed(e)
    gas = tx.gas(ctx.params)
    if check:
        try:
            for m in tx.msgs:
                _, (_, stateless, _) = _route(m)
                stateless(m)
            auth.ante(state, tx, ctx.params, ctx.chain_id, check=True)
        except AppError as e:
            return failed(e, gas)
        return ExecTxResult(0, b"", "", gas, gas)
    ante = state.branch()
    try:
        events = auth.ante(ante, tx, ctx.params, ctx.chain_id, check=False)
    except AppError as e:
        return failed(e, gas)
    ante.write()
    branch = state.branch()
    msg_events: list[Event] = []
    try:
        assert ctx.block is not None, "messages run in a block"
        for m in tx.msgs:
            msg_events.append(bank.event("message", action=m.type,
                                         sender=address.to_text(m.signer),
                                         module=_route(m)[0]))
            msg_events += execute(branch, m, ctx.block)
    except AppError as e:
        return failed(e, gas, gas, tuple(events))
    branch.write()
    return ExecTxResult(0, b"", "", gas, gas, tuple(events + msg_events))
