"""The federated catalog: the members from the ledger's registry, their DID documents,
self-descriptions, DSP catalogs and DCAT exports, one named graph per source with its
provenance, served as one SPARQL endpoint and one paged DCAT-AP export.

Modules: config (the [crawler] table), members (the registry, verified), fetch (bounded HTTP),
rdf (documents to N-Triples, offline contexts only), sources (what one member serves), graphs
(graph names and provenance), store (embedded pyoxigraph or an external SPARQL 1.1 store),
state (what the last crawl saw), crawl (one crawl), report, schedule (the service a node
runs), routes and export (HTTP), cli (`communs crawl`)."""
