"""Contract negotiation (DSP 2025-1): the state machine, its store and the outbox."""
