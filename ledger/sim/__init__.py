"""A deterministic simulator of N replicas: seeded delays, drops, duplicates, reordering,
partitions, crashes and restarts, and Byzantine validators; plus the checkers.

    python -m ledger.sim.scenario 0 1000     # sweep seeds; prints every violated property

`world.World` runs the real `consensus.replica.Replica` on in-memory stores (`memory`);
`byzantine` holds the faulty behaviours, `scenario` turns a seed into a run, `checkers` says
what must hold afterwards (agreement, validity, no double signing, evidence, liveness).
"""
