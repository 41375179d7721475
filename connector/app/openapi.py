"""The management API's OpenAPI 3.1 document (kept beside the routes; a test checks they agree)."""

from __future__ import annotations

from typing import Any

from connector.catalog import formats

_OBJECT = {"type": "object"}
_PROBLEM = {"description": "problem (RFC 9457)", "content": {"application/problem+json": {"schema": _OBJECT}}}


def _op(summary: str, *, body: dict | None = None, ok: str = "200", params: list | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            ok: {"description": "success"}
            if ok == "204"
            else {"description": "success", "content": {"application/json": {"schema": _OBJECT}}},
            "400": _PROBLEM,
            "401": _PROBLEM,
        },
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    if params:
        operation["parameters"] = params
    return operation


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": {"type": "string"}}


_JSON = {"application/json": {"schema": _OBJECT}}
_CREDENTIAL = {
    "application/json": {"schema": _OBJECT},
    "text/plain": {"schema": {"type": "string", "description": "a compact JWT (vc+jwt / vp+jwt)"}},
}

_IMPORT_TYPES = (*formats.MEDIA_TYPES.values(), "application/json")  # what the import reads
_UPLOAD = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["metadata", "file"],
            "properties": {
                "metadata": {"type": "string", "contentMediaType": "application/json"},
                "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            },
        },
        "encoding": {"metadata": {"contentType": "application/json"}},
    }
}
_publish = _op(
    "Publish a file (in a folder of [catalog] publish_roots) or an http(s) source:"
    " {source, title, description?, keywords?, license?, policy?: open|members|FILE|ODRL object};"
    " or upload the file (multipart: the metadata part, then the file part; stored under data/)",
    body={**_JSON, **_UPLOAD},
    ok="201",
)
_publish["responses"].update({"403": _PROBLEM, "413": _PROBLEM})

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/node": {"get": _op("This node: name, DID, URLs, version")},
    "/api/v1/did": {"get": _op("This node's did:web document")},
    "/api/v1/did/resolve": {"post": _op("Resolve a DID (did:web, did:key)", body=_JSON)},
    "/api/v1/self-description": {
        "get": _op(
            "This node's signed Gaia-X self-description",
            params=[_query("variant", "loire (default, Gaia-X 25.11) or tagus (22.10)")],
        )
    },
    "/api/v1/self-description/validate": {
        "post": _op("Validate a self-description, presentation, credential or JWT", body=_CREDENTIAL)
    },
    "/api/v1/credentials/issue": {"post": _op("Issue a credential to a DID and keep a record", body=_JSON, ok="201")},
    "/api/v1/credentials/verify": {"post": _op("Verify a credential or presentation", body=_CREDENTIAL)},
    "/api/v1/credentials": {
        "get": _op(
            "Credentials held or issued, newest first",
            params=[_query("role", "held or issued"), _query("type", "a credential type"), _query("limit", "1-1000"), _query("offset", "")],
        ),
        "post": _op("Verify and keep a credential issued to this node", body=_CREDENTIAL, ok="201"),
    },
    "/api/v1/credentials/{role}/{id}": {"get": _op("One credential", params=[_path_param("role"), _path_param("id")])},
    "/api/v1/credentials/issued/{id}/revoke": {"post": _op(
        "Revoke a credential this node issued with a status entry (issue with \"status\": true)",
        params=[_path_param("id")])},
    "/api/v1/datasets": {
        "get": _op("The node's datasets", params=[_query("limit", "1-500"), _query("offset", "")]),
        "post": _publish,
    },
    "/api/v1/datasets/{id}": {
        "get": _op("One dataset", params=[_path_param("id")]),
        "patch": _op("Change a dataset's metadata or policy", body=_JSON, params=[_path_param("id")]),
        "delete": _op("Withdraw a dataset (its copied file is deleted)", ok="204", params=[_path_param("id")]),
    },
    "/api/v1/negotiations": {
        "get": _op(
            "Contract negotiations, newest first",
            params=[_query("state", "a DSP state"), _query("role", "PROVIDER or CONSUMER"),
                    _query("pending", "true: only those waiting for our decision, oldest first"), _query("limit", "1-500"), _query("offset", "")],
        ),
        "post": _op("Start a negotiation as consumer: {providerUrl, datasetId, offerId?} (the offer read from the "
                    "provider's catalog) or {providerAddress (its DSP base URL), providerId, datasetId, offer (ODRL)} "
                    "(an offer already held, no catalog read)", body=_JSON, ok="201"),
    },
    "/api/v1/negotiations/{id}": {"get": _op("One negotiation (state, agreementId once agreed, agreementAuthentication: "
                                             "signature or caller-token)", params=[_path_param("id")])},
    "/api/v1/negotiations/{id}/terminate": {"post": _op("Terminate a negotiation", params=[_path_param("id")])},
    "/api/v1/negotiations/{id}/agree": {
        "post": _op(
            "Say yes where it is our turn: agree to a request or an accepted offer (provider), accept an offer or "
            "verify an agreement (consumer), finalize a verified agreement (provider)",
            params=[_path_param("id")],
        )
    },
    "/api/v1/negotiations/{id}/offer": {
        "post": _op(
            "Propose other terms: a provider's counter-offer (default: the dataset's first offer) or a consumer's "
            'counter-request; body {"offer": ODRL_OFFER?}',
            params=[_path_param("id")],
            body=_JSON,
        )
    },
    "/api/v1/jobs": {
        "get": _op(
            "Compute jobs, newest first (default: those run here for others)",
            params=[_query("role", "PROVIDER (default) or CONSUMER"), _query("state", "a job state"), _query("limit", "1-500"), _query("offset", "")],
        )
    },
    "/api/v1/jobs/{id}": {"get": _op("One compute job: state, reason, capped log, resources, receipt", params=[_path_param("id")])},
    "/api/v1/jobs/{id}/result": {
        "get": _op("The result archive (application/x-tar), also while it waits for release", params=[_path_param("id")])
    },
    "/api/v1/jobs/{id}/approve": {"post": _op("Release a result waiting for release (AWAITING_RELEASE)", params=[_path_param("id")])},
    "/api/v1/jobs/{id}/reject": {
        "post": _op('Refuse to release a result; optional body {"reason": SENTENCE}', params=[_path_param("id")], body=_JSON)
    },
    "/api/v1/compute": {
        "post": _op(
            "Run an algorithm at a provider under one of our agreements: "
            "{providerUrl, agreementId, algorithm, kind?: python|sparql, publisherSignature?}",
            body=_JSON,
            ok="201",
        )
    },
    "/api/v1/compute/{id}": {
        "get": _op(
            "Our compute job, refreshed from the provider; the result is downloaded and the receipt verified when it ends",
            params=[_path_param("id"), _query("wait", "seconds (0-30) to wait for a change")],
        )
    },
    "/api/v1/compute/{id}/result": {"get": _op("The verified result archive (application/x-tar)", params=[_path_param("id")])},
    "/api/v1/transfers": {
        "get": _op(
            "Transfer processes, newest first",
            params=[_query("state", "a DSP transfer state"), _query("role", "PROVIDER or CONSUMER"), _query("limit", "1-500"), _query("offset", "")],
        ),
        "post": _op(
            "Ask a provider for a transfer under one of our agreements: "
            "{agreementId, providerUrl? or providerAddress? (its DSP base URL), format?: HttpData-PULL|HttpData-PUSH, "
            "dataAddress? (PUSH), purpose?}",
            body=_JSON,
            ok="201",
        ),
    },
    "/api/v1/transfers/{id}": {"get": _op("One transfer (state; the PULL dataAddress once STARTED)", params=[_path_param("id")])},
    "/api/v1/transfers/{id}/suspend": {"post": _op("Suspend a STARTED transfer", params=[_path_param("id")])},
    "/api/v1/transfers/{id}/start": {
        "post": _op("Start a requested transfer (provider) or resume one we suspended", params=[_path_param("id")])
    },
    "/api/v1/transfers/{id}/complete": {"post": _op("Complete a STARTED transfer", params=[_path_param("id")])},
    "/api/v1/transfers/{id}/terminate": {"post": _op("Terminate a transfer", params=[_path_param("id")])},
    "/api/v1/ledger": {"get": _op("This node's ledger link: chain, proven height, account and balance, registry record")},
    "/api/v1/ledger/members": {"get": _op("The registry's members, each with this node's check of its self-description")},
    "/api/v1/ledger/proposals": {"get": _op("The federation's proposals, each with its tally")},
    "/api/v1/ledger/proposals/{id}/votes": {
        "post": _op('Vote on a proposal: {"option": "yes"|"no"|"abstain"|"veto"}', body=_JSON, ok="201",
                    params=[_path_param("id")])
    },
    "/api/v1/ledger/join": {
        "post": _op('Propose that the federation admits this node: {"deposit": "10com"?, "title"?}', body=_JSON, ok="201")
    },
    "/api/v1/ledger/value": {
        "get": _op("Paid, returned to contributors and curators, extracted (proven)",
                   params=[_query("dataset", "a listed dataset's IRI (default: the federation's total)")])
    },
    "/api/v1/ledger/audit/{agreement}": {
        "get": _op("An agreement checked against its anchor, with its payments, transfers and jobs (proven)",
                   params=[_path_param("agreement")])
    },
    "/api/v1/catalog/import": {
        "post": _op(
            "Import a DCAT / DCAT-AP catalog; the report lists created, updated, unchanged and rejected datasets",
            body={t: {"schema": {"type": "string"}} for t in _IMPORT_TYPES},
        )
    },
}


def document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "communs management API", "version": version},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": PATHS,
    }
