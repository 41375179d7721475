"""W3C Data Integrity (eddsa-rdfc-2022, ecdsa-rdfc-2019 on P-256 and P-384) and
Ed25519Signature2018: the specifications' test vectors, and our own proofs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from connector.errors import ConnectorError
from connector.identity.did import Signer
from connector.identity.keys import generate_key
from connector.identity.ldp import _options_nquads, canonical_strict, issue_ldp, verify_ldp
from connector.identity.proofs import issue_presentation, verify_presentation
from connector.identity.suites import DATA_INTEGRITY, hash_data

VECTORS = Path(__file__).with_name("vectors")
SIGNED = ["eddsa-rdfc-2022", "ecdsa-rdfc-2019-p256", "ecdsa-rdfc-2019-p384", "ed25519signature2020"]
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def vector(name: str) -> dict:
    return json.loads((VECTORS / f"{name}-signed.json").read_text())


def only_the_issuer_differs(result, document: dict) -> bool:
    """The vectors' issuer is an https URL, not the did:key that signed: that binding is the
    one problem a valid vector has."""
    vm = document["proof"]["verificationMethod"].split("#")[0]
    return result.problems == (f"the proof is made with a key of {vm}, but the issuer is {document['issuer']}",)


@pytest.mark.parametrize("name", SIGNED)
async def test_the_specifications_vectors_verify(resolver, name):
    document = vector(name)
    assert only_the_issuer_differs(await verify_ldp(document, resolver), document)


@pytest.mark.parametrize("name", ["eddsa-rdfc-2022", "ecdsa-rdfc-2019-p256", "ecdsa-rdfc-2019-p384"])
def test_the_combined_hash_is_the_vectors(name):
    document = vector(name)
    proof = document.pop("proof")
    curve = "P-384" if name.endswith("p384") else None
    data = hash_data(_options_nquads(proof, document["@context"]), canonical_strict(document), curve)
    assert data.hex() == (VECTORS / f"{name}-combinedHash.txt").read_text().strip()


@pytest.mark.parametrize("name", SIGNED)
@pytest.mark.parametrize("where", ["claim", "proofValue", "created"])
async def test_one_changed_byte_breaks_the_vector(resolver, name, where):
    document = vector(name)
    if where == "claim":
        document["credentialSubject"]["alumniOf"] = "The School of Examplez"
    elif where == "created":
        document["proof"]["created"] = "2023-02-24T23:36:39Z"
    else:
        value = document["proof"]["proofValue"]
        document["proof"]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")
    result = await verify_ldp(document, resolver)
    assert not only_the_issuer_differs(result, document) and not result.ok


CASES = [("eddsa-rdfc-2022", "Ed25519"), ("ecdsa-rdfc-2019", "P-256"), ("ecdsa-rdfc-2019", "P-384"),
         ("Ed25519Signature2018", "Ed25519")]


def credential(issuer: str, version: str) -> dict:
    dates = {"validFrom": "2024-01-01T00:00:00Z"} if version == VC_V2 else {"issuanceDate": "2024-01-01T00:00:00Z"}
    return {"@context": [version], "type": ["VerifiableCredential"], "issuer": issuer,
            "credentialSubject": {"id": "did:example:member"}, **dates}


@pytest.mark.parametrize("suite, crv", CASES)
@pytest.mark.parametrize("version", [VC_V1, VC_V2])
async def test_our_proofs_round_trip(resolver, suite, crv, version):
    signer = Signer.for_did_key(generate_key(crv))
    if suite == "Ed25519Signature2018" and version == VC_V2:  # a VC 1.1 suite: its terms are not in 2.0
        with pytest.raises(ConnectorError, match="not defined by the document's @context"):
            issue_ldp(credential(signer.did, version), signer, suite=suite)
        return
    signed = issue_ldp(credential(signer.did, version), signer, suite=suite)
    # the VC 1.1 context lacks the Data Integrity terms: their context is appended
    assert (DATA_INTEGRITY in signed["@context"]) == (version == VC_V1 and "rdfc" in suite)
    result = await verify_ldp(signed, resolver)
    assert result.ok, result.problems
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["id"] = "did:example:thief"
    assert "does not match" in " ".join((await verify_ldp(tampered, resolver)).problems)


async def test_a_presentation_with_data_integrity_proofs(resolver):
    issuer, holder = Signer.for_did_key(generate_key("P-384")), Signer.for_did_key(generate_key("Ed25519"))
    vc = issue_ldp(credential(issuer.did, VC_V2) | {"credentialSubject": {"id": holder.did}}, issuer,
                   suite="ecdsa-rdfc-2019")
    vp = issue_presentation([vc], holder, challenge="c1", domain="did:web:v", suite="eddsa-rdfc-2022")
    result = await verify_presentation(vp, resolver, challenge="c1", domain="did:web:v")
    assert result.ok, result.problems
    assert not (await verify_presentation(vp, resolver, challenge="c2", domain="did:web:v")).ok


async def test_suites_take_their_own_keys_only(resolver):
    with pytest.raises(ConnectorError, match="needs a P-256 or P-384 key"):
        issue_ldp(credential("did:example:x", VC_V2), Signer.for_did_key(generate_key("Ed25519")),
                  suite="ecdsa-rdfc-2019")
    signer = Signer.for_did_key(generate_key("Ed25519"))
    signed = issue_ldp(credential(signer.did, VC_V2), signer, suite="eddsa-rdfc-2022")
    signed["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"  # a P-256 suite named over an Ed25519 key
    assert "not one that ecdsa-rdfc-2019 takes" in " ".join((await verify_ldp(signed, resolver)).problems)
    signed["proof"]["cryptosuite"] = "bbs-2023"
    assert "DataIntegrityProof with cryptosuite 'bbs-2023'" in (await verify_ldp(signed, resolver)).problems[0]
