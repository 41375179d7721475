"""The start of each block: what the fee collector holds (the previous block's fees and the
coins minted for this block) moves to the distribution account and is shared:

  burned     = collected * burn_ppm / 10^6                      (our rule: burned)
  tax        = (collected - burned) * community_tax_ppm / 10^6  -> community pool
  reward_v   = (collected - burned - tax) * power_v / power of the signers
               for each validator whose precommit is in the last commit
  commission = reward_v * commission rate                        -> v's commission
  the rest of reward_v                                           -> v's delegators (F1)
  dust and the share of signers that are not validators          -> community pool

Everything owed stays in the distribution account until withdrawn."""

from __future__ import annotations

from ...abci import BLOCK_ID_FLAG_COMMIT, CommitInfo, Event
from .. import address, bank
from ..blockctx import BlockContext
from ..params import PPM
from ..staking import store as sstore
from ..state import State
from . import params as dparams
from . import store


def begin_block(state: State, ctx: BlockContext, last_commit: CommitInfo) -> list[Event]:
    collector, dist = bank.module(bank.FEE_COLLECTOR), bank.module(bank.DISTRIBUTION)
    collected = bank.balance(state, collector)
    if collected == 0:
        return []
    p = dparams.load(state)
    events = bank.transfer(state, collector, dist, collected)
    burned = collected * p.burn_ppm // PPM
    events += bank.burn(state, bank.DISTRIBUTION, burned)
    rest = collected - burned
    shared = rest - rest * p.community_tax_ppm // PPM
    signed: dict[bytes, int] = {}
    for vote in last_commit.votes:
        if vote.block_id_flag == BLOCK_ID_FLAG_COMMIT and vote.power > 0:
            signed[vote.validator_address] = signed.get(vote.validator_address, 0) + vote.power
    power = sum(signed.values())
    paid = 0
    for cons in sorted(signed):
        v = sstore.by_cons(state, cons)
        reward = shared * signed[cons] // power
        if v is None or reward == 0:
            continue  # a signer unknown to staking: its share goes to the pool
        commission = reward * v.commission_ppm // PPM
        op = v.operator
        state.set_int(store.OUTSTANDING + op, state.get_int(store.OUTSTANDING + op) + reward)
        state.set_int(store.COMMISSION + op, state.get_int(store.COMMISSION + op) + commission)
        period, acc = store.current(state, op)
        store.set_current(state, op, period, acc + reward - commission)
        vt = address.to_text(op)
        events += [bank.event("commission", amount=bank.coins(commission), validator=vt),
                   bank.event("rewards", amount=bank.coins(reward), validator=vt)]
        paid += reward
    to_pool = rest - paid  # the tax, the dust, and everything when nobody signed
    events += bank.transfer(state, dist, bank.module(bank.COMMUNITY_POOL), to_pool)
    events.append(bank.event("community_pool", amount=bank.coins(to_pool)))
    return events
