"""The consensus engine, sans IO.

- `core`: the algorithm of "The latest gossip on BFT consensus" (one height at a time);
- `votes`, `timeouts`: weighted vote tallies and per-round timeouts;
- `execution`: chain state, building/validating/applying blocks through the ABCI-shaped app;
- `evidence`: equivocation evidence, its verification and pool;
- `replica`: a whole node minus IO (gossip, WAL replay, block sync, evidence), driven by the
  simulator (`ledger.sim`) and by the real node (`ledger.node`) alike;
- `messages`, `views`, `ports`: wire messages, JSON views, and what storage must provide.
"""
