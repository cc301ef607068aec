"""In-test stand-ins for the two HTTP log stores that cannot be installed here.

:class:`LokiStore` implements Grafana Loki's push API contract: ``POST /loki/api/v1/push`` with
``Content-Type: application/json`` (``415`` otherwise), an optional ``Content-Encoding: gzip``,
a body ``{"streams": [{"stream": {labels}, "values": [["<ns>", "<line>"], ...]}]}`` (``400`` with
Loki's wording when malformed: a non-string or non-numeric timestamp, a stream without labels,
an invalid label name), ``401`` without the configured auth, ``X-Scope-OrgID`` for the tenant,
``204`` on success, and Loki's de-duplication of an entry identical to one the stream has.

:class:`BulkStore` implements the Elasticsearch/OpenSearch ``_bulk`` contract: NDJSON with
``Content-Type: application/x-ndjson`` or ``application/json`` (``406`` otherwise), the body
ending with a newline (``400 illegal_argument_exception`` otherwise), optional gzip, ``create``
(``409 version_conflict_engine_exception`` when the id exists) and ``index`` actions, ``200``
with ``errors`` and one item per action in order, and per-item failures a test programs
(``429 es_rejected_execution_exception``, ``400 document_parsing_exception``).

Both can be told to fail whole requests (``fail_next``) with a status and ``Retry-After``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class _Store:
    def __init__(self, auth: Callable[[], str | None] | None = None) -> None:
        self.auth = auth
        """Returns the Authorization header value required now (None: no auth)."""
        self.fail_next: list[tuple[int, str | None]] = []
        self.requests = 0
        self.encodings: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, app: web.Application) -> None:
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _body(self, request: web.Request) -> bytes | web.Response:
        self.requests += 1
        if self.auth is not None:
            wanted = self.auth()
            if wanted is not None and request.headers.get("Authorization") != wanted:
                return web.Response(status=401, text="authentication required\n")
        if self.fail_next:
            status, retry_after = self.fail_next.pop(0)
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.Response(status=status, text=f"injected {status}\n", headers=headers)
        self.encodings.append(request.headers.get("Content-Encoding", ""))
        return await request.read()  # aiohttp undoes Content-Encoding: gzip, as the stores do


class LokiStore(_Store):
    """``POST /loki/api/v1/push``; entries by stream in :attr:`streams`."""

    def __init__(self, auth: Callable[[], str | None] | None = None, tenant: str | None = None):
        super().__init__(auth)
        self.tenant = tenant
        self.streams: dict[tuple[tuple[str, str], ...], list[tuple[int, str]]] = {}
        self.duplicates = 0

    async def start(self) -> None:  # type: ignore[override]
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/loki/api/v1/push", self.push)
        await super().start(app)

    def lines(self) -> list[str]:
        return [line for entries in self.streams.values() for _, line in entries]

    async def push(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        if self.tenant is not None and request.headers.get("X-Scope-OrgID") != self.tenant:
            return web.Response(status=401, text="no org id\n")
        if request.content_type != "application/json":
            return web.Response(
                status=415, text=f"unsupported Content-Type {request.content_type!r}\n"
            )
        try:
            payload = json.loads(body)
            streams = payload["streams"]
            parsed = []
            for stream in streams:
                labels = stream["stream"]
                if not labels:
                    raise ValueError("error at least one label pair is required per stream")
                for name, value in labels.items():
                    if not _LABEL.match(name) or not isinstance(value, str):
                        raise ValueError(f"error parsing labels: invalid label name {name!r}")
                entries = []
                for entry in stream["values"]:
                    stamp, line = entry[0], entry[1]
                    if (
                        not isinstance(stamp, str)
                        or not stamp.isdigit()
                        or not isinstance(line, str)
                    ):
                        raise ValueError("loghttp: timestamp must be a string of unix nanoseconds")
                    entries.append((int(stamp), line))
                parsed.append((tuple(sorted(labels.items())), entries))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            return web.Response(status=400, text=f"{exc}\n")
        for key, entries in parsed:
            have = self.streams.setdefault(key, [])
            seen = set(have[-10000:])
            for entry in entries:
                if entry in seen:
                    self.duplicates += 1  # Loki ignores an identical entry
                    continue
                have.append(entry)
        return web.Response(status=204)


class BulkStore(_Store):
    """``POST /_bulk``; documents by index and id in :attr:`docs`, in arrival order."""

    def __init__(
        self,
        auth: Callable[[], str | None] | None = None,
        item_fault: Callable[[dict[str, Any], int], int | None] | None = None,
    ) -> None:
        super().__init__(auth)
        self.item_fault = item_fault
        """(document, attempt number for its id) -> a status to fail that item with, or None."""
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.order: list[tuple[str, str]] = []
        self.attempts: dict[str, int] = {}
        self.conflicts = 0

    async def start(self) -> None:  # type: ignore[override]
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/_bulk", self.bulk)
        app.router.add_post("/{index}/_bulk", self.bulk)
        await super().start(app)

    def messages(self) -> list[str]:
        return [self.docs[key]["message"] for key in self.order]

    async def bulk(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        if request.content_type not in ("application/x-ndjson", "application/json"):
            return web.json_response(
                {
                    "error": f"Content-Type header [{request.content_type}] is not supported",
                    "status": 406,
                },
                status=406,
            )
        if not body.endswith(b"\n"):
            return web.json_response(
                {
                    "error": {
                        "type": "illegal_argument_exception",
                        "reason": "The bulk request must be terminated by a newline [\\n]",
                    },
                    "status": 400,
                },
                status=400,
            )
        lines = body.decode("utf-8").split("\n")[:-1]
        items: list[dict[str, Any]] = []
        errors = False
        default_index = request.match_info.get("index")
        for at in range(0, len(lines), 2):
            action = json.loads(lines[at])
            op, meta = next(iter(action.items()))
            doc = json.loads(lines[at + 1])
            index = meta.get("_index", default_index)
            doc_id = meta.get("_id") or f"auto-{len(self.docs)}"
            attempt = self.attempts[doc_id] = self.attempts.get(doc_id, 0) + 1
            fault = self.item_fault(doc, attempt) if self.item_fault else None
            if fault is not None:
                kind = (
                    "es_rejected_execution_exception"
                    if fault == 429
                    else "document_parsing_exception"
                )
                items.append(
                    {
                        op: {
                            "_index": index,
                            "_id": doc_id,
                            "status": fault,
                            "error": {"type": kind, "reason": "injected"},
                        }
                    }
                )
                errors = True
                continue
            key = (index, doc_id)
            if op == "create" and key in self.docs:
                self.conflicts += 1
                items.append(
                    {
                        op: {
                            "_index": index,
                            "_id": doc_id,
                            "status": 409,
                            "error": {
                                "type": "version_conflict_engine_exception",
                                "reason": f"[{doc_id}]: version conflict, document already exists (current version [1])",
                            },
                        }
                    }
                )
                errors = True
                continue
            if key not in self.docs:
                self.order.append(key)
            self.docs[key] = doc
            items.append(
                {
                    op: {
                        "_index": index,
                        "_id": doc_id,
                        "_version": 1,
                        "result": "created",
                        "status": 201,
                    }
                }
            )
        return web.json_response({"took": 1, "errors": errors, "items": items})
