"""A local federation on one machine: N organizations, each with its connector and its
validator, started as child processes on loopback (`communs federation up|status|down`)."""
