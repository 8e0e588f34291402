"""API endpoints of the message log: list, read, payload, actions, upload."""

import hashlib
import json

from odoo import http
from odoo.http import request

from ..models.link_message import COMMON_STATES, IN_STATES, OUT_STATES
from .api import (
    PAGED,
    Answer,
    ApiError,
    Param,
    endpoint,
    get_record,
    json_response,
    openapi_document,
    page_of,
    paged,
    schema,
)

STATES = [code for code, _label in OUT_STATES + IN_STATES + COMMON_STATES]
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
MESSAGE_ID = Param("message_id", "path", {"type": "integer"}, "Id of the message.")
#: Longest Idempotency-Key kept.
MAX_KEY = 255

MESSAGE = schema(
    "Message",
    {
        "type": "object",
        "required": ["id", "name", "direction", "document_type", "company_id", "state", "sha256", "size"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "description": "The Link's reference of the message."},
            "direction": {"enum": ["in", "out"]},
            "document_type": {"type": ["string", "null"], "description": "camt.053, pain.001, finvoice, ..."},
            "company_id": {"type": "integer"},
            "connection_id": {"type": ["integer", "null"]},
            "file_name": {"type": ["string", "null"]},
            "sha256": {"type": ["string", "null"], "description": "SHA-256 of the payload, hex."},
            "size": {"type": "integer"},
            "external_ref": {"type": ["string", "null"]},
            "state": {"enum": STATES},
            "error": {"type": ["string", "null"]},
            "attempts": {"type": "integer"},
            "parent_id": {"type": ["integer", "null"]},
            "duplicate_of_id": {"type": ["integer", "null"]},
            "created_at": DATE_TIME,
            "changed_at": DATE_TIME,
            "processed_at": NULLABLE_TIME,
            "next_attempt_at": NULLABLE_TIME,
            "records": {
                "type": "array",
                "description": "Business records the message produced or came from.",
                "items": {
                    "type": "object",
                    "required": ["model", "id", "role"],
                    "properties": {
                        "model": {"type": "string"},
                        "id": {"type": "integer"},
                        "role": {"enum": ["source", "result"]},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
)


class LinkMessageApi(http.Controller):
    @endpoint(
        "GET",
        "/messages",
        summary="List messages",
        tag="Messages",
        params=(
            *PAGED,
            Param("direction", schema={"enum": ["in", "out"]}),
            Param("type", description="Document type code (camt.053, finvoice, ...)."),
            Param("state", schema={"enum": STATES}),
            Param("date_from", schema=DATE_TIME, description="Created at or after."),
            Param("date_to", schema=DATE_TIME, description="Created before."),
            Param("changed_since", schema=DATE_TIME, description="Changed at or after."),
        ),
        response=page_of(MESSAGE),
    )
    def heeros_link_api_messages(self, args):
        """Messages of the key owner's companies, oldest first. New messages
        arrive after the last page, so paging with `next_cursor` sees each
        message once."""
        domain = []
        for name, field_name, operator in (
            ("direction", "direction", "="),
            ("type", "document_type", "="),
            ("state", "state", "="),
            ("date_from", "create_date", ">="),
            ("date_to", "create_date", "<"),
            ("changed_since", "write_date", ">="),
        ):
            if args[name] is not None:
                domain.append((field_name, operator, args[name]))
        Message = request.env["heeros.link.message"]
        return paged(Message, domain, args, lambda page: page._link_api_values())

    @endpoint(
        "GET",
        "/messages/{message_id}",
        summary="One message",
        tag="Messages",
        params=(MESSAGE_ID,),
        response=MESSAGE,
    )
    def heeros_link_api_message(self, args):
        message = get_record(request.env["heeros.link.message"], args["message_id"])
        return message._link_api_values()[0]

    @endpoint(
        "GET",
        "/messages/{message_id}/payload",
        summary="The message's file as it was received or sent",
        tag="Messages",
        params=(MESSAGE_ID,),
        raw_response=True,
    )
    def heeros_link_api_message_payload(self, args):
        """The original bytes, with their content type, and their SHA-256 in
        the `X-Content-SHA256` header."""
        message = get_record(request.env["heeros.link.message"], args["message_id"])
        return payload_response(message)

    @endpoint(
        "POST",
        "/messages/{message_id}/reprocess",
        summary="Process an inbound message again",
        tag="Messages",
        params=(MESSAGE_ID,),
        response=MESSAGE,
        errors=(400, 401, 403, 404, 409, 429),
    )
    def heeros_link_api_message_reprocess(self, args):
        message = get_record(request.env["heeros.link.message"], args["message_id"])
        message.action_reprocess()
        return message._link_api_values()[0]

    @endpoint(
        "POST",
        "/messages/{message_id}/retry",
        summary="Send a failed, rejected or cancelled outbound message again",
        tag="Messages",
        params=(MESSAGE_ID,),
        response=MESSAGE,
        errors=(400, 401, 403, 404, 409, 429),
    )
    def heeros_link_api_message_retry(self, args):
        message = get_record(request.env["heeros.link.message"], args["message_id"])
        message.action_retry()
        return message._link_api_values()[0]

    @endpoint(
        "POST",
        "/messages/{message_id}/cancel",
        summary="Cancel a message that is not done yet",
        tag="Messages",
        params=(MESSAGE_ID,),
        response=MESSAGE,
        errors=(400, 401, 403, 404, 409, 429),
    )
    def heeros_link_api_message_cancel(self, args):
        message = get_record(request.env["heeros.link.message"], args["message_id"])
        message.action_cancel()
        return message._link_api_values()[0]

    @endpoint(
        "POST",
        "/messages",
        summary="Upload a document",
        tag="Messages",
        params=(
            Param("direction", schema={"enum": ["in", "out"]}, required=True),
            Param("company", schema={"type": "integer"}, required=True, description="The document's company."),
            Param("file_name", description="The file's name (default: the name of a multipart file)."),
            Param(
                "document_type",
                description="Outbound only, required there: the type to send (pain.001, finvoice, ...).",
            ),
            Param(
                "connection",
                schema={"type": "integer"},
                description="Inbound: the connection it came through; outbound: the one to send it "
                "through (default: the company's outbound connection).",
            ),
            Param(
                "Idempotency-Key",
                "header",
                schema={"type": "string", "maxLength": MAX_KEY},
                description="Any unique string: the same key with the same request answers the first "
                "answer again and creates nothing; with another request it is refused with 409.",
            ),
        ),
        body={
            "required": True,
            "description": "The file's bytes as they are, with any content type but a form's; or one "
            "file in a multipart form (`curl -F file=@name.xml`).",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        },
        response=MESSAGE,
        status=201,
        errors=(400, 401, 403, 404, 409, 413, 415, 429),
    )
    def heeros_link_api_upload(self, args):
        """An inbound document is stored and processed as if fetched from a
        connection; an outbound one is queued to be sent through a connection.
        The answer is the message in its state after that (`processed`,
        `error`, `duplicate` / `queued`)."""
        env = request.env
        company = env["res.company"].browse(args["company"])
        connection = env["heeros.link.connection"]
        if args["connection"]:
            connection = get_record(connection, args["connection"])
            if company not in connection.company_ids:
                raise ApiError(403, "forbidden", f"Connection {connection.id} does not serve company {company.id}.")
        if args["direction"] == "out" and not args["document_type"]:
            raise ApiError(400, "missing_parameter", "document_type is required for outbound documents.")
        limit = env["heeros.link.message"]._link_max_size(connection or None)
        length = request.httprequest.content_length
        if limit and length and length > limit:
            raise ApiError(413, "too_large", f"The body is {length} bytes; the limit is {limit} bytes.")
        file_name, data = uploaded_file(args["file_name"])
        if limit and len(data) > limit:
            raise ApiError(413, "too_large", f"The file is {len(data)} bytes; the limit is {limit} bytes.")
        if not data:
            raise ApiError(400, "empty_body", "The body is empty: send the file's bytes.")
        key = args["Idempotency-Key"]
        if key is not None and len(key) > MAX_KEY:
            raise ApiError(400, "bad_parameter", f"Idempotency-Key: longer than {MAX_KEY} characters.")

        def upload():
            message = env["heeros.link.message"]._link_api_upload(
                args["direction"], company, file_name, data, args["document_type"], connection
            )
            return Answer(message._link_api_values()[0], 201)

        return once(key, request_digest(data), upload)

    @http.route("/heeros_link/api/v1/openapi.json", type="http", auth="none", methods=["GET"], csrf=False)
    def heeros_link_api_openapi(self):
        """The OpenAPI 3.1 document (public: it describes, it reveals nothing)."""
        installed = set(request.env.registry._init_modules) if request.env else set()
        url = request.httprequest.host_url
        return json_response(openapi_document(installed, url))


def once(key, digest, work):
    """``work()`` (an :class:`Answer`) done once per Idempotency-Key and user."""
    if not key:
        return work()
    Idempotency = request.env["heeros.link.api.idempotency"]
    claim = Idempotency._link_claim(key, digest)
    if claim[0] == "conflict":
        raise ApiError(
            409, "idempotency_conflict", f"Idempotency-Key {key!r} was already used for another request; use a new key."
        )
    if claim[0] == "replay":
        return Answer(claim[2], claim[1], {"Idempotent-Replayed": "true"})
    answer = work()
    Idempotency._link_store_answer(claim[1], answer.status, answer.value)
    return answer


def uploaded_file(file_name):
    """``(file name, bytes)`` of an upload: the body as it is, or the one
    file of a multipart form. A url-encoded form cannot carry a file
    unchanged (curl's ``--data-binary`` sends one unless told otherwise)."""
    source = request.httprequest
    if source.mimetype == "multipart/form-data":
        files = list(source.files.values())
        if len(files) != 1:
            raise ApiError(400, "bad_body", f"Send exactly one file in the form, not {len(files)}.")
        data = files[0].read()
        file_name = file_name or files[0].filename
    elif source.mimetype == "application/x-www-form-urlencoded":
        raise ApiError(
            415,
            "unsupported_media_type",
            "A url-encoded form cannot carry a file: send the bytes with their own Content-Type "
            "(e.g. application/xml, application/octet-stream) or as a multipart file.",
        )
    else:
        data = source.get_data(cache=True)
    if not file_name:
        raise ApiError(400, "missing_parameter", "file_name is required.")
    return file_name, data


def request_digest(data):
    """SHA-256 over what makes a request the same one: method, path, query, body."""
    source = request.httprequest
    digest = hashlib.sha256()
    query = sorted((k, v) for k, values in source.args.lists() for v in values)
    digest.update(json.dumps([source.method, source.path, query]).encode())
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def payload_response(message):
    """A message's payload as an HTTP answer (404 when it has none)."""
    if not message.attachment_id:
        raise ApiError(404, "no_payload", f"Message {message.id} has no stored file.")
    data = message._payload()
    mimetype = message.attachment_id.sudo().mimetype or "application/octet-stream"
    name = message.file_name or message.name
    return request.make_response(
        data,
        headers=[
            ("Content-Type", mimetype),
            ("Content-Disposition", http.content_disposition(name)),
            ("X-Content-SHA256", hashlib.sha256(data).hexdigest()),
        ],
    )
