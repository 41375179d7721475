"""The offline loader: bundled contexts only, and each use gets an untouched copy."""

from __future__ import annotations

import pytest

from vocab import jsonld
from vocab.errors import VocabError, VocabReason
from vocab.loader import bundled_urls, load_context


def test_every_bundled_url_loads():
    for url in bundled_urls():
        assert "@context" in load_context(url), url


def test_a_remote_context_is_refused_by_name_never_fetched():
    with pytest.raises(VocabError) as caught:
        jsonld.expand({"@context": "https://attacker.example/ctx.jsonld", "name": "x"})
    assert caught.value.reason is VocabReason.UNBUNDLED_CONTEXT
    assert "https://attacker.example/ctx.jsonld" in str(caught.value)


def test_a_context_imported_by_another_stays_usable_on_its_own():
    # pyld rewrites an @import-ed context in place; a shared cached object broke later uses
    with_import = {
        "@context": "https://w3id.org/dspace/2025/1/context.jsonld",
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:1",
    }
    direct = {
        "@context": "https://w3id.org/dspace/2025/1/odrl-profile.jsonld",
        "@type": "Offer",
        "@id": "urn:offer:1",
        "permission": [{"action": "use"}],
    }
    assert jsonld.expand(with_import)
    expanded = jsonld.expand(direct)
    assert expanded[0]["@type"] == ["http://www.w3.org/ns/odrl/2/Offer"]


def test_malformed_json_is_a_clear_error():
    with pytest.raises(VocabError) as caught:
        jsonld.parse_json("{not json")
    assert caught.value.reason is VocabReason.MALFORMED_JSONLD


def test_invalid_jsonld_is_a_clear_error():
    with pytest.raises(VocabError) as caught:
        jsonld.expand({"@context": {"@version": 2.0}, "a": 1})
    assert caught.value.reason is VocabReason.MALFORMED_JSONLD
    # the error did not poison the loader
    assert jsonld.expand({"@context": "https://www.w3.org/ns/did/v1", "id": "did:example:1", "controller": "did:example:2"})
