"""`communs demo`: a narrated scenario played against a running local federation, through the
same CLI commands and management APIs a user would run (see docs/demo.md)."""
