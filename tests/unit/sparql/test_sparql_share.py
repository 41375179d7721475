"""The fair share of query workers on its own: who gets a freed worker, who is told to come back."""

from __future__ import annotations

import asyncio

import pytest

from connector.sparql.share import Client, FairShare, NoWorker, OverShare, Share

ANONYMOUS = Share(running=1, waiting=2, timeout=5.0)


def client(key: str, share: Share = ANONYMOUS) -> Client:
    return Client(key, share)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_freed_worker_goes_to_the_caller_served_least_recently():
    share = FairShare(workers=2, max_wait=10)
    hog_a, hog_b = client("a", Share(1, 5, 5.0)), client("b", Share(1, 5, 5.0))
    turns = [await share.acquire(hog_a), await share.acquire(hog_b)]
    order: list[str] = []

    async def wait_for_turn(who: Client) -> None:
        turn = await share.acquire(who)
        order.append(who.key)
        share.release(turn)

    # the hogs queue more queries first; a newcomer arrives after them
    waiters = [asyncio.create_task(wait_for_turn(c)) for c in (hog_a, hog_a, hog_b, client("c"))]
    await settle()
    share.release(turns[0])  # one hog's query ends: the newcomer goes first, not the hog again
    share.release(turns[1])
    await asyncio.gather(*waiters)
    assert order[0] == "c"
    assert sorted(order[1:3]) == ["a", "b"] and order[3] == "a"  # then the hogs take turns
    assert share.free == 2


async def test_a_caller_over_its_share_is_told_when_to_come_back():
    share = FairShare(workers=4, max_wait=10)
    hog = client("hog")
    running = await share.acquire(hog)
    waiting = [asyncio.create_task(share.acquire(hog)) for _ in range(ANONYMOUS.waiting)]
    await settle()
    with pytest.raises(OverShare) as refused:
        await share.acquire(hog)
    assert refused.value.retry_after == 5  # when its running query ends, at the latest
    assert "try again in 5 s" in str(refused.value)
    other = await share.acquire(client("other"))  # workers were free all along for others
    share.release(other)
    share.release(running)
    for task in waiting:
        share.release(await task)
    assert share.free == 4


async def test_no_worker_in_time_and_given_up_waits_leave_nothing_behind():
    share = FairShare(workers=1, max_wait=0.2)
    held = await share.acquire(client("a"))
    with pytest.raises(NoWorker) as busy:
        await share.acquire(client("b"))
    assert busy.value.retry_after == 5
    given_up = asyncio.create_task(share.acquire(client("c")))
    await settle()
    given_up.cancel()
    share.release(held)  # before the waiter has seen its cancellation
    await settle()
    assert share.free == 1
    again = await share.acquire(client("b"))  # nobody's stale place in the queue took the worker
    share.release(again)
    assert share.free == 1 and not share._callers
