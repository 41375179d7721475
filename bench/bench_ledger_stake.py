"""Stake and governance costs in the ledger application (one process, state on SQLite):

  * FinalizeBlock of a block of 1,000 delegations, against a block of 1,000 bank sends from
    the same accounts (the baseline, measured in the same run);
  * the governance tally of a proposal that 10,000 delegators (one delegation each, spread
    over 4 validators) all voted on: counting alone, and the FinalizeBlock that ends the
    voting period (tally, refunds, votes cleared), against an empty block's FinalizeBlock.

Targets (issue 12): tally with 10,000 delegators <= 100 ms; delegations reported against sends.

    python bench/bench_ledger_stake.py [--delegators 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.abci import (  # noqa: E402
    BLOCK_ID_FLAG_COMMIT,
    CommitInfo,
    RequestFinalizeBlock,
    RequestInitChain,
    VoteInfo,
)
from ledger.app import client, gov, staking  # noqa: E402
from ledger.app.app import LedgerApp  # noqa: E402
from ledger.app.gov import msgs as gmsgs  # noqa: E402
from ledger.app.gov.store import YES  # noqa: E402
from ledger.app.gov.tally import count  # noqa: E402
from ledger.app.staking.msgs import MsgDelegate  # noqa: E402
from ledger.app.state import State  # noqa: E402
from ledger.app.store import VersionedStore  # noqa: E402
from ledger.app.storeview import View  # noqa: E402
from ledger.crypto import PrivateKey  # noqa: E402

CHAIN = "bench-stake"
VALIDATORS = [PrivateKey.from_secret(b"stake-val-%d" % i) for i in range(4)]
BLOCK = 1000
VOTING_S = 60


class Chain:
    def __init__(self, root: Path, delegators: list[PrivateKey]) -> None:
        self.app = LedgerApp(VersionedStore.open(root / "app.db"))  # all kept, as a node (100k)
        self.time = 1_700_000_000_000
        self.seq = dict.fromkeys((k.address for k in delegators), 0)
        balances = {client.account_address(k): 10**12 for k in [*VALIDATORS, *delegators]}
        validators = [{"operator": client.account_address(k), "pub_key": k.pub_key.hex(),
                       "self_bond": 10**9, "commission_ppm": 100_000, "moniker": f"v{i}"}
                      for i, k in enumerate(VALIDATORS)]
        self.app.init_chain(RequestInitChain(self.time, CHAIN, (), {
            "balances": balances, "staking": {"validators": validators},
            "gov": {"params": {"voting_period": VOTING_S, "max_deposit_period": VOTING_S}}}, 1))
        self.app.commit()
        self.commit = CommitInfo(0, tuple(VoteInfo(k.address, 1000, BLOCK_ID_FLAG_COMMIT)
                                          for k in VALIDATORS))

    def signed(self, key: PrivateKey, messages: Sequence[object]) -> bytes:
        seq = self.seq.get(key.address, 0)
        self.seq[key.address] = seq + 1
        return client.sign(key, CHAIN, seq, messages)  # type: ignore[arg-type]

    def block(self, txs: Sequence[bytes], seconds: int = 1) -> float:
        """FinalizeBlock's time in ms; every transaction must succeed."""
        self.time += seconds * 1000
        h = (self.app.height or 0) + 1
        req = RequestFinalizeBlock(tuple(txs), b"\0" * 32, h, self.time, b"",
                                   decided_last_commit=self.commit)
        for tx in txs:  # as a node: signatures verified and cached before the block
            assert self.app.check_tx(tx).ok
        t = time.perf_counter()
        res = self.app.finalize_block(req)
        ms = (time.perf_counter() - t) * 1000
        bad = [r.log for r in res.tx_results if r.code]
        assert not bad, bad[:3]
        self.app.commit()
        return ms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delegators", type=int, default=10_000)
    args = ap.parse_args()
    n = args.delegators
    delegators = [PrivateKey.from_secret(b"stake-del-%d" % i) for i in range(n)]
    with tempfile.TemporaryDirectory() as d:
        chain = Chain(Path(d), delegators)
        send_ms, delegate_ms = [], []
        for i in range(0, n, BLOCK):
            batch = delegators[i:i + BLOCK]
            sends = [chain.signed(k, [client.send_msg(k, delegators[(j + 1) % n].address, 1)])
                     for j, k in enumerate(batch, start=i)]
            send_ms.append(chain.block(sends))
            delegations = [chain.signed(k, [MsgDelegate(k.address, VALIDATORS[j % 4].address,
                                                        1_000_000 + j)])
                           for j, k in enumerate(batch, start=i)]
            delegate_ms.append(chain.block(delegations))
        s, dl = statistics.median(send_ms), statistics.median(delegate_ms)
        print(f"FinalizeBlock, {BLOCK} bank sends: {s:.0f} ms (median of {len(send_ms)} blocks)")
        print(f"FinalizeBlock, {BLOCK} delegations: {dl:.0f} ms ({dl / s:.2f}x the sends)")

        proposer = delegators[0]
        p = gov.GovParams()
        submit = gmsgs.MsgSubmitProposal(proposer.address, (), p.min_deposit, "bench", "tally",
                                         "")
        chain.block([chain.signed(proposer, [submit])])
        voters = [*VALIDATORS, *delegators]  # delegators vote themselves, overriding their
        for i in range(0, len(voters), BLOCK):  # validator's vote: the tally's costly case
            votes = [chain.signed(k, [gmsgs.MsgVote(1, k.address, ((YES, 1_000_000),))])
                     for k in voters[i:i + BLOCK]]
            chain.block(votes)
        state = State(View(chain.app.store, chain.app.height))
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            tally = count(state, 1, staking.tally_source(state))
            runs.append((time.perf_counter() - t) * 1000)
        assert tally.total > 0
        empty = statistics.median(chain.block([]) for _ in range(5))
        ending = chain.block([], seconds=VOTING_S)
        status = State(View(chain.app.store, chain.app.height))
        outcome = gov.queries.proposal(status, 1)[1]
        assert outcome["status"] == "passed", outcome
        print(f"tally of {n:,} votes from delegators: {min(runs):.0f} ms counting "
              f"(median {statistics.median(runs):.0f}; target <= 100 ms); the block ending the "
              f"vote {ending:.0f} ms against an empty block's {empty:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
