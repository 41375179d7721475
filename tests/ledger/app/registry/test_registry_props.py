"""The registry's status machine against a model, over random sequences of operations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app.errors import AppError
from ledger.app.msgs import Msg
from ledger.app.registry import model
from ledger.app.registry.msgs import (
    MsgApply,
    MsgRegisterMember,
    MsgSetMemberStatus,
    MsgUpdateMember,
)
from tests.ledger.app.gov.govhelpers import COM, GOV, Chain, key

KEYS = [key(f"org{i}") for i in range(4)]
DIDS = [f"did:web:org{i}.example" for i in range(3)]
OPS = st.lists(st.tuples(st.sampled_from(["apply", "register", "status", "update"]),
                         st.integers(0, len(DIDS) - 1), st.integers(0, len(KEYS) - 1),
                         st.sampled_from(["member", "suspended", "removed"])),
               max_size=14)


@settings(max_examples=40, deadline=None)
@given(OPS)
def test_status_changes_follow_the_allowed_transitions(ops: list[tuple[str, int, int, str]]) -> None:
    c = Chain({k.address: 10 * COM for k in KEYS})
    status: dict[str, str] = {}
    owner: dict[bytes, str] = {}  # account -> DID
    account: dict[str, bytes] = {}
    for op, d, a, target in ops:
        did, k = DIDS[d], KEYS[a]
        acct_free = k.address not in owner or owner[k.address] == did
        msg: Msg
        if op == "apply":
            ok = did not in status and k.address not in owner
            msg, after = MsgApply(k.address, did, "https://x.example", b"\1" * 32), "proposed"
        elif op == "register":
            ok = acct_free and (did not in status or status[did] == "proposed")
            msg = MsgRegisterMember(GOV, did, "https://x.example", b"\2" * 32, k.address)
            after = "member"
        elif op == "status":
            ok = did in status and target in model.ALLOWED[status[did]]
            msg, after = MsgSetMemberStatus(GOV, did, target), target
        else:
            ok = did in status and account[did] == k.address and status[did] != "removed"
            msg = MsgUpdateMember(k.address, did, "https://y.example", b"\3" * 32)
            after = status.get(did, "")
        before = model.member(c.state, did)
        try:
            if op in ("apply", "update"):
                c.deliver(k, msg)  # a signed transaction
            else:
                c.run(msg)  # as a passed proposal runs it
            done = True
        except AppError:
            done = False
        assert done == ok, (op, did, status)
        m = model.member(c.state, did)
        if done:
            assert m is not None and m.status == after
            if op != "update":
                assert (m.since_height, m.since_time) == (c.ctx.height, c.ctx.time)
                if op != "status":  # apply and register (re)bind the account
                    if did in account and account[did] != k.address:
                        owner.pop(account[did])
                    owner[k.address], account[did] = did, k.address
            else:
                assert before is not None and m.since_height == before.since_height
            status[did] = after
        else:
            assert m == before
        c.end_block(1)
    assert c.problems() == []
    assert {d: model.member(c.state, d).status for d in status} == status  # type: ignore[union-attr]
