"""GraphQL-over-HTTP layer of the emulator: the same wire format, auth and limits as Cato.

Thin on purpose: it authenticates, applies limits and faults, and runs the document against
the domain resolvers inside one store transaction. Operator controls live under ``/_emulator``.
"""

from __future__ import annotations

import asyncio
import gzip
import hmac
import json
from functools import lru_cache
from typing import Any

import orjson
import yaml
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_named_type,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..schema import subset_schema
from . import domains  # noqa: F401  (registers resolvers)
from .context import PERMISSION_DENIED, RequestContext
from .execution import FastExecutionContext
from .fixtures import parse as parse_fixture
from .fixtures import seed
from .limits import PER_POLICY, Fault, FaultPlan, RateLimitConfig, RateLimiter
from .registry import MUTATION, QUERY, Root, field_resolver
from .store import Identity, Store

GRAPHQL_PATH = "/api/v1/graphql2"
# Queries whose answers move with the clock, not only with the state: never served from the cache.
CLOCK_QUERIES = ("auditFeed", "eventsFeed", "accountMetrics", "socketPortMetrics", "xdr")
_INTROSPECTION = ("__schema", "__type")  # counted under the default limit, as any unlisted operation


def emulator_schema(variant: str | None = None) -> GraphQLSchema:
    """The schema subset, or a named variant of it (``schema_spec.yaml`` ``variants``)."""
    if variant is None:
        return subset_schema()
    from .schema_gen import variant_schema

    return variant_schema(variant)


def _error(message: str, status: int = 200, **extensions: Any) -> JSONResponse:
    err: dict[str, Any] = {"message": message}
    if extensions:
        err["extensions"] = extensions
    return JSONResponse({"errors": [err], "data": None}, status_code=status)


class DocumentError(Exception):
    def __init__(self, errors: list[GraphQLError]) -> None:
        self.errors = errors


# By schema, not by emulator: a process that starts many emulators (a test worker) parses and
# validates each client's few documents once, not once per emulator. Schemas are cached objects
# (subset_schema, variant_schema), and a parsed document is only ever read.
@lru_cache(maxsize=1024)
def _checked_document(schema: GraphQLSchema, source: str) -> DocumentNode:
    try:
        doc = parse(source)
    except GraphQLError as e:
        raise DocumentError([e]) from None
    errors = validate(schema, doc)
    if errors:
        raise DocumentError(errors)
    return doc


class Emulator:
    """State (store), limits and faults of one emulator instance, plus its ASGI app."""

    def __init__(
        self,
        db: str = ":memory:",
        *,
        rate_limits: RateLimitConfig | None = None,
        operator_token: str | None = None,
        operator_open: bool = True,
        schema_variant: str | None = None,
    ) -> None:
        """``operator_token``: the ``/_emulator/`` endpoints (seed, reset, UI changes, faults...) then
        need ``Authorization: Bearer <token>``. Without one they are open only if ``operator_open``
        (the server passes False when it listens on a non-loopback address)."""
        self.operator_token = operator_token or None
        self.operator_open = operator_open
        self.store = Store(db)
        self.limiter = RateLimiter(rate_limits)
        self.faults = FaultPlan()
        self.schema = emulator_schema(schema_variant)
        self.schema_variant = schema_variant
        self.calls: dict[str, int] = {}
        self._version = 0
        self._answers: dict[tuple, bytes] = {}  # encoded replies of reads, by _answer_key
        self.app = Starlette(
            routes=[
                Route(GRAPHQL_PATH, self._graphql, methods=["POST"]),
                Route("/_emulator/health", self._health, methods=["GET"]),
                Route("/_emulator/seed", self._operator(self._seed), methods=["POST"]),
                Route("/_emulator/reset", self._operator(self._reset), methods=["POST"]),
                Route("/_emulator/ui/{account_id}", self._operator(self._ui), methods=["POST"]),
                Route("/_emulator/faults", self._operator(self._faults), methods=["GET", "POST", "DELETE"]),
                Route("/_emulator/ratelimits", self._operator(self._ratelimits), methods=["GET", "POST"]),
                Route("/_emulator/stats", self._operator(self._stats), methods=["GET", "DELETE"]),
                Route("/_emulator/clock", self._operator(self._clock), methods=["POST"]),
                Route(
                    "/_emulator/monitoring/{account_id}/{action}",
                    self._operator(self._monitoring),
                    methods=["GET", "POST"],
                ),
            ]
        )

    # -- documents ----------------------------------------------------------------------------
    def _parse(self, source: str) -> DocumentNode:
        return _checked_document(self.schema, source)

    def operation_names(self, doc: DocumentNode, operation_name: str | None) -> tuple[str, list[str]]:
        """The operation type and the Cato operation names a document calls.

        Cato counts limits per operation: a root field, or the leaf of a namespace such as
        ``policy { internetFirewall { publishPolicyRevision } }``.
        """
        op_type, calls = self.operation_calls(doc, operation_name)
        return op_type, [name for name, _ in calls]

    def operation_calls(
        self, doc: DocumentNode, operation_name: str | None
    ) -> tuple[str, list[tuple[str, str]]]:
        """Like :meth:`operation_names`, with the bucket each call's limit is counted in: the name,
        or ``<policy>.<name>`` for limits Cato counts per policy (publishPolicyRevision)."""
        ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
        op = (
            next((o for o in ops if o.name and o.name.value == operation_name), None)
            if operation_name
            else None
        )
        op = op or (ops[0] if ops else None)
        if op is None:
            return "query", []
        root = self.schema.mutation_type if op.operation == OperationType.MUTATION else self.schema.query_type
        calls: list[tuple[str, str]] = []

        def walk(selection_set, parent: GraphQLObjectType, path: tuple[str, ...]) -> None:
            for sel in selection_set.selections:
                if isinstance(sel, FieldNode) and parent is root and sel.name.value in _INTROSPECTION:
                    calls.append((sel.name.value, sel.name.value))  # introspection is a call like any other
                    continue
                if not isinstance(sel, FieldNode) or sel.name.value not in parent.fields:
                    continue
                t = get_named_type(parent.fields[sel.name.value].type)
                if (
                    isinstance(t, GraphQLObjectType)
                    and t.name.endswith(("Queries", "Mutations"))
                    and sel.selection_set
                ):
                    walk(sel.selection_set, t, (*path, sel.name.value))
                else:
                    name = sel.name.value
                    per_policy = name in PER_POLICY and len(path) >= 2 and path[0] == "policy"
                    calls.append((name, f"{path[1]}.{name}" if per_policy else name))

        walk(op.selection_set, root, ())
        return op.operation.value, calls

    # -- GraphQL endpoint ----------------------------------------------------------------------
    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if request.headers.get("content-encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ValueError("request body must be a JSON object with a 'query' string")
        return body

    async def _graphql(self, request: Request) -> Response:
        key = request.headers.get("x-api-key")
        if not key:
            return _error("Unauthorized: missing x-api-key header", 401, code="UNAUTHENTICATED")
        identity = self.store.identity_for_key(key)
        if identity is None:
            return _error("Unauthorized: invalid API key", 401, code="UNAUTHENTICATED")
        return await self._run(request, identity)

    async def _ui(self, request: Request) -> Response:
        """Run a document as an admin "in the UI": how tests make out-of-band human changes."""
        account_id = request.path_params["account_id"]
        admin = request.query_params.get("admin", "")
        identity = self.store.admin_identity(account_id, admin)
        if identity is None:
            return _error(f"no admin {admin!r} on account {account_id}; add it to the fixture's admins", 400)
        return await self._run(request, identity, count=False)

    async def _run(self, request: Request, identity: Identity, count: bool = True) -> Response:
        try:
            body = await self._body(request)
        except (ValueError, OSError) as e:
            return _error(f"bad request: {e}", 400)
        try:
            doc = self._parse(body["query"])
        except DocumentError as e:
            errors = [
                {**err.formatted, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for err in e.errors
            ]
            return JSONResponse({"errors": errors, "data": None})
        op_type, calls = self.operation_calls(doc, body.get("operationName"))
        names = [n for n, _ in calls]
        if count:
            for n in names:
                self.calls[n] = self.calls.get(n, 0) + 1
            for n, bucket in calls:
                wait = self.limiter.check(identity.account_id, n, bucket)
                if wait is not None:
                    msg = f"rate limit for operation: {n}. Please try again later"
                    if self.limiter.config.status == 429:
                        return JSONResponse(
                            {"errors": [{"message": msg}], "data": None},
                            status_code=429,
                            headers={"Retry-After": str(max(1, round(wait)))},
                        )
                    return JSONResponse({"errors": [{"message": msg, "path": [n]}], "data": None})
        faults = self.faults.firing(names) if count else []
        for f in faults:
            if f.kind == "latency":
                await asyncio.sleep(f.delay)
            elif f.kind == "http_error":
                return _error(f.message, f.status)
            elif f.kind == "reset":
                return DropConnection()
            elif f.kind == "fail":
                return JSONResponse({"errors": [{"message": f.message, "path": names[:1]}], "data": None})
        if op_type == "mutation" and identity.read_only:
            # A key with View permission runs queries only; Cato refuses its mutations whatever
            # their arguments, before looking anything up.
            denied = {
                "message": PERMISSION_DENIED,
                "path": names[:1],
                "extensions": {"code": "PERMISSION_DENIED"},
            }
            return JSONResponse({"errors": [denied], "data": None})
        # Reads of unchanged state are answered from a cache of the encoded reply: the answer depends
        # only on the state version, the caller (private policy revisions) and the document. Feeds and
        # metrics depend on the clock too, so they are never cached. A hit is served on the event loop:
        # no worker thread, no GraphQL execution, no JSON encoding.
        key = self._answer_key(body, identity) if op_type == "query" else None
        reply = self._answers.get(key) if key is not None else None
        if reply is None:
            reply = await asyncio.to_thread(self._execute, doc, body, identity, op_type, key)
        if any(f.kind == "timeout_after_commit" for f in faults):
            await asyncio.sleep(max(f.delay for f in faults if f.kind == "timeout_after_commit"))
            return DropConnection()
        return Response(reply, media_type="application/json")

    def _answer_key(self, body: dict[str, Any], identity: Identity) -> tuple | None:
        query = body["query"]
        if any(q in query for q in CLOCK_QUERIES):
            return None
        variables = body.get("variables")
        return (self._version, identity, query, json.dumps(variables, sort_keys=True) if variables else None,
                body.get("operationName"))  # fmt: skip

    def _execute(
        self, doc: DocumentNode, body: dict[str, Any], identity: Identity, op_type: str, key: tuple | None
    ) -> bytes:
        with self.store.lock:
            ctx = RequestContext(self.store, identity, self.store.now())
            root = Root(MUTATION if op_type == "mutation" else QUERY)
            self.store.execute("BEGIN IMMEDIATE")
            try:
                res = execute(
                    self.schema,
                    doc,
                    root_value=root,
                    context_value=ctx,
                    variable_values=body.get("variables") or {},
                    operation_name=body.get("operationName"),
                    field_resolver=field_resolver,
                    execution_context_class=FastExecutionContext,
                )
            except BaseException:
                self.store.execute("ROLLBACK")
                raise
            # A mutation that errors changes nothing: Cato applies a mutation whole or not at all.
            if op_type == "mutation" and res.errors:
                self.store.execute("ROLLBACK")
            else:
                self.store.execute("COMMIT")
            if op_type == "mutation":
                self.state_changed()
        out: dict[str, Any] = {"data": res.data}
        if res.errors:
            out["errors"] = [_format_error(e) for e in res.errors]
        reply = _encode(out)
        if key is not None:
            with self.store.lock:  # writers of the cache take the lock; the event loop only reads it
                # A key of an older version is never asked for again: state_changed() bumped it.
                if key[0] == self._version:
                    if len(self._answers) >= 64:
                        self._answers.pop(next(iter(self._answers)))
                    self._answers[key] = reply
        return reply

    def state_changed(self) -> None:
        """Forget cached answers: called after every write, seed, reset and clock change."""
        with self.store.lock:
            self._version += 1
            self._answers.clear()

    # -- operator controls ----------------------------------------------------------------------
    def _operator(self, handler):
        """Guard an operator endpoint: it can rewrite the account, so outside loopback it needs a token."""

        async def guarded(request: Request) -> Response:
            if self.operator_token is not None:
                given = request.headers.get("authorization", "")
                scheme, _, token = given.partition(" ")
                if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), self.operator_token):
                    return _error(
                        "operator endpoints need the operator token: send 'Authorization: Bearer <token>' "
                        "(EmulatorControl(token=...) or CATOIAC_EMULATOR_TOKEN)",
                        401,
                    )
            elif not self.operator_open:
                return _error(
                    "operator endpoints are off: the emulator listens on a non-loopback address and was "
                    "started without an operator token (catoiac emulator serve --operator-token, or "
                    "CATOIAC_EMULATOR_TOKEN)",
                    403,
                )
            return await handler(request)

        return guarded

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def _seed(self, request: Request) -> Response:
        raw = (await request.body()).decode()
        try:
            fixture = parse_fixture(raw) or {}
            await asyncio.to_thread(self.seed, fixture)
        except (ValueError, KeyError, TypeError, yaml.YAMLError, GraphQLError) as e:
            return _error(f"seed failed: {e}", 400)
        return JSONResponse({"ok": True})

    def seed(self, fixture: dict[str, Any]) -> None:
        seed(self.store, fixture)
        self.state_changed()

    async def _reset(self, request: Request) -> Response:
        await asyncio.to_thread(self.reset)
        return JSONResponse({"ok": True})

    def reset(self) -> None:
        with self.store.lock:
            for table in ("accounts", "api_keys", "admins", "entities", "audit", "counters", "meta"):
                self.store.execute(f"DELETE FROM {table}")
        self.limiter.reset()
        self.faults.clear()
        self.calls.clear()
        self.state_changed()

    async def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            spec = await request.json()
            try:
                self.faults.add(Fault(**spec))
            except (TypeError, ValueError) as e:
                return _error(f"bad fault: {e}", 400)
        return JSONResponse({"faults": self.faults.describe()})

    async def _ratelimits(self, request: Request) -> Response:
        cfg = self.limiter.config
        if request.method == "POST":
            spec = await request.json()
            for k in ("enabled", "window_seconds", "status", "storm_remaining"):
                if k in spec:
                    setattr(cfg, k, spec[k])
            cfg.limits.update(spec.get("limits", {}))
            for op, windows in (spec.get("long_limits") or {}).items():
                cfg.long_limits[op] = [(int(n), float(seconds)) for n, seconds in windows]
            self.limiter.reset()
        return JSONResponse(
            {
                "enabled": cfg.enabled,
                "window_seconds": cfg.window_seconds,
                "status": cfg.status,
                "limits": cfg.limits,
                "long_limits": cfg.long_limits,
            }
        )

    async def _stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.calls.clear()
        return JSONResponse({"calls": dict(self.calls), "total": sum(self.calls.values())})

    async def _monitoring(self, request: Request) -> Response:
        """Monitoring faults and injections: POST down, impair, restore, event, story; GET conditions."""
        account_id, action = request.path_params["account_id"], request.path_params["action"]
        try:
            spec = await request.json() if request.method == "POST" else {}
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            result = await asyncio.to_thread(self.monitor, account_id, action, spec)
        except (ValueError, KeyError, TypeError) as e:
            return _error(f"monitoring {action}: {e}", 400)
        return JSONResponse(result)

    def monitor(self, account_id: str, action: str, spec: dict[str, Any]) -> Any:
        from .domains import monitoring

        with self.store.transaction():
            if not self.store.account_exists(account_id):
                raise ValueError(f"no account {account_id}")
            operator = Identity("admin", "emulator-operator", "emulator operator", account_id)
            result = monitoring.operate(RequestContext(self.store, operator, self.store.now()), action, spec)
        self.state_changed()
        return result

    async def _clock(self, request: Request) -> Response:
        spec = await request.json()
        self.store.advance_clock(float(spec.get("advance", 0)))
        self.state_changed()
        return JSONResponse({"now": self.store.now().isoformat()})


class DropConnection(Response):
    """Starts a reply and hangs up mid-body: the client sees a reset connection.

    uvicorn closes the transport when an app returns without completing its response."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})


def _encode(content: Any) -> bytes:
    """Compact UTF-8 JSON, as starlette's JSONResponse renders it. orjson writes a 1 MB policy in a
    tenth of json's time; what it refuses (integers beyond 64 bits, non-string keys) goes to json."""
    try:
        return orjson.dumps(content)
    except TypeError:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode()


def _format_error(err: GraphQLError) -> dict[str, Any]:
    out = err.formatted
    if err.original_error is not None and not isinstance(err.original_error, GraphQLError):
        # Internal faults must not leak Python details, as Cato's don't leak Java ones.
        out = {**out, "message": "internal error"}
    if out.get("message") == PERMISSION_DENIED:
        out.pop("locations", None)
    return out
