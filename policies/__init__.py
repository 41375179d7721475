"""ODRL 2.2 policies: parse once (`policies.parse`), compile once (`policies.compile`),
evaluate many times (`policies.evaluate`). See docs/odrl-profile.md."""
