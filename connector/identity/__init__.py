"""Identity: keys, DIDs (did:web, did:key), DID resolution, and verifiable credentials.

keys (key store), did (identifiers, documents, Signer), resolver (DidResolver), ldp and proofs
(VC 1.1 Linked-Data proofs, presentations), jose (VC 2.0 vc+jwt / vp+jwt), verification (the
Verification result), service (issue / verify use cases for the CLI and API).
"""
