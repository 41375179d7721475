"""What the verifier accepts from a credential service, offline (did:key holders and issuers)."""

from __future__ import annotations

import pytest

from connector.auth.verifier import CallerVerifier, StaticTrustAnchors
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.jose import issue_vp_jwt
from connector.identity.keys import generate_key
from connector.identity.proofs import VC_V2, issue_presentation
from connector.identity.resolver import DidResolver
from connector.identity.service import issue_credential
from connector.identity.verification import utcnow


def signer() -> Signer:
    return Signer.for_did_key(generate_key("Ed25519"))


@pytest.fixture
def parties():
    holder, issuer, me = signer(), signer(), signer()
    verifier = CallerVerifier(me, DidResolver(None), None, None, StaticTrustAnchors([]))  # type: ignore[arg-type]
    return holder, issuer, me, verifier


def vp_jwt(credentials, holder: Signer, audience: str) -> str:
    return issue_vp_jwt({"@context": [VC_V2], "type": ["VerifiablePresentation"],
                         "verifiableCredential": credentials}, holder, audience=audience)


async def refused(verifier: CallerVerifier, presentation, caller: str, words: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        await verifier.verify_presentation(presentation, caller, utcnow())
    assert caught.value.reason is Reason.UNAUTHORIZED and words in str(caught.value)


async def test_jwt_and_ld_presentations_yield_their_credentials(parties):
    holder, issuer, me, verifier = parties
    jwt = issue_credential(issuer, holder.did, ["MembershipCredential"], {"level": 1}, "jwt")
    ldp = issue_credential(issuer, holder.did, ["MembershipCredential"], {"level": 2}, "ldp")
    found, ttl = await verifier.verify_presentation(vp_jwt([jwt, ldp], holder, me.did), holder.did, utcnow())
    assert [c["credentialSubject"]["level"] for c in found] == [1, 2] and 0 < ttl <= 60
    ld = issue_presentation([ldp], holder, domain=me.did)
    found, _ = await verifier.verify_presentation(ld, holder.did, utcnow())
    assert found[0]["credentialSubject"]["id"] == holder.did


async def test_presentations_for_others_or_by_others_are_refused(parties):
    holder, issuer, me, verifier = parties
    vc = issue_credential(issuer, holder.did, ["MembershipCredential"], {}, "jwt")
    await refused(verifier, vp_jwt([vc], holder, "did:web:other.example"), holder.did, "audience")
    await refused(verifier, issue_presentation([vc], holder, domain="did:web:other.example"),
                  holder.did, "domain")
    thief = signer()
    await refused(verifier, vp_jwt([vc], thief, me.did), thief.did, "another subject")
    await refused(verifier, vp_jwt([vc], holder, me.did), thief.did, "not signed by the caller")
    await refused(verifier, vc, holder.did, "neither a vp+jwt nor a VC-JWT 1.1 presentation")


async def test_a_credential_about_someone_else_is_refused(parties):
    holder, issuer, me, verifier = parties
    vc = issue_credential(issuer, "did:web:victim.example", ["MembershipCredential"], {}, "jwt")
    await refused(verifier, vp_jwt([vc], holder, me.did), holder.did, "another subject")
