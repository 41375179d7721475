"""Steps 4 to 6: a fourth organization asks to join and the members vote it in; the federated
catalog, crawled by the newcomer, answers one SPARQL query across every member; the ledger's
value report says what paid usage paid, returned and extracted."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from connector.demo.commands import Shell, StepFailed
from connector.demo.joiner import CRAWL_INTERVAL, Serving, enable_crawler
from connector.demo.play import Play
from connector.demo.publishing import ucom
from connector.federation.create import LEDGER_OPTIONS

FUNDING = "25com"  # enough for the proposal's deposit and the fees of a few transactions
DEPOSIT = LEDGER_OPTIONS[LEDGER_OPTIONS.index("--min-deposit") + 1] + "com"
VOTE_SLACK = 30.0  # seconds past the voting period's end for the tally to be committed
CRAWLED = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX crawl: <https://w3id.org/communs/crawl#>
SELECT ?member (COUNT(DISTINCT ?dataset) AS ?datasets) (GROUP_CONCAT(DISTINCT ?kind; separator=" ") AS ?sources)
WHERE {
  GRAPH <urn:communs:federation:provenance> { ?g prov:wasAttributedTo ?member ; crawl:kind ?kind }
  OPTIONAL { GRAPH ?g { ?dataset a dcat:Dataset } }
} GROUP BY ?member"""
OURS = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?dataset ?title ?member
WHERE {
  GRAPH ?g { ?dataset dct:title ?title }
  GRAPH <urn:communs:federation:provenance> { ?g prov:wasAttributedTo ?member }
  VALUES ?dataset { %s }
}"""


def _rows(results: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row.items()} for row in results["results"]["bindings"]]


async def prepare_joiner(play: Play, shell: Shell) -> dict[str, Any]:
    """What the newcomer does before it asks, while steps 1 to 3 play (most of it is the
    SHACL work of `communs init`): its node, its [crawler], its account, funded by org 1."""
    city, joiner = play.city, play.joiner
    made = await shell.json(*joiner.init_argv())
    enable_crawler(joiner, city.rpc_url, play.federation.validator(city) / "genesis.json")
    keys = await shell.json("ledger", "keys", "--key", str(joiner.folder / "keys" / "ed25519.jwk"))
    await shell.json("ledger", "bank", "send", keys["address"], FUNDING,
                     "--dir", play.validator(city))
    return {"did": made["did"], "account": keys["address"]}


async def join_by_vote(play: Play) -> dict[str, Any]:
    city, joiner = play.city, play.joiner
    play.narrator.doing(f"creating {joiner.org.name}'s node")
    assert play.joiner_init is not None
    prepared = await play.joiner_init  # started when the demo began
    for line, seconds in play.background:
        play.narrator.command(line, "(while steps 1-3 played)")
        play.narrator.ran(line, seconds)
    did, account = prepared["did"], prepared["account"]
    play.found["joiner_did"] = did
    play.narrator.say(f"{joiner.org.name} created its node: {did}, its keys and a signed Gaia-X "
                      f"self-description (in {joiner.folder.relative_to(play.federation.folder)})")
    play.narrator.say(f"{city.name} sent it {FUNDING} for the proposal's deposit: its DID key "
                      f"is its ledger account {account}")
    genesis = play.federation.validator(city) / "genesis.json"
    play.narrator.doing("asking to join")
    joined = await play.shell.json("join", city.rpc_url, "--genesis", str(genesis), "--deposit",
                                   DEPOSIT, "--title", f"Admit {joiner.org.name}",
                                   "--dir", str(joiner.folder))
    proposal = str(joined["proposalId"])
    play.narrator.say(f"proposal {proposal} asks governance to register {did}")
    play.serving = Serving(joiner)
    play.serving.start()  # it starts while the members vote
    play.narrator.doing(f"the members vote on proposal {proposal}")
    # through each running node's management API (what `communs vote` does from a shell):
    # the votes must land within the voting period, even on a loaded machine
    *votes, shown = await asyncio.gather(*(play.shell.api(
        play.federation.connector(m), "POST", f"/api/v1/ledger/proposals/{proposal}/votes",
        {"option": "yes"}) for m in play.federation.members), play.shell.json(
        "ledger", "gov", "show", proposal, "--dir", play.validator(city)))
    play.narrator.say(f"{len(votes)} founding members voted yes, each with its validator's "
                      f"stake (committed at heights {', '.join(str(v['height']) for v in votes)})")
    end = shown["voting_end_time"] / 1000

    async def tallied() -> dict[str, Any] | None:
        play.narrator.doing(f"proposal {proposal}: voting period ends in "
                            f"{max(0.0, end - time.time()):.0f} s")
        if time.time() < end:
            return None
        now = await play.shell.json("ledger", "gov", "show", proposal, "--dir", play.validator(city))
        return None if now["status"] in ("deposit_period", "voting_period") else now

    final = await play.until(f"the tally of proposal {proposal}", tallied,
                             timeout=max(0.0, end - time.time()) + VOTE_SLACK)
    if final["status"] != "passed":
        raise StepFailed(f"proposal {proposal} ended {final['status']} "
                         f"{final.get('failed_reason') or ''}(tally {final.get('final_tally')})")
    member = await play.shell.json("ledger", "registry", "member", did, "--dir", play.validator(city))
    if member.get("status") != "member":
        raise StepFailed(f"the registry lists {did} as {member.get('status')}, not member")
    play.narrator.say(f"proposal {proposal} passed ({final['final_tally']['yes']} ucom of stake "
                      f"for yes); the registry lists {joiner.org.name} as a member since block "
                      f"{member['since']['height']}")
    return {"did": did, "name": joiner.org.name, "account": account,
            "proposalId": int(proposal), "status": final["status"], "registry": member["status"],
            "since": member["since"]["height"]}


async def federated_catalog(play: Play) -> dict[str, Any]:
    joiner, serving = play.joiner, play.serving
    assert serving is not None
    did = play.found["joiner_did"]
    ours = [play.found["open_dataset"]["iri"], play.found["paid_dataset"]["iri"]]
    endpoint = f"{joiner.url}/federation/sparql"

    async def up() -> bool:
        if serving.exited:
            raise StepFailed(f"{joiner.org.name}'s node exited: see {serving.joiner.log}")
        return await asyncio.to_thread(serving.ready)

    play.narrator.doing(f"{joiner.org.name}'s node starts")
    await play.until(f"the start of {joiner.org.name}'s node", up, timeout=60, every=0.3)
    play.narrator.say(f"{joiner.org.name} serves at {joiner.url} and crawls every "
                      f"{CRAWL_INTERVAL:g} s: members from the registry (proven), then each "
                      f"one's DID document, self-description, DSP catalog and DCAT export")

    crawled_members = play.query("crawled-members.rq", CRAWLED)
    this_run = play.query("this-run-datasets.rq", OURS % " ".join(f"<{iri}>" for iri in ours))

    async def crawled() -> tuple[list[dict[str, str]], list[dict[str, str]]] | None:
        play.narrator.doing("waiting for a crawl that includes the new member")
        members = _rows(await play.shell.json("sparql", endpoint, crawled_members))
        if not expected <= {m["member"] for m in members}:
            return None
        found = _rows(await play.shell.json("sparql", endpoint, this_run))
        return (members, found) if {f["dataset"] for f in found} >= set(ours) else None

    expected = {m.did for m in play.federation.members} | {did}
    members, found = await play.until("a crawl covering every organization and this run's "
                                      "datasets", crawled, timeout=45, every=1.0)
    listed = await play.shell.json("ledger", "registry", "members", "--dir",
                                   play.validator(play.city))
    registered = {m["did"] for m in listed["members"] if m.get("status") == "member"}
    unreachable = sorted(registered - {m["member"] for m in members})
    play.narrator.say(f"the registry lists {len(registered)} members; the crawl reached "
                      f"{len(registered) - len(unreachable)}"
                      + (f" ({len(unreachable)} unreachable: newcomers of earlier demo runs, "
                         f"no longer serving, or members that are down)" if unreachable else ""))
    for row in sorted(members, key=lambda r: play.name_of(r["member"])):
        play.narrator.say(f"  {play.name_of(row['member'])}: {row['datasets']} dataset(s) "
                          f"from {', '.join(sorted(row['sources'].split()))}")
    for row in found:
        play.narrator.say(f"  found · {row['title']} ← {play.name_of(row['member'])}")
    return {"endpoint": endpoint, "registered": len(registered), "unreachable": unreachable,
            "members": [
        {"did": r["member"], "datasets": int(r["datasets"]), "sources": sorted(r["sources"].split())}
        for r in members], "found": found}


async def value_report(play: Play) -> dict[str, Any]:
    iri = play.found["paid_dataset"]["iri"]
    play.narrator.doing("reading the value report")
    report = await play.shell.json("value", iri, "--dir", play.connector(play.consumer),
                                   ok_codes=(0, 1))
    parts = {k: int(report[k]) for k in ("paid", "contributors", "curators", "extracted",
                                         "burned", "community", "validators", "payments")}
    balanced = (parts["paid"] == parts["contributors"] + parts["curators"] + parts["extracted"]
                and parts["extracted"] == parts["burned"] + parts["community"] + parts["validators"])
    play.narrator.say(f"paid {ucom(parts['paid'])} in {parts['payments']} use(s); returned to "
                      f"contributors {ucom(parts['contributors'])}, to curators "
                      f"{ucom(parts['curators'])}")
    play.narrator.say(f"extracted {ucom(parts['extracted'])}: burned {parts['burned']}, "
                      f"community pool {parts['community']}, validators {parts['validators']}")
    if not balanced or not report.get("balanced"):
        raise StepFailed("the value report does not balance: paid is not contributors + "
                         "curators + extracted, or extracted is not burned + community + validators")
    play.narrator.say(f"checked: paid = contributors + curators + extracted, extracted = burned + "
                      f"community + validators (proven at height {report['height']})")
    return {"dataset": iri, **parts, "balanced": True, "height": report["height"]}
