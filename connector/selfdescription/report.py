"""The outcome of validating a self-description: a value with a human and a JSON rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocab.shacl import ValidationReport

# check names (closed set: tests, the CLI and the API rely on them)
INPUT = "input"  # malformed JSON / JWT, too large, not an object
JSON_LD = "json-ld"  # malformed JSON-LD or an unbundled remote @context
FRAMEWORK = "framework"  # no (or mixed) Gaia-X vocabulary
SHACL = "shacl"
PROOF_MISSING = "proof-missing"
SIGNATURE = "signature"
DID_CONSISTENCY = "did-consistency"
IDENTIFIERS = "identifiers"
COUNTRY_CODE = "country-code"
REQUIRED_CREDENTIAL = "required-credential"
TERMS = "terms-and-conditions"
EXPIRY = "expiry"
PARTICIPANT = "participant"  # no participant credential, wrong class, not the holder, no name
REGISTRATION_NUMBER = "registration-number"  # format or check digits
LABEL = "label-criteria"  # a label's criteria not all confirmed


@dataclass(frozen=True)
class Problem:
    check: str
    message: str
    focus_node: str | None = None
    path: str | None = None
    shape: str | None = None
    severity: str = "Violation"

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "message": self.message,
            "focusNode": self.focus_node,
            "path": self.path,
            "shape": self.shape,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class SelfDescriptionReport:
    problems: tuple[Problem, ...]
    framework: str | None = None
    credentials: int = 0
    shacl: ValidationReport | None = None

    @property
    def conforms(self) -> bool:
        return not any(p.severity == "Violation" for p in self.problems)

    def checks(self) -> set[str]:
        return {p.check for p in self.problems}

    def by_check(self, check: str) -> list[Problem]:
        return [p for p in self.problems if p.check == check]

    def to_json(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "framework": self.framework,
            "credentials": self.credentials,
            "problems": [p.to_json() for p in self.problems],
        }

    def render(self) -> str:
        """A few readable lines: the verdict, then one line per problem."""
        what = f"{self.framework or 'unknown framework'}, {self.credentials} credential(s)"
        verdict = "conforms" if self.conforms else "does NOT conform"
        lines = [f"Self-description {verdict} ({what})"]
        for p in self.problems:
            where = " ".join(
                part
                for part in (
                    f"at {_short(p.focus_node)}" if p.focus_node else "",
                    f"path {_short(p.path)}" if p.path else "",
                )
                if part
            )
            mark = "x" if p.severity == "Violation" else "!"
            lines.append(f"  {mark} [{p.check}] {p.message}" + (f" ({where})" if where else ""))
        return "\n".join(lines)


_PREFIXES = {
    "https://w3id.org/gaia-x/2511#": "gx:",
    "https://w3id.org/gaia-x/development#": "gx:",
    "https://registry.lab.gaia-x.eu/development/api/trusted-shape-registry/v1/shapes/jsonld/trustframework#": "gx:",
    "https://www.w3.org/2018/credentials#": "cred:",
    "https://schema.org/": "schema:",
    "http://www.w3.org/2006/vcard/ns#": "vcard:",
}


def _short(iri: str) -> str:
    for ns, prefix in _PREFIXES.items():
        if iri.startswith(ns):
            return prefix + iri[len(ns) :]
    return iri if len(iri) <= 90 else iri[:60] + "…" + iri[-20:]
