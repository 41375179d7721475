"""The node's side of the federation's ledger: verified reads (a light client over any member's
RPC), the registry's members and trust anchors, transactions signed with the node's did:web key
(payments, anchors, proposals, votes). Features ask `LedgerService` (service.py); they never
speak RPC themselves."""
