"""The use cases behind `communs credential issue|verify`: any input gives a clear answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from connector.errors import ConnectorError
from connector.identity.jose import envelope
from connector.identity.proofs import issue_presentation
from connector.identity.service import issue_credential, verify_credential_file


@pytest.mark.parametrize("fmt", ["ldp", "jwt"])
async def test_issue_and_verify_with_a_did_key(resolver, ed_signer, fmt):
    issued = issue_credential(ed_signer, "did:example:member", "MembershipCredential",
                              {"memberOf": "fed-1", "since": 2024}, fmt, valid_for=timedelta(days=1))
    text = issued if isinstance(issued, str) else json.dumps(issued)
    result = await verify_credential_file(text, resolver)
    assert result.ok, result.problems
    assert result.issuer == ed_signer.did
    assert result.document["credentialSubject"] == {"id": "did:example:member",
                                                   "memberOf": "fed-1", "since": 2024}
    assert result.document["type"] == ["VerifiableCredential", "MembershipCredential"]


@pytest.mark.parametrize("fmt", ["ldp", "jwt"])
async def test_issue_with_the_node_key_store(resolver, web_node, node_store, fmt):
    did = web_node[0].did
    issued = issue_credential(node_store, "did:example:m", ["MembershipCredential"], {}, fmt,
                              issuer_did=did)
    text = issued if isinstance(issued, str) else json.dumps(issued)
    result = await verify_credential_file(text, resolver)
    assert result.ok, result.problems
    assert result.issuer == did


async def test_wrapped_forms_are_detected(resolver, ed_signer):
    jwt = issue_credential(ed_signer, "did:example:m", "X", {}, "jwt")
    for text in (jwt, f"  {jwt}\n", json.dumps(jwt), json.dumps({"jwt": jwt}),
                 json.dumps({"verifiableCredential": jwt}), json.dumps(envelope(jwt))):
        result = await verify_credential_file(text, resolver)
        assert result.ok, (text, result.problems)
    vp = issue_presentation([jwt], ed_signer, challenge="c")
    result = await verify_credential_file(json.dumps(vp), resolver, challenge="c")
    assert result.ok, result.problems
    result = await verify_credential_file(json.dumps(vp), resolver, challenge="other")
    assert not result.ok


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "the file is empty"),
        ("{not json", "the file is neither a JWT nor valid JSON"),
        (b"\xff\xfe\x00", "the file is not UTF-8 text"),
        ("[1, 2, 3]", "unknown format"),
        ('{"hello": "world"}', "unknown format"),
        ('{"@context": "https://www.w3.org/2018/credentials/v1", "credentialSubject": {}}',
         "the credential has no proof"),
        ('{"proof": {}, "issuer": "did:key:z6Mk"}', "the document has no @context"),
        ("x" * (2 * 1024 * 1024), "larger than"),
    ],
)
async def test_bad_files_give_one_clear_problem(resolver, text, problem):
    result = await verify_credential_file(text, resolver)
    assert not result.ok
    assert problem in result.problems[0]


async def test_unbundled_remote_context_is_not_fetched(resolver, ed_signer):
    issued = issue_credential(ed_signer, "did:example:m", "X", {}, "ldp")
    issued["@context"].insert(1, "https://example.org/unknown-context.jsonld")
    result = await verify_credential_file(json.dumps(issued), resolver)
    assert result.problems == (
        "the JSON-LD context 'https://example.org/unknown-context.jsonld' is not bundled "
        "with communs and will not be fetched",)


async def test_no_resolver_means_the_default_one(ed_signer):
    issued = issue_credential(ed_signer, "did:example:m", "X", {}, "jwt")
    assert (await verify_credential_file(issued, None)).ok


def test_bad_issue_requests(ed_signer, node_store):
    with pytest.raises(ConnectorError, match="needs the issuer DID"):
        issue_credential(node_store, "did:example:m", "X", {}, "ldp")
    with pytest.raises(ConnectorError, match="unknown credential format"):
        issue_credential(ed_signer, "did:example:m", "X", {}, "xml")
    with pytest.raises(ConnectorError, match="not a DID"):
        issue_credential(ed_signer, "bob", "X", {}, "ldp")
    with pytest.raises(ConnectorError, match="subject id"):
        issue_credential(ed_signer, "did:example:m", "X", {"id": "did:example:other"}, "ldp")
