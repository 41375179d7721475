"""Validate any self-description, VP, VC or JWT file the way the Gaia-X compliance service does:
parse, detect the framework from the namespaces, SHACL over the whole presentation as one
graph, then the non-SHACL checks (compliance.py). Problems are collected, never raised.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any

from rdflib import Graph

from connector.identity.resolver import DidResolver
from connector.identity.verification import utcnow
from connector.selfdescription import compliance, labels, participant, registration
from connector.selfdescription import report as r
from connector.selfdescription.model import NAMESPACES, Framework
from connector.selfdescription.parse import Parsed, ParseProblem, parse
from connector.selfdescription.report import Problem, SelfDescriptionReport
from vocab import jsonld
from vocab.errors import VocabError
from vocab.shacl import ShapesRegistry, ValidationReport, registry

MAX_TRIPLES = 20_000  # a participant VP is ~50 triples; bound the SHACL work


def detect_framework(graph: Graph) -> tuple[Framework | None, list[Framework]]:
    """The framework whose gx namespace the graph uses most, and every one it uses."""
    counts: Counter[Framework] = Counter()
    for triple in graph:
        for term in triple:
            text = str(term)
            for framework, ns in NAMESPACES.items():
                if text.startswith(ns):
                    counts[framework] += 1
    used = [f for f, _ in counts.most_common()]
    return (used[0] if used else None), used


def _shacl_problems(result: ValidationReport) -> list[Problem]:
    return [
        Problem(r.SHACL, x.message, x.focus_node, x.path, x.source_shape, x.severity)
        for x in result.results
    ]


async def validate_self_description(
    doc_or_text: str | bytes | dict[str, Any],
    resolver: DidResolver | None = None,
    *,
    now: datetime | None = None,
    verify_signatures: bool = True,
    shapes: ShapesRegistry | None = None,
) -> SelfDescriptionReport:
    """A report (never an exception) for a VP, VC, vp+jwt, vc+jwt or bare JSON-LD document.

    Without a resolver only did:key signatures can be checked (did:web ones are reported
    as unverifiable); verify_signatures=False skips the signature step altogether.
    """
    now = now or utcnow()
    try:
        parsed = parse(doc_or_text)
    except ParseProblem as exc:
        return SelfDescriptionReport((Problem(exc.check, str(exc)),))
    try:
        graph = await asyncio.to_thread(_graph, parsed)
    except VocabError as exc:
        problem = Problem(r.JSON_LD, str(exc))
        return SelfDescriptionReport((problem,), None, len(parsed.credentials))
    except RecursionError:
        problem = Problem(r.INPUT, "the document is nested too deeply to process")
        return SelfDescriptionReport((problem,), None, len(parsed.credentials))
    except Exception as exc:  # noqa: BLE001 - pyld fails in odd ways on odd input: still a value
        problem = Problem(
            r.JSON_LD, f"the document cannot be read as JSON-LD ({type(exc).__name__})"
        )
        return SelfDescriptionReport((problem,), None, len(parsed.credentials))
    count = len(parsed.credentials)
    if len(graph) == 0:
        empty = Problem(
            r.JSON_LD,
            "the document holds no RDF statements (no @context, or a legacy"
            " `selfDescriptionCredential` wrapper)",
        )
        return SelfDescriptionReport((empty,), None, count)
    if len(graph) > MAX_TRIPLES:
        big = Problem(r.INPUT, f"the document has more than {MAX_TRIPLES} RDF statements")
        return SelfDescriptionReport((big,), None, count)
    framework, used = detect_framework(graph)
    problems: list[Problem] = []
    shacl_report: ValidationReport | None = None
    if framework is None:
        problems.append(
            Problem(r.FRAMEWORK, "the document uses no Gaia-X vocabulary (Tagus or Loire)")
        )
    else:
        if len(used) > 1:
            names = ", ".join(str(f) for f in used)
            problems.append(Problem(r.FRAMEWORK, f"the document mixes Gaia-X namespaces ({names})"))
        shape_registry = shapes or registry()
        try:
            shacl_report = await asyncio.to_thread(shape_registry.validate, graph, framework.value)
            problems += _shacl_problems(shacl_report)
        except Exception as exc:  # noqa: BLE001 - pySHACL refusing the data is a finding too
            problems.append(Problem(r.SHACL, f"SHACL validation could not run: {exc}"))
        problems += participant.participant_problems(graph, parsed, framework)
        problems += compliance.required_problems(graph, framework, now)
        problems += registration.registration_problems(graph, framework)
        problems += labels.label_problems(graph, framework)
    problems += compliance.country_problems(graph)
    problems += compliance.did_problems(parsed)
    if framework in (Framework.LOIRE, Framework.LOIRE_DEVELOPMENT):
        problems += compliance.identifier_problems(parsed)  # a 25.11 rule, not a 22.10 one
    problems += compliance.expiry_problems(parsed, now)
    if verify_signatures:
        problems += await compliance.signature_problems(
            parsed, resolver or compliance.OfflineResolver(), now
        )
    return SelfDescriptionReport(
        tuple(_dedupe(problems)), framework.value if framework else None, count, shacl_report
    )


def _graph(parsed: Parsed) -> Graph:
    return jsonld.to_graph(parsed.document)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Signature verification repeats the date checks: keep each sentence once."""
    seen: set[str] = set()
    kept: list[Problem] = []
    for p in problems:
        key = p.message.split(": ", 1)[-1] if p.check in (r.SIGNATURE, r.EXPIRY) else None
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        kept.append(p)
    return kept
