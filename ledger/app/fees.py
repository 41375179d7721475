"""What happens to fees (the SDK's x/distribution, simplified, at the start of each block):
the fee collector's balance, i.e. the fees of the previous block, is split as

  burned    = fees * fee_burn_ppm / 10^6
  tax       = (fees - burned) * community_tax_ppm / 10^6           -> community pool
  reward_v  = (fees - burned - tax) * power_v / power of the signers -> v's reward account
  dust      = whatever integer division leaves                      -> community pool

over the validators whose precommit made it into the last commit (decided_last_commit).
A validator's reward account is set at genesis (b"rwd/" + consensus address -> account
address); without one, rewards go to the account of the consensus key's own address."""

from __future__ import annotations

from ..abci import BLOCK_ID_FLAG_COMMIT, CommitInfo, Event
from . import address, bank
from .params import PPM, Params
from .state import State

REWARD_ACCOUNT = b"rwd/"


def reward_account(state: State, cons_addr: bytes) -> bytes:
    return state.get(REWARD_ACCOUNT + cons_addr) or cons_addr


def distribute(state: State, params: Params, last_commit: CommitInfo) -> list[Event]:
    collector = bank.module(bank.FEE_COLLECTOR)
    fees = bank.balance(state, collector)
    if fees == 0:
        return []
    burned = fees * params.fee_burn_ppm // PPM
    events = bank.burn(state, bank.FEE_COLLECTOR, burned)
    rest = fees - burned
    tax = rest * params.community_tax_ppm // PPM
    pool = rest - tax
    signed: dict[bytes, int] = {}
    for v in last_commit.votes:
        if v.block_id_flag == BLOCK_ID_FLAG_COMMIT and v.power > 0:
            signed[v.validator_address] = signed.get(v.validator_address, 0) + v.power
    power = sum(signed.values())
    paid = 0
    for cons in sorted(signed):
        share = pool * signed[cons] // power
        if share == 0:
            continue
        to = reward_account(state, cons)
        events += bank.transfer(state, collector, to, share)
        events.append(bank.event("rewards", validator=cons.hex().upper(),
                                 recipient=address.to_text(to), amount=bank.coins(share)))
        paid += share
    to_pool = rest - paid  # the tax, the dust, and everything when nobody signed
    events += bank.transfer(state, collector, bank.module(bank.COMMUNITY_POOL), to_pool)
    events.append(bank.event("community_pool", amount=bank.coins(to_pool)))
    return events
