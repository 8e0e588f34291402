"""Test servers of the e-invoice operators' REST APIs, on 127.0.0.1.

They implement the calls the Link makes, as each operator documents them,
and refuse what the real services refuse: a missing, unknown or expired
token (Maventa), a wrong digest or a stale timestamp (Apix), an unknown
address, a malformed document or one the official schema refuses (Finvoice
3.0 against the official Finvoice XSD, UBL against the OASIS UBL 2.1 XSD), a
sender the account does not serve. Maventa answers a repeated client id
(``Idempotency-Key``) with the first delivery. ``fail_next`` makes the next
calls answer 500 (or drop the connection) to test retries.
"""

import email.parser
import email.policy
import hashlib
import io
import json
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from tests.common import SHARED_DATA

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
#: The official schemas, as published (not the copies shipped in the addon).
OFFICIAL_FINVOICE_XSD = SHARED_DATA / "einvoice" / "finvoice-3.0-xsd" / "Finvoice3.0_2020-12-17.xsd"
UBL_XSD_DIR = SHARED_DATA / "einvoice" / "oasis-ubl-2.1-xsd" / "xsd" / "maindoc"
_schemas = {}
_schemas_lock = threading.Lock()


def official_schema(path):
    with _schemas_lock:
        if path not in _schemas:
            _schemas[path] = etree.XMLSchema(etree.parse(str(path), _PARSER))
        return _schemas[path]


UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


class Refused(Exception):
    def __init__(self, status, text, code=""):
        super().__init__(text)
        self.status, self.text, self.code = status, text, code


def check_document(data):
    """Validate an invoice as the operators do; ``(format, sender address,
    invoice number)`` or :class:`Refused`."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Refused(422, f"the invoice is not well-formed XML: {exc}", "4010") from None
    if root.tag == "Finvoice":
        schema, kind = official_schema(OFFICIAL_FINVOICE_XSD), "FINVOICE30"
        sender = root.findtext("MessageTransmissionDetails/MessageSenderDetails/FromIdentifier") or root.findtext(
            "SellerOrganisationUnitNumber"
        )
        number = root.findtext("InvoiceDetails/InvoiceNumber")
    elif root.tag in (f"{{{UBL_INVOICE}}}Invoice", f"{{{UBL_CREDIT}}}CreditNote"):
        main = "UBL-Invoice-2.1.xsd" if root.tag.endswith("}Invoice") else "UBL-CreditNote-2.1.xsd"
        schema, kind = official_schema(UBL_XSD_DIR / main), "PEPPOLBIS30"
        sender = root.findtext(
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}AccountingSupplierParty/"
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}Party/"
            f"{{{CBC}}}EndpointID"
        )
        number = root.findtext(f"{{{CBC}}}ID")
    else:
        raise Refused(422, f"unsupported document {root.tag}", "4010")
    if not schema.validate(root):
        error = schema.error_log.last_error
        raise Refused(422, f"schema validation failed: line {error.line}: {error.message}", "4010")
    return kind, (sender or "").strip(), (number or "").strip()


def document_of(data):
    """The invoice of a posted file: itself, or the XML inside a ZIP."""
    if data[:2] != b"PK":
        return data, []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Refused(422, "the ZIP archive cannot be read", "4010") from None
    names = archive.namelist()
    xml = [n for n in names if n.lower().endswith(".xml")]
    if len(xml) != 1:
        raise Refused(422, f"the ZIP archive must hold one XML invoice, it holds {len(xml)}", "4010")
    return archive.read(xml[0]), [n for n in names if n != xml[0]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class OperatorServer:
    """Common machinery: a thread serving on 127.0.0.1, a request log,
    injected failures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (method, path)
        self.fail_next = []  # HTTP statuses to answer next, or "drop"
        self.httpd = None

    def __enter__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner.lock:
                    owner.requests.append((self.command, parts.path))
                    injected = owner.fail_next.pop(0) if owner.fail_next else None
                if injected == "drop":
                    self.connection.close()
                    return
                if injected:
                    self._answer(injected, b'{"message": "internal error"}', "application/json")
                    return
                params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                status, payload, ctype, headers = owner.handle(self.command, parts.path, params, self.headers, body)
                self._answer(status, payload, ctype, headers)

            def _answer(self, status, payload, ctype, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def count(self, method, prefix):
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))


# ----------------------------------------------------------------------
# Maventa
# ----------------------------------------------------------------------
class MaventaServer(OperatorServer):
    PAGE_LIMIT = 100

    def __init__(self, token_lifetime=3600):
        super().__init__()
        self.accounts = {}  # company uuid -> {"secret", "vendor", "eias"}
        self.tokens = {}  # token -> (company uuid, expires at)
        self.token_lifetime = token_lifetime
        self.invoices = {}  # id -> dict
        self.keys = {}  # (company uuid, idempotency key) -> id
        self.files = {}  # (invoice id, file id) -> bytes
        self.documents = {}  # invoice id -> the document sent

    def add_account(self, company_uuid, secret, vendor, eias=()):
        self.accounts[company_uuid] = {"secret": secret, "vendor": vendor, "eias": set(eias)}

    def expire_tokens(self):
        with self.lock:
            self.tokens = {t: (c, 0) for t, (c, _e) in self.tokens.items()}

    def sent(self):
        return [i for i in self.invoices.values() if i["direction"] == "SENT"]

    def set_status(self, invoice_id, status, message=""):
        invoice = self.invoices[invoice_id]
        invoice["status"] = status
        invoice["actions"].append({"type": status, "message": message, "timestamp": _now_iso()})

    def add_received(self, company_uuid, number, data, attachments=(), received_at=None, fmt="FINVOICE30"):
        invoice_id = str(uuid.uuid4())
        files = [{"id": str(uuid.uuid4()), "file": f"{number}.xml", "type": "INVOICE", "mime_type": "text/xml"}]
        self.files[(invoice_id, files[0]["id"])] = data
        for name, content in attachments:
            row = {"id": str(uuid.uuid4()), "file": name, "type": "ATTACHMENT", "mime_type": "application/pdf"}
            files.append(row)
            self.files[(invoice_id, row["id"])] = content
        self.invoices[invoice_id] = {
            "id": invoice_id,
            "company": company_uuid,
            "direction": "RECEIVED",
            "number": number,
            "status": "RECEIVED",
            "received_at": received_at or _now_iso(),
            "original_invoice_format": fmt,
            "files": files,
            "actions": [],
        }
        return invoice_id

    def _json(self, status, payload, headers=None):
        return status, json.dumps(payload).encode(), "application/json", headers or {}

    def handle(self, method, path, params, headers, body):
        try:
            return self._route(method, path, params, headers, body)
        except Refused as exc:
            return self._json(exc.status, {"code": exc.code or str(exc.status), "message": exc.text})

    def _auth(self, headers):
        value = headers.get("Authorization") or ""
        if not value.startswith("Bearer "):
            raise Refused(401, "missing bearer token")
        with self.lock:
            found = self.tokens.get(value[7:])
        if not found:
            raise Refused(401, "unknown token")
        if found[1] < time.monotonic():
            raise Refused(401, "token expired")
        return found[0]

    def _route(self, method, path, params, headers, body):
        if method == "POST" and path == "/oauth2/token":
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "client_credentials":
                raise Refused(400, "unsupported_grant_type")
            account = self.accounts.get(form.get("client_id"))
            if not account or account["secret"] != form.get("client_secret"):
                raise Refused(401, "invalid_client")
            if account["vendor"] != form.get("vendor_api_key"):
                raise Refused(401, "invalid vendor api key")
            if not {"eui", "global"} <= set((form.get("scope") or "").split()):
                raise Refused(400, "invalid_scope")
            token = uuid.uuid4().hex
            with self.lock:
                self.tokens[token] = (form["client_id"], time.monotonic() + self.token_lifetime)
            return self._json(
                200,
                {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime, "scope": "eui"},
            )
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["v1", "invoices"] and parts != ["v1", "company"]:
            raise Refused(404, f"no route {method} {path}")
        company = self._auth(headers)
        if parts == ["v1", "company"]:
            return self._json(200, {"id": company, "name": f"Company {company[:8]}"})
        if method == "POST" and len(parts) == 2:
            return self._post_invoice(company, headers, body)
        if method == "GET" and len(parts) == 2:
            return self._list(company, params)
        invoice = self.invoices.get(parts[2]) if len(parts) > 2 else None
        if not invoice or invoice["company"] != company:
            raise Refused(404, "invoice not found")
        if method == "GET" and len(parts) == 3:
            return self._json(200, invoice)
        if method == "GET" and len(parts) == 5 and parts[3] == "files":
            data = self.files.get((invoice["id"], parts[4]))
            if data is None:
                raise Refused(404, "file not found")
            return 200, data, "application/octet-stream", {}
        if method == "GET" and len(parts) == 4 and parts[3] == "download":
            if params.get("format") != "FINVOICE30":
                raise Refused(422, "unsupported format")
            return 200, self.files[(invoice["id"], invoice["files"][0]["id"])], "text/xml", {}
        raise Refused(404, f"no route {method} {path}")

    def _post_invoice(self, company, headers, body):
        ctype = headers.get("Content-Type") or ""
        if not ctype.startswith("multipart/form-data"):
            raise Refused(415, "multipart/form-data expected")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body
        )
        upload = next(
            (p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"), None
        )
        if upload is None:
            raise Refused(422, "the file field is missing")
        key = headers.get("Idempotency-Key")
        with self.lock:
            if key and (company, key) in self.keys:
                return self._json(200, self.invoices[self.keys[(company, key)]])
        data = upload.get_payload(decode=True)
        document, attachments = document_of(data)
        kind, sender, number = check_document(document)
        eias = self.accounts[company]["eias"]
        if eias and sender not in eias:
            raise Refused(422, f"sender {sender or '(none)'} is not a company of this account")
        invoice_id = str(uuid.uuid4())
        with self.lock:
            if key and (company, key) in self.keys:
                return self._json(200, self.invoices[self.keys[(company, key)]])
            self.invoices[invoice_id] = {
                "id": invoice_id,
                "company": company,
                "direction": "SENT",
                "number": number,
                "sender": sender,
                "format": kind,
                "status": "SENT",
                "attachments": attachments,
                "actions": [{"type": "SENT", "message": "", "timestamp": _now_iso()}],
            }
            if key:
                self.keys[(company, key)] = invoice_id
            self.documents[invoice_id] = document
        return self._json(201, self.invoices[invoice_id])

    def _list(self, company, params):
        if params.get("direction") != "RECEIVED":
            raise Refused(422, "direction RECEIVED expected")
        try:
            start = datetime.fromisoformat(params["received_at_start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(params["received_at_end"].replace("Z", "+00:00"))
            page, per_page = int(params.get("page", 1)), int(params.get("per_page", 25))
        except (KeyError, ValueError):
            raise Refused(422, "received_at_start, received_at_end, page and per_page expected") from None
        if end - start > timedelta(days=31) or per_page > self.PAGE_LIMIT:
            raise Refused(422, "the window is at most 31 days and a page at most 100 invoices")
        rows = [
            {k: v for k, v in i.items() if k != "company"}
            for i in self.invoices.values()
            if i["company"] == company
            and i["direction"] == "RECEIVED"
            and start <= datetime.fromisoformat(i["received_at"].replace("Z", "+00:00")) <= end
        ]
        rows.sort(key=lambda r: (r["received_at"], r["id"]))
        pages = max((len(rows) + per_page - 1) // per_page, 1)
        chunk = rows[(page - 1) * per_page : page * per_page]
        return self._json(200, chunk, {"X-Total-Count": str(len(rows)), "X-Total-Pages": str(pages)})


def _now_iso():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------
# Apix
# ----------------------------------------------------------------------
def apix_digest(values, secret):
    return "SHA-256:" + hashlib.sha256("+".join([*values, secret]).encode()).hexdigest()


class ApixServer(OperatorServer):
    SKEW = timedelta(minutes=15)

    def __init__(self):
        super().__init__()
        self.accounts = {}  # transfer id -> {"key", "eias"}
        self.batches = {}  # batch id -> dict
        self.storage = {}  # storage id -> {"key", "transfer", "data", "status"}

    def add_account(self, transfer_id, key, eias=()):
        self.accounts[transfer_id] = {"key": key, "eias": set(eias)}

    def add_received(self, transfer_id, files):
        storage_id = str(uuid.uuid4().int)[:12]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in files:
                archive.writestr(name, data)
        self.storage[storage_id] = {
            "key": uuid.uuid4().hex,
            "transfer": transfer_id,
            "data": buffer.getvalue(),
            "status": "UNRECEIVED",
        }
        return storage_id

    def _xml(self, status, code, free="", groups=(), http=200):
        root = etree.Element("Response")
        etree.SubElement(root, "Status").text = status
        etree.SubElement(root, "StatusCode").text = code
        if free:
            etree.SubElement(root, "FreeText").text = free
        content = etree.SubElement(root, "Content")
        for group in groups:
            element = etree.SubElement(content, "Group")
            for key, value in group.items():
                etree.SubElement(element, "Value", type=key).text = str(value)
        return http, etree.tostring(root, xml_declaration=True, encoding="UTF-8"), "text/xml", {}

    def handle(self, method, path, params, headers, body):
        try:
            return self._route(method, path, params, body)
        except Refused as exc:
            return self._xml("ERR", exc.code, exc.text)

    def _check_time(self, params):
        try:
            moment = datetime.strptime(params.get("t", ""), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            raise Refused(400, "timestamp t missing or malformed", "4001") from None
        if abs(datetime.now(UTC) - moment) > self.SKEW:
            raise Refused(400, "timestamp out of range", "4003")
        return params["t"]

    def _check_digest(self, params, values, secret):
        if params.get("d") != apix_digest(values, secret):
            raise Refused(400, "digest mismatch", "4002")

    def _account(self, params):
        account = self.accounts.get(params.get("TraID") or "")
        if not account:
            raise Refused(400, "unknown TransferID", "4004")
        return account

    def _route(self, method, path, params, body):
        if method == "PUT" and path == "/invoices":
            t = self._check_time(params)
            account = self._account(params)
            for name in ("soft", "ver"):
                if not params.get(name):
                    raise Refused(400, f"{name} missing", "4001")
            self._check_digest(params, [params["soft"], params["ver"], params["TraID"], t], account["key"])
            if body[:2] != b"PK":
                raise Refused(400, "a ZIP archive is expected", "4010")
            document, others = document_of(body)
            kind, sender, number = check_document(document)
            if account["eias"] and sender not in account["eias"]:
                raise Refused(400, f"sender {sender or '(none)'} is not served by this TransferID", "4010")
            batch = str(uuid.uuid4().int)[:10]
            self.batches[batch] = {"number": number, "sender": sender, "files": others, "format": kind}
            return self._xml("OK", "2000", groups=[{"AcceptedDocument": 1, "BatchID": batch, "CostInCredits": 0}])
        if method == "GET" and path == "/list2":
            t = self._check_time(params)
            account = self._account(params)
            self._check_digest(params, [params["TraID"], t], account["key"])
            groups = [
                {
                    "StorageID": sid,
                    "StorageKey": item["key"],
                    "StorageStatus": item["status"],
                    "DocumentType": "INVOICE",
                }
                for sid, item in sorted(self.storage.items())
                if item["transfer"] == params["TraID"]
            ]
            return self._xml("OK", "2000", groups=groups)
        if method == "GET" and path == "/download":
            t = self._check_time(params)
            item = self.storage.get(params.get("SID") or "")
            if not item:
                raise Refused(404, "no such document", "4040")
            values = [params["SID"]] + (["yes"] if params.get("markreceived") == "yes" else []) + [t]
            self._check_digest(params, values, item["key"])
            if params.get("markreceived") == "yes":
                item["status"] = "RECEIVED"
            return 200, item["data"], "application/zip", {}
        return 404, b"Not Found", "text/html", {}
