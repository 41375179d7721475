"""The node's own signed self-descriptions, built on first use and re-signed well before expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from connector.config import NodeConfig
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.resolver import DidResolver
from connector.identity.verification import utcnow
from connector.selfdescription.model import Framework, Participant
from connector.selfdescription.report import SelfDescriptionReport
from connector.selfdescription.service import SelfDescription, build_self_description
from connector.selfdescription.validate import validate_self_description
from vocab.jsonld import to_nquads

RESIGN_AFTER = timedelta(days=7)
VARIANTS = {"loire": Framework.LOIRE, "tagus": Framework.TAGUS}


def participant_of(config: NodeConfig, did: str) -> Participant | None:
    """Who the node says it is; None until its country and registration number are configured."""
    if not config.country or not config.registration_number:
        return None
    return Participant.of(config.name, did, config.country, config.registration_number, config.public_url)


def framework_of(variant: str) -> Framework:
    try:
        return VARIANTS[variant]
    except KeyError:
        raise ConnectorError(Reason.BAD_INPUT, f"the variant {variant!r} must be one of {', '.join(VARIANTS)}") from None


class SelfDescriptions:
    def __init__(self, participant: Participant | None, signer: Signer) -> None:
        self._participant = participant
        self._signer = signer
        self._built: dict[Framework, SelfDescription] = {}

    def get(self, framework: Framework) -> SelfDescription:
        if self._participant is None:
            raise ConnectorError(
                Reason.NOT_FOUND,
                "this node has no self-description: set [node] country and registration_number in communs.toml",
            )
        built = self._built.get(framework)
        if built is None or utcnow() - built.issued > RESIGN_AFTER:
            built = build_self_description(self._participant, self._signer, framework=framework)
            self._built[framework] = built
        return built

    async def check(self, resolver: DidResolver) -> list[SelfDescriptionReport]:
        """Validate every variant as a verifier would: a node must not publish what fails."""
        reports = []
        for framework in VARIANTS.values():
            body = self.get(framework).body()
            reports.append(await validate_self_description(body, resolver))
        failed = [r for r in reports if not r.conforms]
        if failed:
            first = next(p for p in failed[0].problems if p.severity == "Violation")
            raise ConnectorError(
                Reason.INVALID_SELF_DESCRIPTION,
                f"the node's own self-description does not validate ({failed[0].framework}): {first.message}",
            )
        return reports


    def graph_iri(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/self-description"

    def rdf(self, framework: Framework = Framework.LOIRE) -> str | None:
        """The self-description's claims as N-Triples, for the SPARQL store (None if unset).

        One pyld call over all credentials keeps blank-node labels (addresses) distinct."""
        if self._participant is None:
            return None
        return to_nquads(list(self.get(framework).credentials.values()))


async def preload_shapes() -> None:
    """Parse (or load from the disk cache) the Gaia-X shapes off the event loop."""
    from vocab.shacl import registry

    await asyncio.gather(
        *(asyncio.to_thread(registry().get, f.value) for f in (Framework.LOIRE, Framework.TAGUS))
    )
