"""The SPARQL runner: runs inside the sandbox as the job itself, never in the node.

Started as `main.py QUERY_FILE SITE` (SITE: the folder holding pyoxigraph, read-only), it
loads every RDF file under $COMMUNS_INPUT into an in-memory pyoxigraph store, runs the
query in QUERY_FILE and writes result.srj (SELECT, ASK: SPARQL JSON results) or result.nt
(CONSTRUCT, DESCRIBE: N-Triples) under $COMMUNS_OUTPUT. Updates are refused. When a query
is refused or cannot run, the exit code says which of REASONS applies (that is what the
consumer reads) and one line on stderr says more for the provider's log: it may quote the
dataset (a parser's error on a file of it, say), so it never reaches the consumer.
"""

import os
import re
import sys

UPDATE, NOT_UTF8, NOT_SPARQL, NO_RDF, BAD_RDF, CANNOT_RUN = 2, 3, 4, 5, 6, 7
REASONS = {
    UPDATE: "the query was refused: SPARQL updates are not allowed, "
    "only SELECT, ASK, CONSTRUCT and DESCRIBE",
    NOT_UTF8: "the query is not UTF-8 text",
    NOT_SPARQL: "the query is not valid SPARQL",
    NO_RDF: "the dataset holds no RDF file that the SPARQL runner can read",
    BAD_RDF: "a file of the dataset is not valid RDF",
    CANNOT_RUN: "the query could not run",
}
_UPDATE = re.compile(
    r"^\s*(?:(?:PREFIX\s+\S*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*"
    r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
    re.IGNORECASE,
)


def refuse(code: int, detail: str = "") -> None:
    sys.stderr.write(REASONS[code] + (f": {detail}" if detail else "") + "\n")
    sys.exit(code)


def without_comments(query: str) -> str:
    # Good enough to find the first keyword: '#' inside an IRI or a string is rare before it.
    return "\n".join(
        line.split("#", 1)[0] if "<" not in line else line for line in query.splitlines()
    )


def load_dataset(store, root: str) -> int:
    from pyoxigraph import RdfFormat

    formats = {
        "ttl": RdfFormat.TURTLE,
        "nt": RdfFormat.N_TRIPLES,
        "nq": RdfFormat.N_QUADS,
        "trig": RdfFormat.TRIG,
        "n3": RdfFormat.N3,
        "rdf": RdfFormat.RDF_XML,
        "owl": RdfFormat.RDF_XML,
        "jsonld": RdfFormat.JSON_LD,
    }  # by extension, explicitly: pyoxigraph's own guess takes .txt for N-Triples
    loaded = 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            fmt = formats.get(ext)
            if fmt is None:
                continue  # not RDF: CSV files and the like sit next to the graphs
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            try:
                store.load(path=path, format=fmt, base_iri="file:///input/" + rel)
            except (SyntaxError, ValueError) as exc:
                refuse(BAD_RDF, f"{rel}: {exc}")
            loaded += 1
    return loaded


def main() -> None:
    query_file, site = sys.argv[1], sys.argv[2]
    sys.path.insert(0, site)
    from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store

    try:
        with open(query_file, encoding="utf-8") as f:
            query = f.read()
    except UnicodeDecodeError:
        refuse(NOT_UTF8)
    if _UPDATE.match(without_comments(query)):
        refuse(UPDATE)
    store = Store()
    if load_dataset(store, os.environ["COMMUNS_INPUT"]) == 0:
        refuse(NO_RDF)
    try:
        results = store.query(query, use_default_graph_as_union=True)
    except SyntaxError as exc:
        refuse(NOT_SPARQL, str(exc))
    out = os.environ["COMMUNS_OUTPUT"]
    try:  # results are lazy: the query really runs while they are written
        if isinstance(results, (QuerySolutions, QueryBoolean)):
            results.serialize(os.path.join(out, "result.srj"), QueryResultsFormat.JSON)
        else:
            results.serialize(os.path.join(out, "result.nt"), RdfFormat.N_TRIPLES)
    except (OSError, RuntimeError, ValueError) as exc:  # e.g. a SERVICE call: there is no network
        refuse(CANNOT_RUN, str(exc))


if __name__ == "__main__":
    main()
