"""Three real nodes: a trust anchor, a provider and a member. The provider's catalog is seen
through DSP (anonymous and DCP-authenticated), the DCAT export and SPARQL, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from connector.auth.client import dsp_request
from tests.nodes import client, init_federation, serving

CATALOG_REQUEST = {
    "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
    "@type": "CatalogRequestMessage",
    "filter": [],
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


def titles(catalog: dict) -> set[str]:
    datasets = catalog.get("dataset", [])
    datasets = datasets if isinstance(datasets, list) else [datasets]
    return {d["dct:title"] if isinstance(d["dct:title"], str) else d["dct:title"]["@value"] for d in datasets}


async def test_members_see_more_than_anonymous_callers(folders):
    anchor_dir, provider_dir, member_dir = folders
    async with serving(anchor_dir) as anchor, serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        for source, title, policy in ((provider_dir / "data/air.csv", "Air quality 2025", "open"),
                                      (provider_dir / "data/traffic.csv", "Traffic counts", "members")):
            body = {"source": str(source), "title": title, "keywords": ["city"], "policy": policy,
                    "license": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}
            async with http.post(f"{provider.management}/api/v1/datasets", json=body, headers=provider.auth) as response:
                assert response.status == 201, await response.text()

        # the federation authority makes ACME a member; ACME keeps the credential
        issue = {"subject": member.did, "type": "MembershipCredential", "claims": {"role": "member"}}
        async with http.post(f"{anchor.management}/api/v1/credentials/issue", json=issue, headers=anchor.auth) as response:
            token = (await response.json())["credential"]
        async with http.post(f"{member.management}/api/v1/credentials", data=token, headers=member.auth) as response:
            assert response.status == 201

        url = f"{provider.public}/dsp/catalog/request"
        async with http.post(url, json=CATALOG_REQUEST) as response:
            assert response.status == 200, await response.text()
            assert titles(await response.json()) == {"Air quality 2025"}
        node = member.running.node
        async with dsp_request(node.session, "POST", url, signer=node.signer, json=CATALOG_REQUEST) as response:
            assert response.status == 200, await response.text()
            assert titles(await response.json()) == {"Air quality 2025", "Traffic counts"}
        async with http.post(url, json=CATALOG_REQUEST, headers={"Authorization": "forged.token.here"}) as response:
            assert response.status == 401

        async with http.get(f"{provider.public}/catalog", headers={"Accept": "text/turtle"}) as response:
            export = await response.text()
        assert "Air quality 2025" in export and "Traffic counts" not in export

        query = "PREFIX dct: <http://purl.org/dc/terms/> SELECT ?t WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; dct:title ?t }"
        async with http.get(f"{provider.public}/sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"}) as response:
            rows = (await response.json())["results"]["bindings"]
        assert {row["t"]["value"] for row in rows} == {"Air quality 2025"}

        # the same through the CLI: as the member (its folder), then anonymously
        as_member = await communs("catalog", provider.public, "--dir", str(member_dir), "--json")
        assert titles(json.loads(as_member)) == {"Air quality 2025", "Traffic counts"}
        anonymous = await communs("catalog", provider.public, "--dir", str(member_dir), "--anonymous", "--json")
        assert titles(json.loads(anonymous)) == {"Air quality 2025"}
        assert "2 datasets" in await communs("catalog", provider.public, "--dir", str(member_dir))


async def communs(*argv: str) -> str:
    """The CLI in a subprocess, awaited so that the nodes in this event loop keep serving."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "connector.cli.main", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()
