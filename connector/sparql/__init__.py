"""The node's read-only SPARQL 1.1 endpoint over a persistent pyoxigraph store.

Wiring (composition root): open the service in a cleanup context with the node's settings
(`SparqlSettings.of(config.sparql)`), store it under `SPARQL`, add the `public` routes; writers
(catalog, self-description) use `service.store`. Members are recognized through the node's DCP
verifier (`connector.auth.resources.AUTH`) when the app has one.
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
