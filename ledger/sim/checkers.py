"""What must hold after every simulated run. Each check returns a list of violations (empty
when fine), so a test can print all of them for a failing seed."""

from __future__ import annotations

from ..consensus import execution as ex
from ..consensus.evidence import verify_evidence
from ..errors import InvalidError
from .world import World


def agreement(w: World) -> list[str]:
    """No two honest nodes commit different blocks at any height."""
    bad = []
    by_height: dict[int, bytes] = {}
    for n in w.honest():
        for h in range(1, n.blocks.height() + 1):
            b = n.blocks.block(h)
            if b is None:
                bad.append(f"{n.name} has a gap at height {h}")
                continue
            first = by_height.setdefault(h, b.hash())
            if first != b.hash():
                bad.append(f"height {h}: {n.name} committed a different block")
    return bad


def validity(w: World) -> list[str]:
    """Every committed block is valid: re-execute the longest honest chain from genesis on a
    fresh application, checking each block and its commit exactly as a syncing node would."""
    bad: list[str] = []
    node = max(w.honest(), key=lambda n: n.blocks.height())
    app = w.app_factory(-1)  # a fresh application, as a syncing node's
    state = ex.genesis_state(w.genesis, app)
    committed_ev: set[bytes] = set()
    for h in range(1, node.blocks.height() + 1):
        b, c = node.blocks.block(h), node.blocks.commit(h)
        if b is None or c is None:
            return bad + [f"height {h} missing"]

        def check_ev(ev, h=h):  # type: ignore[no-untyped-def]
            if ev.hash() in committed_ev:
                raise InvalidError("evidence committed twice")
            vals = node.states.validators(ev.height)
            blk = node.blocks.block(ev.height)
            verify_evidence(ev, w.genesis.chain_id, vals, blk.header.time if blk else None,
                            h, w.genesis.params.max_evidence_age)

        try:
            c.verify(w.genesis.chain_id, state.validators, h, b.hash())
            ex.validate_block(state, b, check_ev)
        except InvalidError as e:
            return bad + [f"height {h} invalid: {e}"]
        if not all(app.check_tx(t).ok for t in b.txs):
            bad.append(f"height {h} holds a transaction CheckTx refuses")
        committed_ev.update(e.hash() for e in b.evidence)
        state, _ = ex.apply_block(state, app, b)
    return bad


def no_double_sign(w: World) -> list[str]:
    return [f"honest validator {k[0].hex()[:8]} signed two votes at h={k[1]} r={k[2]} t={k[3]}"
            for k, hashes in w.sent_votes.items() if len(hashes) > 1]


def evidence_committed(w: World) -> list[str]:
    """Every validator seen equivocating ends up in committed evidence, and no honest one."""
    node = max(w.honest(), key=lambda n: n.blocks.height())
    accused: set[bytes] = set()
    for h in range(1, node.blocks.height() + 1):
        b = node.blocks.block(h)
        assert b is not None
        accused.update(e.vote_a.validator_address for e in b.evidence)
    honest = {n.key.address for n in w.honest()}
    bad = [f"honest validator {a.hex()[:8]} accused" for a in sorted(accused & honest)]
    bad += [f"equivocator {a.hex()[:8]} never convicted" for a in sorted(w.equivocated - accused)]
    return bad


def honest_not_penalized(w: World) -> list[str]:
    honest = {n.name for n in w.honest()}
    return [f"n{by} penalized honest {peer}" for by, peer in w.penalized if peer in honest]


def max_round_after(w: World, from_height: int) -> int:
    node = max(w.honest(), key=lambda n: n.blocks.height())
    rounds = [c.round for h in range(from_height, node.blocks.height() + 1)
              if (c := node.blocks.commit(h)) is not None]
    return max(rounds, default=0)


def rounds_bounded(w: World, from_height: int, slack: int = 2) -> list[str]:
    """Once the network is timely, a height needs at most the rounds whose proposers are
    Byzantine (the leading run of them, in CometBFT's weighted order) plus `slack`."""
    node = max(w.honest(), key=lambda n: n.blocks.height())
    faulty = {n.key.address for n in w.nodes if n.behaviour is not None}
    bad = []
    for h in range(from_height, node.blocks.height() + 1):
        c, vals = node.blocks.commit(h), node.states.validators(h)
        if c is None or vals is None:
            continue
        lead = 0
        while lead < 50 and vals.copy_increment(lead).proposer().address in faulty:
            lead += 1
        if c.round > lead + slack:
            bad.append(f"liveness: height {h} decided in round {c.round} > {lead} + {slack}")
    return bad


def all_checks(w: World) -> list[str]:
    return agreement(w) + validity(w) + no_double_sign(w) + evidence_committed(w) \
        + honest_not_penalized(w)
