"""DCP scopes and the offline message schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.auth.schemas import QUERY, RESPONSE, problems
from connector.auth.scopes import ID_ALIAS, TYPE_ALIAS, Scope, parse_scope
from connector.errors import ConnectorError

EXAMPLES = Path("/work/shared/specs/dcp/v1.0/presentation/example")
CONTEXT = ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"]


@pytest.mark.parametrize("text, scope", [
    ("org.eclipse.dspace.dcp.vc.type:MembershipCredential:read", Scope(TYPE_ALIAS, "MembershipCredential")),
    ("org.eclipse.dspace.dcp.vc.type:MembershipCredential", Scope(TYPE_ALIAS, "MembershipCredential")),
    ("org.eclipse.edc.vc.type:MembershipCredential:*", Scope(TYPE_ALIAS, "MembershipCredential")),
    ("org.eclipse.dspace.dcp.vc.id:urn:uuid:42:read", Scope(ID_ALIAS, "urn:uuid:42")),
    ("org.eclipse.dspace.dcp.vc.id:urn:uuid:42", Scope(ID_ALIAS, "urn:uuid:42")),
])
def test_scopes_are_read_with_or_without_the_access_suffix(text, scope):
    assert parse_scope(text) == scope
    assert parse_scope(str(scope)) == scope


@pytest.mark.parametrize("text", ["", "MembershipCredential", "org.example.alias:X",
                                  "org.eclipse.dspace.dcp.vc.type:", "org.eclipse.dspace.dcp.vc.type:a b"])
def test_unknown_or_malformed_scopes_are_bad_input(text):
    with pytest.raises(ConnectorError, match="scope"):
        parse_scope(text)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared DCP examples are not here")
def test_the_upstream_examples_are_valid():
    for name in ("presentation-query-message", "presentation-query-message-w-presentation-definition"):
        assert problems(QUERY, json.loads((EXAMPLES / f"{name}.json").read_text())) == []
    for name in ("presentation-response-message", "presentation-response-message-w-presentation-submission"):
        assert problems(RESPONSE, json.loads((EXAMPLES / f"{name}.json").read_text())) == []


@pytest.mark.parametrize("message, words", [
    ({"@context": CONTEXT, "type": "PresentationQueryMessage"}, "any of"),
    ({"@context": CONTEXT, "type": "PresentationQueryMessage", "scope": []}, "less than 1 item"),
    ({"@context": ["https://example.org/ctx"], "type": "PresentationQueryMessage", "scope": ["a"]}, "@context"),
    ({"@context": CONTEXT, "type": "PresentationResponseMessage", "scope": ["a"]}, "type"),
    ({"@context": CONTEXT, "type": "PresentationQueryMessage", "presentationDefinition": {}}, "input_descriptors"),
    ([], "object"),
])
def test_invalid_queries_are_named(message, words):
    found = problems(QUERY, message)
    assert found and any(words in p for p in found)
