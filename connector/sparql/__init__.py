"""The node's read-only SPARQL 1.1 endpoint over a persistent pyoxigraph store.

Wiring (composition root): open the service in a cleanup context, store it under `SPARQL`,
add the `public` routes; writers (catalog, self-description) use `service.store`.
"""

from connector.sparql.engine import Limits
from connector.sparql.routes import public
from connector.sparql.service import SPARQL, SparqlService, SparqlSettings, open_sparql
from connector.sparql.share import Share
from connector.sparql.store import RdfStore

__all__ = [
    "SPARQL",
    "Limits",
    "RdfStore",
    "Share",
    "SparqlService",
    "SparqlSettings",
    "open_sparql",
    "public",
]
