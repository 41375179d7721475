"""Gas per message type: fixed, so that a transaction's fee is known before it is sent (the
minimum fee is the gas of its messages times the minimum gas price). Governance may change any
entry (`gov/update_params` of module auth). Messages only a proposal can carry never pay gas
but keep an entry, so that every message type has one."""

from __future__ import annotations

DEFAULT_GAS: dict[str, int] = {
    # bank
    "bank/send": 2000, "bank/multi_send": 2000, "bank/multi_send_output": 500,
    # staking and slashing
    "staking/create_validator": 20_000, "staking/edit_validator": 5_000,
    "staking/delegate": 10_000, "staking/undelegate": 12_000, "staking/redelegate": 15_000,
    "staking/cancel_unbonding": 12_000, "slashing/unjail": 5_000,
    # distribution
    "distribution/withdraw_rewards": 8_000, "distribution/withdraw_commission": 5_000,
    "distribution/set_withdraw_address": 3_000,
    # gov: "gov/proposal_message" is charged per message a proposal carries
    "gov/submit_proposal": 20_000, "gov/proposal_message": 2_000, "gov/deposit": 4_000,
    "gov/vote": 3_000, "gov/vote_weighted": 3_500, "gov/community_pool_spend": 2_000,
    "gov/software_upgrade": 2_000, "gov/cancel_upgrade": 2_000, "gov/update_params": 2_000,
    # registry: an application stores a record that only governance clears
    "registry/apply": 10_000, "registry/update_member": 4_000,
    "registry/register_member": 2_000, "registry/set_member_status": 2_000,
    "registry/add_trust_anchor": 2_000, "registry/remove_trust_anchor": 2_000,
    # market: listings, stakes and anchors store records; a payment makes up to ~20 transfers
    "market/list": 12_000, "market/update_listing": 6_000, "market/delist": 8_000,
    "market/stake": 8_000, "market/unstake": 8_000, "market/pay": 10_000,
    "market/anchor": 6_000, "market/slash": 2_000,
}
