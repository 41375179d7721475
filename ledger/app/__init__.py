"""The ledger's application: accounts, signed transactions and the native token, as an ABCI
application over a versioned Merkle store (`ledger.app.store`). Modelled on the Cosmos SDK
(auth, bank, distribution of fees), with our own code: small pure modules, one concern each."""
