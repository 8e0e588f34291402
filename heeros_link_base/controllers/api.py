"""The Link's integration API: declarations, authentication, errors, paging.

Every endpoint is declared once with :func:`endpoint`: its method and path,
its parameters, its request body and its responses as JSON Schema. The same
declaration registers the Odoo route, checks and converts the parameters
before the handler runs, and becomes the endpoint's entry in the OpenAPI
document served at ``/heeros_link/api/v1/openapi.json`` (see
:func:`openapi_document`), so the document cannot drift from what the
controllers do.

Authentication is Odoo's own: ``Authorization: Bearer <API key>`` of a user
(Preferences → Account Security → New API key). The handler then runs as
that user with all his allowed companies; his groups and Odoo's record rules
decide what he sees and may do. Nothing a client sends (query, header, body)
widens that.
"""

import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg2 import errors as pg_errors
from werkzeug.exceptions import HTTPException

from odoo import http
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError
from odoo.http import request

_logger = logging.getLogger(__name__)

API_PREFIX = "/heeros_link/api/v1"
API_VERSION = "1.0.0"
#: Largest page a client may ask for, and the page size when it asks for none.
MAX_PAGE = 1000
DEFAULT_PAGE = 100
#: Requests per minute and API key when ``heeros_link.api_rate_limit`` is not set.
DEFAULT_RATE_LIMIT = 600
RATE_WINDOW = 60
#: Database errors Odoo answers by running the request again in a new transaction
#: (a conflict; a write in a read-only one: then read-write).
RETRIED_BY_ODOO = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
    pg_errors.ReadOnlySqlTransaction,
)


# ----------------------------------------------------------------------
# declarations
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One query, path or header parameter: ``schema`` is its JSON Schema."""

    name: str
    where: str = "query"
    schema: dict = field(default_factory=lambda: {"type": "string"})
    description: str = ""
    required: bool = False


@dataclass
class Endpoint:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    module: str
    params: tuple = ()
    response: dict | None = None
    status: int = 200
    raw_response: bool = False
    body: dict | None = None
    group: str = "heeros_link_base.group_link_user"
    description: str = ""
    errors: tuple = (400, 401, 403, 404, 429)

    @property
    def route(self):
        """The Odoo route of :attr:`path` (``{id}`` becomes ``<int:id>``)."""
        route = self.path
        for param in self.params:
            if param.where == "path":
                converter = "int" if param.schema.get("type") == "integer" else "string"
                route = route.replace("{%s}" % param.name, f"<{converter}:{param.name}>")
        return API_PREFIX + route


#: ``{operation id: Endpoint}`` of every declared endpoint (all addons).
ENDPOINTS = {}
#: Named JSON Schemas (``#/components/schemas/<name>``).
SCHEMAS = {}


def schema(name, definition):
    """Register a named schema; returns a ``$ref`` to it."""
    SCHEMAS[name] = definition
    return ref(name)


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(item_schema):
    """The schema of one page of a list endpoint."""
    return {
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": item_schema},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to get the next page; null on the last page.",
            },
        },
        "additionalProperties": False,
    }


COMPANY = Param(
    "company",
    schema={"type": "integer"},
    description="Only this company's records (one of the key owner's allowed companies).",
)
LIMIT = Param(
    "limit",
    schema={"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
    description="Records per page.",
)
CURSOR = Param("cursor", description="`next_cursor` of the previous page.")
PAGED = (COMPANY, LIMIT, CURSOR)

schema(
    "Error",
    {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
    },
)

ERROR_TEXT = {
    400: "The request is malformed: a parameter or the body is not what the endpoint expects.",
    401: "No API key, or one that is unknown, revoked or expired.",
    403: "The key's user may not do this, or not for that company.",
    404: "No such record.",
    409: "The record's state does not allow this, or the Idempotency-Key was used for another request.",
    413: "The body is larger than the limit of the connection or of the Link.",
    415: "The body's content type cannot carry a file (a url-encoded form).",
    429: "Too many requests with this key: wait for Retry-After seconds.",
}


def endpoint(method, path, *, summary, tag, params=(), response=None, status=200, **options):
    """Declare and route one API endpoint.

    The handler is called as ``handler(self, args)`` where ``args`` holds the
    converted parameters (missing optional ones as ``None``) and returns the
    JSON value of the response, or an ``http.Response`` when ``raw_response``.
    """

    def decorator(func):
        declared = Endpoint(
            method=method,
            path=path,
            operation_id=func.__name__,
            summary=summary,
            tag=tag,
            module=func.__module__.split(".")[2],
            params=tuple(params),
            response=response,
            status=status,
            description=(func.__doc__ or "").strip(),
            **options,
        )
        ENDPOINTS[declared.operation_id] = declared

        def handler(self, **kwargs):
            return _serve(declared, func, self, kwargs)

        # not functools.wraps: Odoo reads the route's parameters from the
        # signature it finds, and the handler takes them all
        handler.__name__, handler.__doc__ = func.__name__, func.__doc__

        return http.route(
            declared.route,
            type="http",
            auth="none",
            methods=[method],
            csrf=False,
            save_session=False,
            # read/write even for GET: every request is counted against its
            # key's rate limit in the database (in a transaction of its own)
            readonly=False,
        )(handler)

    return decorator


# ----------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------
class ApiError(Exception):
    """An answer other than success: HTTP status, a stable code and a text."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def json_response(value, status=200, headers=None):
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    response = request.make_response(
        body, headers=[("Content-Type", "application/json; charset=utf-8"), *(headers or {}).items()]
    )
    response.status_code = status
    return response


def error_response(status, code, message, headers=None):
    return json_response({"error": {"code": code, "message": message}}, status, headers)


# ----------------------------------------------------------------------
# rate limit
# ----------------------------------------------------------------------
def rate_wait(env, bucket, limit, now=None):
    """Count one request of ``bucket`` (an API key) in the current window of
    :data:`RATE_WINDOW` seconds, shared by every server process through the
    database; returns 0 when allowed, else the seconds to wait."""
    if limit <= 0:
        return 0
    now = time.time() if now is None else now
    window = int(now // RATE_WINDOW)
    if env["heeros.link.api.rate"].sudo()._link_hit(bucket, window) <= limit:
        return 0
    return max(1, int((window + 1) * RATE_WINDOW - now) + 1)


# ----------------------------------------------------------------------
# serving one request
# ----------------------------------------------------------------------
def _bearer_key():
    header = request.httprequest.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def _authenticate():
    """The id of the API key's user (401 when there is none) after the rate limit."""
    key = _bearer_key()
    unauthorized = {"WWW-Authenticate": 'Bearer realm="Heeros Link"'}
    if not key:
        raise ApiError(401, "unauthorized", "Send an API key: Authorization: Bearer <key>.", unauthorized)
    uid = request.env["res.users.apikeys"].sudo()._check_credentials(scope="rpc", key=key)
    if not uid:
        raise ApiError(401, "unauthorized", "The API key is unknown, revoked or expired.", unauthorized)
    param = request.env["ir.config_parameter"].sudo().get_param("heeros_link.api_rate_limit")
    limit = int(param) if param not in (None, False, "") else DEFAULT_RATE_LIMIT
    wait = rate_wait(request.env, f"{uid}:{key[:8]}", limit)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"More than {limit} requests a minute with this key; try again in {wait} seconds.",
            {"Retry-After": str(wait)},
        )
    return uid


def _convert(param, raw):
    kind = param.schema.get("type")
    try:
        if kind == "integer":
            value = int(raw)
            if "minimum" in param.schema and value < param.schema["minimum"]:
                raise ValueError
            if "maximum" in param.schema and value > param.schema["maximum"]:
                raise ValueError
            return value
        if kind == "boolean":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return raw.lower() in ("true", "1")
        if param.schema.get("format") == "date-time":
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if value.tzinfo:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, "bad_parameter", f"{param.name}: {raw!r} is not {_expected(param)}.") from None
    if "enum" in param.schema and raw not in param.schema["enum"]:
        raise ApiError(400, "bad_parameter", f"{param.name}: {raw!r} is not one of {', '.join(param.schema['enum'])}.")
    return raw


def _expected(param):
    if param.schema.get("format") == "date-time":
        return "an ISO 8601 date and time"
    kind = param.schema.get("type")
    if kind == "integer":
        bounds = [f">= {param.schema['minimum']}" if "minimum" in param.schema else ""]
        bounds.append(f"<= {param.schema['maximum']}" if "maximum" in param.schema else "")
        return " ".join(["an integer", *[b for b in bounds if b]])
    return f"a {kind}"


def _arguments(declared, path_values):
    args = {}
    source = request.httprequest
    for param in declared.params:
        if param.where == "path":
            args[param.name] = path_values[param.name]
            continue
        raw = source.args.get(param.name) if param.where == "query" else source.headers.get(param.name)
        if raw in (None, ""):
            if param.required:
                raise ApiError(400, "missing_parameter", f"{param.name} is required.")
            args[param.name] = param.schema.get("default")
            continue
        args[param.name] = _convert(param, raw)
    if "company" in args and args["company"] is not None:
        if args["company"] not in request.env.user.company_ids.ids:
            raise ApiError(403, "forbidden_company", f"Company {args['company']} is not one of your companies.")
    return args


def _serve(declared, func, controller, path_values):
    """Authenticate, check, call the handler and answer in JSON, whatever happens."""
    try:
        uid = _authenticate()
        request.update_env(user=uid)
        user = request.env.user
        # all his companies allowed, his main company first (the env's company)
        companies = [user.company_id.id, *(user.company_ids - user.company_id).ids]
        request.update_context(allowed_company_ids=companies, lang=user.lang or "en_US")
        if declared.group and not user.has_group(declared.group):
            raise ApiError(403, "forbidden", "Your user is not in the group this endpoint needs.")
        args = _arguments(declared, path_values)
        result = func(controller, args)
        if declared.raw_response:
            return result
        status, headers = declared.status, {}
        if isinstance(result, Answer):
            status, headers, result = result.status, result.headers, result.value
        return json_response(result, status, headers)
    except RETRIED_BY_ODOO:
        raise
    except ApiError as exc:
        _rollback()
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except (AccessError, AccessDenied):
        _rollback()
        return error_response(
            403,
            "forbidden",
            "Your user may not do this: the record belongs to a company you have no access to, "
            "or your groups do not allow it.",
        )
    except MissingError as exc:
        _rollback()
        return error_response(404, "not_found", _text(exc))
    except (UserError, ValidationError) as exc:
        _rollback()
        return error_response(409, "refused", _text(exc))
    except HTTPException as exc:
        _rollback()
        return error_response(exc.code or 400, "http_error", exc.description or str(exc))
    except Exception:
        _logger.exception("Link API %s %s failed", declared.method, declared.path)
        _rollback()
        return error_response(500, "internal_error", "The Link could not answer; the error is in its server log.")


def _rollback():
    if request.env and request.env.cr:
        request.env.cr.rollback()


def _text(exc):
    return str(exc.args[0]) if exc.args else str(exc)


@dataclass
class Answer:
    """A handler's JSON value with a status or headers other than the declared."""

    value: object
    status: int = 200
    headers: dict = field(default_factory=dict)


# ----------------------------------------------------------------------
# paging
# ----------------------------------------------------------------------
def encode_cursor(last_id):
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor):
    if not cursor:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = value["after"]
        if not isinstance(after, int) or after < 0:
            raise ValueError
        return after
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ApiError(400, "bad_parameter", "cursor: not a cursor this API returned.") from None


def paged(model, domain, args, serialize):
    """One page of ``model`` records matching ``domain`` in ascending id
    order: new records always come after the last page a client has seen,
    so paging through never skips or repeats one."""
    if args.get("company"):
        domain = [*domain, ("company_id", "=", args["company"])]
    after = decode_cursor(args.get("cursor"))
    if after:
        domain = [*domain, ("id", ">", after)]
    limit = args.get("limit") or DEFAULT_PAGE
    records = model.search(domain, order="id", limit=limit + 1)
    page = records[:limit]
    return {
        "data": serialize(page),
        "next_cursor": encode_cursor(page[-1].id) if len(records) > limit else None,
    }


def get_record(model, record_id):
    """The record ``record_id`` of ``model`` as the user may read it: 404 when
    it does not exist, 403 when it belongs to a company he has no access to."""
    record = model.browse(record_id).exists()
    if not record:
        raise ApiError(404, "not_found", f"{model._description} {record_id} does not exist.")
    record.check_access("read")
    return record


def iso(value):
    """A datetime or date as ISO 8601 (datetimes in UTC), or None."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


# ----------------------------------------------------------------------
# the OpenAPI document
# ----------------------------------------------------------------------
def openapi_document(installed, server_url=""):
    """The OpenAPI 3.1 document of the endpoints of the ``installed`` addons."""
    paths = {}
    for declared in sorted(ENDPOINTS.values(), key=lambda e: (e.path, e.method)):
        if declared.module not in installed:
            continue
        operation = {
            "operationId": declared.operation_id,
            "summary": declared.summary,
            "tags": [declared.tag],
            "responses": _responses(declared),
        }
        if declared.description:
            operation["description"] = declared.description
        if declared.params:
            operation["parameters"] = [
                {
                    "name": param.name,
                    "in": param.where,
                    "required": param.required or param.where == "path",
                    "schema": param.schema,
                    **({"description": param.description} if param.description else {}),
                }
                for param in declared.params
            ]
        if declared.body:
            operation["requestBody"] = declared.body
        paths.setdefault(declared.path, {})[declared.method.lower()] = operation
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Heeros Link API",
            "version": API_VERSION,
            "description": "Messages, bank statements, balances, e-invoices and payments of the Link. "
            "Authenticate with an Odoo API key: `Authorization: Bearer <key>`. Use HTTPS.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(SCHEMAS.items())),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "An Odoo API key."}},
        },
        "security": [{"apiKey": []}],
    }
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/") + API_PREFIX}]
    return document


def _responses(declared):
    success = {"description": "Success"}
    if declared.raw_response:
        success["content"] = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        success["headers"] = {
            "X-Content-SHA256": {"description": "SHA-256 of the body, hex.", "schema": {"type": "string"}},
        }
    elif declared.response is not None:
        success["content"] = {"application/json": {"schema": declared.response}}
    responses = {str(declared.status): success}
    for status in sorted({*declared.errors, 401, 429, 500}):
        responses[str(status)] = {
            "description": ERROR_TEXT.get(status, "The Link could not answer."),
            "content": {"application/json": {"schema": ref("Error")}},
        }
        if status == 429:
            responses[str(status)]["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
    return responses
