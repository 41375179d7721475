"""`LedgerApp`: the ledger's application behind the ABCI boundary (`ledger.abci`).

Persistence: FinalizeBlock(H) executes the block over store version H-1 and commits its writes
as version H (the store's root is the app hash, which FinalizeBlock must return); Commit then
makes H the height that Info reports and queries read, and resets the CheckTx state to it.
A restart cannot tell whether Commit(H) ran after version H was written, so on opening a store
whose latest version V is a block, Info reports V-1: the engine's handshake replays block V,
and a FinalizeBlock for a height the store already holds re-executes over version V-1 (same
results and events), checks that its writes are what version V holds, and returns root_at(V). Nothing is ever applied twice,
and a crash between FinalizeBlock and Commit reopens at the previous height."""

from __future__ import annotations

from ..abci import (
    RequestFinalizeBlock,
    RequestInitChain,
    RequestPrepareProposal,
    RequestProcessProposal,
    ResponseCheckTx,
    ResponseFinalizeBlock,
    ResponseInfo,
    ResponseInitChain,
    ResponseQuery,
)
from ..encoding import decode, encode
from ..errors import LedgerError
from . import deliver, genesis, invariants, modules, params, query
from .blockctx import BlockContext
from .errors import CODESPACE, INVALID_REQUEST, NOT_FOUND, AppError
from .state import State
from .storeview import VersionedStore, View
from .tx import ParseCache

CHAIN_ID = b"meta/chain_id"
VERSION = "communs-ledger-app/1"


class LedgerApp:
    def __init__(self, store: VersionedStore, proof_type: str | None = None) -> None:
        self.store = store
        if proof_type is None:
            from .store import PROOF_TYPE

            proof_type = PROOF_TYPE
        self.proof_type = proof_type
        self.cache = ParseCache()
        self.chain_id = ""
        self.height: int | None = None  # the committed version (None: no InitChain yet)
        self._pending: tuple[int, bytes] | None = None
        v = store.version
        if v is not None:
            base = State(View(store, v))
            self.chain_id = decode(base.get(CHAIN_ID) or encode(""))
            gv = decode(base.get(genesis.GENESIS_VERSION) or encode(v))
            # a store restored by state sync has no version before its snapshot's: nothing
            # to replay, it opens at the snapshot's height
            self.height = v - 1 if v > gv and self._has(v - 1) else v
        self._reset_check()

    def _has(self, version: int) -> bool:
        try:
            self.store.root_at(version)
        except LookupError:  # the store's VersionNotFound
            return False
        return True

    def restored(self) -> None:
        """State sync filled the empty store with a snapshot as its latest version: that
        version is the committed height (no block to replay: the node has none below it)."""
        v = self.store.version
        if v is None:
            raise LedgerError("no snapshot was restored into the store")
        self.chain_id = decode(State(View(self.store, v)).get(CHAIN_ID) or encode(""))
        self.height = v
        self._reset_check()

    def _fresh(self) -> State:
        return State(View(self.store, self.height))

    def _reset_check(self) -> None:
        self._check = self._fresh()
        self._check_ctx = self._context(self._check)  # parameters read once per height

    def _context(self, state: State, block: BlockContext | None = None) -> deliver.Context:
        return deliver.Context(self.chain_id, params.load(state), self.cache, block)

    # ----------------------------------------------------------------- info

    def info(self) -> ResponseInfo:
        if self.height is None:
            return ResponseInfo(0, b"", version=VERSION)
        return ResponseInfo(self.height, self.store.root_at(self.height), version=VERSION)

    def init_chain(self, req: RequestInitChain) -> ResponseInitChain:
        version = req.initial_height - 1
        if self.store.version is not None:  # a restart before the first block: already done
            return ResponseInitChain((), self.store.root_at(version))
        state = State(View(self.store, None))
        block = BlockContext(req.initial_height, req.time, req.chain_id)
        validators = genesis.load(req.app_state, state, block)
        state.set(CHAIN_ID, encode(req.chain_id))
        root = self.store.commit(state.writes, version)
        self.chain_id, self.height = req.chain_id, version
        self._reset_check()
        return ResponseInitChain(tuple(validators), root)

    # -------------------------------------------------------------- mempool

    def check_tx(self, tx: bytes, recheck: bool = False) -> ResponseCheckTx:
        """Against the check state, which advances with each accepted transaction (so a client
        may send sequences n, n+1, n+2 back to back) and is reset at Commit, after which the
        mempool rechecks what remains, in order."""
        branch = self._check.branch()
        res = deliver.run_tx(branch, tx, self._check_ctx, check=True)
        if res.code == 0:
            branch.write()
        return ResponseCheckTx(res.code, res.log, res.gas_wanted, res.codespace)

    def signatures(self, tx: bytes) -> list[tuple[bytes, bytes, bytes]]:
        try:
            t = self.cache.unsigned(tx, self._check_ctx.params)
        except AppError:
            return []
        return [(t.pub_key, t.sign_bytes(), t.sig)]

    # ------------------------------------------------------------ consensus

    def prepare_proposal(self, req: RequestPrepareProposal) -> tuple[bytes, ...]:
        state = self._fresh()
        ctx = self._context(state)
        out, size = [], 0
        for tx in req.txs:
            if size + len(tx) > req.max_tx_bytes:
                continue
            branch = state.branch()
            if deliver.run_tx(branch, tx, ctx, check=True).code == 0:
                branch.write()
                out.append(tx)
                size += len(tx)
        return tuple(out)

    def process_proposal(self, req: RequestProcessProposal) -> bool:
        """Deterministic: every transaction decodes and carries a valid signature."""
        p = self._check_ctx.params
        try:
            for tx in req.txs:
                self.cache.get(tx, p)
        except AppError:
            return False
        return True

    def finalize_block(self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock:
        if self.height is None:
            raise AppError(INVALID_REQUEST, "FinalizeBlock before InitChain")
        state = State(View(self.store, req.height - 1))
        block = BlockContext(req.height, req.time, self.chain_id)
        ctx = self._context(state, block)
        block_events = modules.begin_block(state, block, req)
        results = tuple(deliver.run_tx(state, tx, ctx) for tx in req.txs)
        updates, end_events = modules.end_block(
            state, block, lambda branch, m: deliver.execute(branch, m, block))
        block_events += end_events
        latest = self.store.version
        if latest is not None and latest >= req.height:  # replayed after a restart
            for key, value in sorted(state.writes.items()):
                if self.store.get(key, req.height) != value:
                    raise LedgerError(f"re-executing block {req.height} does not give the "
                                      f"state the store holds for it (key {key.hex()})")
            root = self.store.root_at(req.height)
        else:
            root = self.store.commit(state.writes, req.height)
        self._pending = (req.height, root)
        return ResponseFinalizeBlock(results, tuple(updates), root, tuple(block_events))

    def commit(self) -> int:
        if self._pending is not None:
            self.height = self._pending[0]
            self._pending = None
            self._reset_check()
        return 0

    # ---------------------------------------------------------------- query

    def query(self, path: str, data: bytes, height: int = 0,
              prove: bool = False) -> ResponseQuery:
        latest = self.height
        if latest is None:
            return ResponseQuery(INVALID_REQUEST, b"", "the chain has not started", 0,
                                 codespace=CODESPACE)
        version = height or latest
        if version > latest:
            return ResponseQuery(INVALID_REQUEST, b"", f"height {version} is not available: "
                                 f"the latest is {latest}", latest, codespace=CODESPACE)
        try:
            return query.answer(self.store, version, path, data, prove, self.proof_type)
        except LookupError as e:  # the store's VersionNotFound: a pruned height
            return ResponseQuery(NOT_FOUND, b"", str(e), version, codespace=CODESPACE)

    def invariant_problems(self) -> list[str]:
        """The invariants over the committed state (empty: all hold)."""
        return invariants.problems(self._fresh())
