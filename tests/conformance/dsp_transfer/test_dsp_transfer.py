"""DSP 2025-1 transfer process over real HTTP on 127.0.0.1: every TP (our node provides) and
TP_C (our node consumes) scenario of the TCK test plan, the test playing the kit.

Where the plan has our node act ("provider suspended", "consumer completed"), the node's
operator does it through the service the management API calls. Scenarios whose first step
must find the process REQUESTED run the provider in manual mode (the operator starts it).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest
from transfer_kit import CTX, KIT, Kit, Node, check, eventually, running, send, state_of

from connector.negotiation.model import Role
from connector.transfer import codec
from connector.transfer.manager import Manager
from connector.transfer.model import MessageKind


@pytest.fixture
async def auto(tmp_path):
    async with running(tmp_path) as (node, kit, _):
        yield node, kit


@pytest.fixture
async def manual(tmp_path):
    async with running(tmp_path, manual=True) as (node, kit, _):
        yield node, kit


# ---- TP: our node is the provider ---------------------------------------------------------


async def _request(node: Node, kit: Kit, cpid: str = "urn:uuid:kit-c-1", replay: bool = False, **extra: Any) -> dict:
    agreement = extra.pop("agreement", None) or await node.agreement()
    body = {"@context": CTX, "@type": "TransferRequestMessage", "consumerPid": cpid, "agreementId": agreement,
            "format": "HttpData-PULL", "callbackAddress": kit.base + "/callback", **extra}
    status, answer = await send(f"{node.base}/dsp/transfers/request", body)
    return check(status, answer, 200 if replay else 201, "TransferProcess")


def _msg(kind: str, pid: str, cpid: str = "urn:uuid:kit-c-1", **extra: Any) -> dict:
    return {"@context": CTX, "@type": kind, "providerPid": pid, "consumerPid": cpid, **extra}


async def _tell(node: Node, pid: str, kind: str, expected: int = 200, cpid: str = "urn:uuid:kit-c-1") -> dict:
    path = {"TransferStartMessage": "start", "TransferCompletionMessage": "completion",
            "TransferSuspensionMessage": "suspension", "TransferTerminationMessage": "termination"}[kind]
    status, body = await send(f"{node.base}/dsp/transfers/{pid}/{path}", _msg(kind, pid, cpid))
    return check(status, body, expected, "TransferProcess" if expected < 300 else "TransferError")


async def _started(node: Node, kit: Kit) -> str:
    pid = (await _request(node, kit))["providerPid"]
    start = await kit.got("TransferStartMessage")
    assert kit.received[0][0] == "/callback/transfers/urn:uuid:kit-c-1/start"
    props = codec.properties(start["dataAddress"])
    assert start["providerPid"] == pid and props["authType"] == "bearer" and props["authorization"]
    assert await state_of(node, pid) == "STARTED"
    return pid


async def test_tp_01_01_started_provider_terminated(auto):
    node, kit = auto
    pid = await _started(node, kit)
    await node.service.command(pid, MessageKind.TERMINATION, "no more")
    ended = await kit.got("TransferTerminationMessage")
    assert ended["reason"] == ["no more"] and await state_of(node, pid) == "TERMINATED"


async def test_tp_01_02_started_provider_completed(auto):
    node, kit = auto
    pid = await _started(node, kit)
    await node.service.command(pid, MessageKind.COMPLETION)
    await kit.got("TransferCompletionMessage")
    assert await state_of(node, pid) == "COMPLETED"


async def test_tp_01_03_started_provider_suspended_terminated(auto):
    node, kit = auto
    pid = await _started(node, kit)
    await node.service.command(pid, MessageKind.SUSPENSION, "maintenance")
    assert (await kit.got("TransferSuspensionMessage"))["reason"] == ["maintenance"]
    await node.service.command(pid, MessageKind.TERMINATION)
    await kit.got("TransferTerminationMessage")
    assert await state_of(node, pid) == "TERMINATED"


async def test_tp_01_04_started_suspended_started_completed(auto):
    node, kit = auto
    pid = await _started(node, kit)
    await node.service.command(pid, MessageKind.SUSPENSION)
    await kit.got("TransferSuspensionMessage")
    await node.service.command(pid, MessageKind.START)
    again = await kit.got("TransferStartMessage", count=2)
    first = await kit.got("TransferStartMessage")
    assert codec.properties(again["dataAddress"])["authorization"] != codec.properties(first["dataAddress"])["authorization"]
    await node.service.command(pid, MessageKind.COMPLETION)
    await kit.got("TransferCompletionMessage")
    assert await state_of(node, pid) == "COMPLETED"


async def test_tp_01_05_provider_terminated(manual, auto):
    node, kit = manual  # the operator ends it before it starts
    pid = (await _request(node, kit))["providerPid"]
    await node.service.command(pid, MessageKind.TERMINATION, "not today")
    await kit.got("TransferTerminationMessage")
    assert not [b for _, b in kit.received if b["@type"] == "TransferStartMessage"]
    node, kit = auto  # the agreement's policy refuses an access now: it ends by itself
    expired = [{"action": "use", "constraint": [{"leftOperand": "dateTime", "operator": "lt",
                                                 "rightOperand": "2020-01-01T00:00:00Z"}]}]
    answer = await _request(node, kit, agreement=await node.agreement(permission=expired))
    assert answer["state"] == "TERMINATED"
    assert "agreement does not allow" in (await kit.got("TransferTerminationMessage"))["reason"][0]


async def test_tp_02_01_started_consumer_terminated(auto):
    node, kit = auto
    pid = await _started(node, kit)
    for _ in range(2):  # the second time: already applied
        assert (await _tell(node, pid, "TransferTerminationMessage"))["state"] == "TERMINATED"


async def test_tp_02_02_started_consumer_completed(auto):
    node, kit = auto
    pid = await _started(node, kit)
    for _ in range(2):
        assert (await _tell(node, pid, "TransferCompletionMessage"))["state"] == "COMPLETED"


async def test_tp_02_03_started_consumer_suspended_terminated(auto):
    node, kit = auto
    pid = await _started(node, kit)
    assert (await _tell(node, pid, "TransferSuspensionMessage"))["state"] == "SUSPENDED"
    assert (await _tell(node, pid, "TransferTerminationMessage"))["state"] == "TERMINATED"


async def test_tp_02_04_started_consumer_suspended_started_completed(auto):
    node, kit = auto
    pid = await _started(node, kit)
    assert (await _tell(node, pid, "TransferSuspensionMessage"))["state"] == "SUSPENDED"
    assert (await _tell(node, pid, "TransferStartMessage"))["state"] == "STARTED"
    assert (await _tell(node, pid, "TransferCompletionMessage"))["state"] == "COMPLETED"


async def test_tp_02_05_consumer_terminated(manual):
    node, kit = manual
    pid = (await _request(node, kit))["providerPid"]
    assert (await _tell(node, pid, "TransferTerminationMessage"))["state"] == "TERMINATED"


async def test_tp_03_01_02_requested_consumer_completed_or_suspended_refused(manual):
    node, kit = manual
    pid = (await _request(node, kit))["providerPid"]
    await _tell(node, pid, "TransferCompletionMessage", 400)  # TP:03-01
    await _tell(node, pid, "TransferSuspensionMessage", 400)  # TP:03-02
    await _tell(node, pid, "TransferStartMessage", 400)  # only the provider starts
    assert await state_of(node, pid) == "REQUESTED"


async def test_tp_03_03_suspended_consumer_completed_refused(auto):
    node, kit = auto
    pid = await _started(node, kit)
    await _tell(node, pid, "TransferSuspensionMessage")
    await _tell(node, pid, "TransferCompletionMessage", 400)
    assert await state_of(node, pid) == "SUSPENDED"


@pytest.mark.parametrize("late", ["TransferStartMessage", "TransferSuspensionMessage", "TransferCompletionMessage"])
async def test_tp_03_04_05_06_after_consumer_terminated(auto, late):
    node, kit = auto
    pid = await _started(node, kit)
    await _tell(node, pid, "TransferTerminationMessage")
    await _tell(node, pid, late, 400)
    assert await state_of(node, pid) == "TERMINATED"


async def test_tp_invalid_requests_are_refused_and_create_nothing(auto):
    node, kit = auto
    agreement = await node.agreement()
    base = {"@context": CTX, "@type": "TransferRequestMessage", "consumerPid": "urn:uuid:x", "agreementId": agreement,
            "format": "HttpData-PULL", "callbackAddress": kit.base + "/callback"}
    url = f"{node.base}/dsp/transfers/request"
    for body, caller in [
        ({**base, "format": "S3-PUSH"}, KIT.did),  # a format we do not serve
        ({**base, "format": "HttpData-PUSH"}, KIT.did),  # PUSH without a dataAddress
        ({**base, "agreementId": "urn:uuid:unknown"}, KIT.did),  # no such agreement
        (base, "did:web:someone.else"),  # not this caller's agreement
        ({**base, "agreementId": await node.agreement(role=Role.CONSUMER)}, KIT.did),  # one where we consume
        ({k: v for k, v in base.items() if k != "consumerPid"}, KIT.did),  # schema
        ("{not json", KIT.did),
        ({**base, "@type": "TransferStartMessage"}, KIT.did),
    ]:
        status, answer = await send(url, body, caller=caller)
        check(status, answer, 400, "TransferError")
    status, answer = await send(url, {**base, "padding": "x" * 100_000})
    check(status, answer, 413, "TransferError")
    assert await node.service.store.list() == []
    async with aiohttp.ClientSession() as s, s.post(url, json=base) as r:
        assert r.status == 401  # no caller at all


async def test_tp_foreign_unknown_and_out_of_order_messages(auto):
    node, kit = auto
    pid = await _started(node, kit)
    status, body = await send(f"{node.base}/dsp/transfers/{pid}/completion",
                              _msg("TransferCompletionMessage", pid), caller="did:web:other.example")
    check(status, body, 404, "TransferError")  # someone else's process
    status, body = await send(f"{node.base}/dsp/transfers/urn:uuid:nope/completion", _msg("TransferCompletionMessage", "urn:uuid:nope"))
    check(status, body, 404, "TransferError")
    status, body = await send(f"{node.base}/dsp/transfers/{pid}/completion", _msg("TransferCompletionMessage", pid, "urn:uuid:other-c"))
    check(status, body, 400, "TransferError")  # names another consumer process
    status, body = await send(f"{node.base}/dsp/transfers/{pid}/completion", _msg("TransferTerminationMessage", pid))
    check(status, body, 400, "TransferError")  # the wrong message for the path
    async with aiohttp.ClientSession() as s, s.get(f"{node.base}/dsp/transfers/{pid}",
                                                               headers={"X-Test-Caller": KIT.did}) as r:
        assert check(r.status, await r.json(), 200, "TransferProcess")["state"] == "STARTED"
    agreement = (await node.service.store.get(pid)).agreement_id
    again = await _request(node, kit, agreement=agreement, replay=True)  # replayed: the same process, nothing new sent
    assert again["providerPid"] == pid and again["state"] == "STARTED"
    assert len([b for _, b in kit.received if b["@type"] == "TransferStartMessage"]) == 1


# ---- TP_C: our node is the consumer ---------------------------------------------------------


async def _consume(node: Node, kit: Kit) -> str:
    agreement = await node.agreement(role=Role.CONSUMER)
    p = await node.service.request(None, agreement)
    request = await kit.got("TransferRequestMessage")
    assert kit.received[0][0] == "/dsp/transfers/request"
    assert request["callbackAddress"] == node.base + "/dsp/callback" and request["agreementId"] == agreement
    for _ in range(100):
        if (await node.service.store.get(p.id)).provider_pid == Kit.pid:
            break
        await asyncio.sleep(0.03)
    return p.id


async def _from_kit(node: Node, cpid: str, kind: str, expected: int = 200) -> dict:
    path = {"TransferStartMessage": "start", "TransferCompletionMessage": "completion",
            "TransferSuspensionMessage": "suspension", "TransferTerminationMessage": "termination"}[kind]
    extra = {"dataAddress": codec.data_address("https://kit.example/data", {"authorization": "t", "authType": "bearer"})} \
        if kind == "TransferStartMessage" else {}
    status, body = await send(f"{node.base}/dsp/callback/transfers/{cpid}/{path}", _msg(kind, Kit.pid, cpid, **extra))
    return check(status, body, expected, "TransferProcess" if expected < 300 else "TransferError")


@pytest.mark.parametrize("steps", [
    ["TransferStartMessage", "TransferTerminationMessage"],  # TP_C:01-01
    ["TransferStartMessage", "TransferCompletionMessage"],  # TP_C:01-02
    ["TransferStartMessage", "TransferSuspensionMessage", "TransferTerminationMessage"],  # TP_C:01-03
    ["TransferStartMessage", "TransferSuspensionMessage", "TransferStartMessage", "TransferCompletionMessage"],  # 01-04
    ["TransferTerminationMessage"],  # TP_C:01-05
], ids=["01-01", "01-02", "01-03", "01-04", "01-05"])
async def test_tp_c_01_provider_steps(auto, steps):
    node, kit = auto
    cpid = await _consume(node, kit)
    for kind in steps:
        await _from_kit(node, cpid, kind)
    assert await state_of(node, cpid) == {"TransferTerminationMessage": "TERMINATED",
                                          "TransferCompletionMessage": "COMPLETED"}[steps[-1]]
    if steps[0] == "TransferStartMessage":
        assert (await node.service.store.get(cpid)).data_address["endpoint"] == "https://kit.example/data"


@pytest.mark.parametrize("steps", [
    [MessageKind.TERMINATION],  # TP_C:02-01
    [MessageKind.COMPLETION],  # TP_C:02-02
    [MessageKind.SUSPENSION, MessageKind.TERMINATION],  # TP_C:02-03
    [MessageKind.SUSPENSION, MessageKind.START, MessageKind.COMPLETION],  # TP_C:02-04
], ids=["02-01", "02-02", "02-03", "02-04"])
async def test_tp_c_02_consumer_steps(auto, steps):
    node, kit = auto
    cpid = await _consume(node, kit)
    await _from_kit(node, cpid, "TransferStartMessage")
    for kind in steps:
        await node.service.command(cpid, kind, "ours")
        path = {MessageKind.TERMINATION: "termination", MessageKind.COMPLETION: "completion",
                MessageKind.SUSPENSION: "suspension", MessageKind.START: "start"}[kind]
        body = await kit.got(kind.value)
        assert body["providerPid"] == Kit.pid and body["consumerPid"] == cpid
        assert any(p == f"/dsp/transfers/{Kit.pid}/{path}" for p, _ in kit.received)
    assert await state_of(node, cpid) in ("TERMINATED", "COMPLETED")


async def test_tp_c_02_05_consumer_terminated(auto):
    node, kit = auto
    cpid = await _consume(node, kit)
    await node.service.command(cpid, MessageKind.TERMINATION, "changed our mind")
    assert (await kit.got("TransferTerminationMessage"))["reason"] == ["changed our mind"]
    assert await eventually(node, cpid, "TERMINATED") == "TERMINATED"


async def test_tp_c_03_01_02_requested_provider_completed_or_suspended_refused(auto):
    node, kit = auto
    cpid = await _consume(node, kit)
    await _from_kit(node, cpid, "TransferCompletionMessage", 400)
    await _from_kit(node, cpid, "TransferSuspensionMessage", 400)
    assert await state_of(node, cpid) == "REQUESTED"


async def test_tp_c_03_03_suspended_provider_completed_refused(auto):
    node, kit = auto
    cpid = await _consume(node, kit)
    await _from_kit(node, cpid, "TransferStartMessage")
    await _from_kit(node, cpid, "TransferSuspensionMessage")
    await _from_kit(node, cpid, "TransferCompletionMessage", 400)
    assert await state_of(node, cpid) == "SUSPENDED"


@pytest.mark.parametrize("late", ["TransferStartMessage", "TransferSuspensionMessage", "TransferCompletionMessage"],
                         ids=["03-04", "03-05", "03-06"])
async def test_tp_c_03_after_provider_terminated(auto, late):
    node, kit = auto
    cpid = await _consume(node, kit)
    await _from_kit(node, cpid, "TransferStartMessage")
    await _from_kit(node, cpid, "TransferTerminationMessage")
    await _from_kit(node, cpid, late, 400)
    assert await state_of(node, cpid) == "TERMINATED"


async def test_tp_c_foreign_callbacks_are_404(auto):
    node, kit = auto
    cpid = await _consume(node, kit)
    status, body = await send(f"{node.base}/dsp/callback/transfers/{cpid}/start",
                              _msg("TransferStartMessage", Kit.pid, cpid), caller="did:web:other.example")
    check(status, body, 404, "TransferError")
    status, body = await send(f"{node.base}/dsp/callback/transfers/{cpid}/start", _msg("TransferStartMessage", "urn:uuid:x", cpid))
    check(status, body, 400, "TransferError")  # another provider process
    assert await state_of(node, cpid) == "REQUESTED"


async def test_a_restarted_node_sends_what_it_had_queued(tmp_path):
    async with running(tmp_path, sender=False) as (node, kit, _):
        cpid = (await node.service.request(None, await node.agreement(role=Role.CONSUMER))).id
        pid = (await _request(node, kit))["providerPid"]  # persisted STARTED, its message queued
        await asyncio.sleep(0.3)
        assert kit.received == [] and await state_of(node, pid) == "STARTED"
        restarted = asyncio.create_task(Manager(node.service).run())  # the node after a restart
        try:
            await kit.got("TransferRequestMessage")
            await kit.got("TransferStartMessage")
            assert await eventually_bound(node, cpid)
        finally:
            restarted.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await restarted
        await asyncio.sleep(0.2)
        assert len(kit.received) == 2  # each sent once


async def eventually_bound(node: Node, cpid: str) -> bool:
    for _ in range(100):
        if (await node.service.store.get(cpid)).provider_pid == Kit.pid:
            return True
        await asyncio.sleep(0.03)
    return False


async def _get(url: str, caller: str = KIT.did) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url, headers={"X-Test-Caller": caller}) as r:
        return r.status, await r.json(content_type=None)


async def test_tp_c_the_consumer_answers_the_state_of_its_process(auto):
    """DSP 2025-1 (and the TCK's thenVerifyConsumerState): GET {callback}/transfers/:consumerPid."""
    node, kit = auto
    cpid = await _consume(node, kit)
    status, body = await _get(f"{node.base}/dsp/callback/transfers/{cpid}")
    assert check(status, body, 200, "TransferProcess")["state"] == "REQUESTED"
    assert body["consumerPid"] == cpid and body["providerPid"] == Kit.pid
    await _from_kit(node, cpid, "TransferStartMessage")
    status, body = await _get(f"{node.base}/dsp/callback/transfers/{cpid}")
    assert check(status, body, 200, "TransferProcess")["state"] == "STARTED"
    # never another's, and a consumer process is not found on the provider's path
    check(*await _get(f"{node.base}/dsp/callback/transfers/{cpid}", caller="did:web:other.example"), 404, "TransferError")
    check(*await _get(f"{node.base}/dsp/transfers/{cpid}"), 404, "TransferError")
