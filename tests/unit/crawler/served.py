"""A federation member served on loopback by the crawler's tests: a DID document, a (not
valid) self-description, a DSP catalog with one members-only dataset (one page, or paged with
ETags), and a DCAT export paged two datasets a page. Tests change its datasets between crawls."""

from __future__ import annotations

import hashlib

from aiohttp import web

from connector.crawler.members import MemberRecord, Registry
from connector.identity.did import did_web_from_url

DSP = "https://w3id.org/dspace/2025/1/context.jsonld"
NT = "application/n-triples"


class Member:
    """What one member serves; tests change it between crawls."""

    def __init__(self) -> None:
        self.titles = {"a": "Air", "b": "Bikes", "c": "Canals"}
        self.hidden = {"m": "Members only"}  # in the DSP catalog only
        self.url = ""
        self.requests: list[str] = []
        self.dsp_page = 0  # datasets per DSP catalog page, with ETags; 0: one page, no ETag
        self.dsp_requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.etags = False  # whether the DCAT export's pages carry ETags
        self.export_requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)

    @property
    def did(self) -> str:
        return did_web_from_url(self.url)

    def app(self) -> web.Application:
        app = web.Application()

        async def did(request: web.Request) -> web.Response:
            return web.json_response({"@context": "https://www.w3.org/ns/did/v1", "id": self.did,
                                      "service": [{"id": "#dsp", "type": "DataService",
                                                   "serviceEndpoint": f"{self.url}/dsp"}]})

        async def selfdesc(request: web.Request) -> web.Response:
            return web.Response(text="not.a-valid.self-description", content_type="application/vp+jwt")

        async def version(request: web.Request) -> web.Response:
            return web.json_response({"protocolVersions": [{"version": "2025-1", "path": "/dsp"}]})

        async def dsp(request: web.Request) -> web.Response:
            self.dsp_requests.append((request.path_qs, request.headers.get("If-None-Match")))
            datasets = [{"@id": f"{self.url}/d/{k}", "@type": "Dataset", "dct:title": t}
                        for k, t in sorted({**self.titles, **self.hidden}.items())]
            if not self.dsp_page:
                return web.json_response({"@context": [DSP], "@id": f"{self.url}/catalog",
                                          "@type": "Catalog", "dataset": datasets})
            offset, size = int(request.query.get("offset", "0")), self.dsp_page
            window = datasets[offset:offset + size]
            tag = '"' + hashlib.sha256(repr((window, len(datasets))).encode()).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=412, headers={"ETag": tag})
            headers = {"ETag": tag}
            if offset + size < len(datasets):
                headers["Link"] = f'<{self.url}/dsp/catalog/request?offset={offset + size}&limit={size}>; rel="next"'
            return web.json_response({"@context": [DSP], "@id": f"{self.url}/catalog",
                                      "@type": "Catalog", "dataset": window}, headers=headers)

        async def catalog(request: web.Request) -> web.Response:
            self.requests.append(request.path_qs)
            offset = int(request.query.get("offset", "0"))
            keys = sorted(self.titles)[offset:offset + 2]
            tag = '"' + hashlib.sha256(repr(([(k, self.titles[k]) for k in keys], len(self.titles)))
                                       .encode()).hexdigest()[:16] + '"'
            self.export_requests.append((request.path_qs, request.headers.get("If-None-Match")))
            if self.etags and request.headers.get("If-None-Match") == tag:
                return web.Response(status=304, headers={"ETag": tag})
            body = "".join(f'<{self.url}/d/{k}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                           f'<http://www.w3.org/ns/dcat#Dataset> .\n<{self.url}/d/{k}> '
                           f'<http://purl.org/dc/terms/title> "{self.titles[k]}" .\n' for k in keys)
            headers = {"ETag": tag} if self.etags else {}
            if offset + 2 < len(self.titles):
                headers["Link"] = f'<{self.url}/catalog?offset={offset + 2}&limit=2>; rel="next"'
            return web.Response(text=body, content_type=NT, headers=headers)

        app.router.add_get("/.well-known/did.json", did)
        app.router.add_get("/self-description", selfdesc)
        app.router.add_get("/.well-known/dspace-version", version)
        app.router.add_post("/dsp/catalog/request", dsp)
        app.router.add_get("/catalog", catalog)
        return app


def registry(*members: Member, status: str = "member") -> Registry:
    return Registry(7, tuple(MemberRecord(m.did, m.url, "0" * 64, status, False) for m in members))
