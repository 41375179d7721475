"""Membership from the command line: a node trusts itself and the anchors in its communs.toml
(`communs trust`), issues a MembershipCredential, the member keeps it (`communs credentials
add`, through the API when serving, on the folder otherwise) and then sees the provider's
`members` datasets. Each command's --json feeds its counterpart."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid

import pytest

from connector.cli.main import main
from connector.config import load
from connector.credentials import trust
from connector.credentials.trust import TrustAnchors
from connector.identity.did import did_web_from_url
from tests.nodes import client, init_node, serving

ANCHOR = "did:web:authority.example"


@pytest.fixture
def communs(capsys, tmp_path):
    """Run the CLI in this process (quicker than a fresh interpreter for each call); STDIN is
    handed over as a file where the command reads '-'."""
    def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        if stdin is not None:
            (tmp_path / "stdin").write_text(stdin)
            argv = tuple(str(tmp_path / "stdin") if a == "-" else a for a in argv)
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out, err)

    return run


def did_of(folder) -> str:
    return did_web_from_url(load(folder).public_url)


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "node")


def test_trust_add_list_remove_edit_the_node_settings(communs, folder):
    own = did_of(folder)
    shown = json.loads(communs("trust", "list", "--json", "--dir", str(folder)).stdout)
    assert shown == {"node": own, "trustAnchors": []}
    assert communs("trust", "add", ANCHOR, "--dir", str(folder)).stdout == f"now trusting {ANCHOR}\n"
    again = communs("trust", "add", ANCHOR, "--dir", str(folder))
    assert again.returncode == 0 and "already trusted" in again.stdout
    assert load(folder).trust_anchors == (ANCHOR,)
    listed = communs("trust", "list", "--dir", str(folder)).stdout
    assert own in listed and "this node (always)" in listed and ANCHOR in listed
    assert communs("trust", "remove", ANCHOR, "--dir", str(folder)).returncode == 0
    assert load(folder).trust_anchors == ()


@pytest.mark.parametrize("argv, message", [
    (("add", "not-a-did"), "is not a DID"),
    (("add", "did:web:"), "is not a DID"),
    (("remove", ANCHOR), "is not a trust anchor"),
])
def test_bad_trust_changes_are_one_sentence_and_change_nothing(communs, folder, argv, message):
    before = (folder / "communs.toml").read_text()
    result = communs("trust", *argv, "--dir", str(folder))
    assert result.returncode == 1 and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert (folder / "communs.toml").read_text() == before


def test_a_node_always_trusts_itself(communs, folder):
    own = did_of(folder)
    result = communs("trust", "remove", own, "--dir", str(folder))
    assert result.returncode == 1 and "always trusts itself" in result.stderr
    assert "already trusted" in communs("trust", "add", own, "--dir", str(folder)).stdout
    assert load(folder).trust_anchors == ()


async def test_a_serving_node_follows_its_settings_file(folder, monkeypatch):
    monkeypatch.setattr(trust, "RECHECK_SECONDS", 0.0)
    own = did_of(folder)
    anchors = TrustAnchors(load(folder), own)
    assert await anchors.trusted(own) and not await anchors.trusted(ANCHOR)
    trust.add(folder, ANCHOR, own)
    assert await anchors.trusted(ANCHOR)
    (folder / "communs.toml").write_text("[node\n")  # half-edited by hand: keep what we had
    assert await anchors.trusted(ANCHOR)


@pytest.fixture
def pair(tmp_path):
    provider = init_node(tmp_path / "provider", name="Open City")
    (provider / "data").mkdir(exist_ok=True)
    (provider / "data" / "traffic.csv").write_text("road,cars\nN7,1200\n")
    return provider, init_node(tmp_path / "member")


@pytest.mark.parametrize("fmt", ["jwt", "ldp"])
async def test_json_output_feeds_its_counterpart(communs, folder, fmt):
    """What `credential issue --json` and `selfdesc show --json` print, `verify`, `add`
    and `validate` read as they are."""
    own = did_of(folder)
    issued = await asyncio.to_thread(communs, "credential", "issue", "--subject", own, "--type",
                                     "MembershipCredential", "--format", fmt, "--json",
                                     "--dir", str(folder))
    assert issued.returncode == 0, issued.stderr
    verified = await asyncio.to_thread(communs, "credential", "verify", "-", "--json",
                                       "--dir", str(folder), stdin=issued.stdout)
    assert json.loads(verified.stdout)["ok"], verified.stdout
    async with serving(folder):  # the node holds a credential it issued to itself
        added = await asyncio.to_thread(communs, "credentials", "add", "-", "--json",
                                        "--dir", str(folder), stdin=issued.stdout)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["id"] == json.loads(issued.stdout)["id"]


@pytest.mark.parametrize("variant", ["loire", "tagus"])
def test_selfdesc_show_json_feeds_validate(communs, folder, variant):
    shown = communs("selfdesc", "show", "--variant", variant, "--json", "--dir", str(folder))
    assert shown.returncode == 0, shown.stderr
    report = communs("selfdesc", "validate", "-", "--json", "--dir", str(folder), stdin=shown.stdout)
    assert report.returncode == 0, report.stdout
    assert json.loads(report.stdout)["conforms"]


async def test_a_member_sees_members_datasets_of_a_node_without_trust_anchors(communs, pair):
    provider_dir, member_dir = pair
    member = did_of(member_dir)
    async with serving(provider_dir) as provider, client() as http:
        body = {"source": str(provider_dir / "data" / "traffic.csv"), "title": "Traffic",
                "policy": "members"}
        async with http.post(f"{provider.management}/api/v1/datasets", json=body,
                             headers=provider.auth) as response:
            assert response.status == 201, await response.text()
            dataset = (await response.json())["id"]
        issued = await asyncio.to_thread(communs, "credential", "issue", "--subject", member,
                                         "--type", "MembershipCredential", "--json",
                                         "--dir", str(provider_dir))
        assert issued.returncode == 0, issued.stderr
        # the member is not serving: the credential is checked and kept in its folder
        added = await asyncio.to_thread(communs, "credentials", "add", "-", "--dir",
                                        str(member_dir), stdin=issued.stdout)
        assert added.returncode == 0, added.stderr
        async with serving(member_dir):
            held = await asyncio.to_thread(communs, "credentials", "list", "--role", "held",
                                           "--json", "--dir", str(member_dir))
            seen = await asyncio.to_thread(communs, "catalog", provider.public, "--json",
                                           "--dir", str(member_dir))
        anonymous = await asyncio.to_thread(communs, "catalog", provider.public, "--anonymous",
                                            "--json")
    assert [c["issuer"] for c in json.loads(held.stdout)] == [provider.did]
    assert seen.returncode == 0, seen.stderr
    iri = f"urn:uuid:{uuid.UUID(dataset)}"
    assert iri in [d["@id"] for d in json.loads(seen.stdout)["dataset"]]
    assert iri not in [d["@id"] for d in json.loads(anonymous.stdout)["dataset"]]
