"""A Finnish bank's Web Services on 127.0.0.1, for the tests and the benchmark.

It does what a bank does and refuses what a bank refuses:

* HTTPS with its own throw-away certificate authority (made here with
  cryptography), which also issues the bank's signing certificate and the
  customers' certificates;
* every request validated against the ApplicationRequest (or
  CertApplicationRequest) schema shipped in the addon, its WS-Security
  signature and its enveloped signature verified with the customer's
  enrolled certificate (a renewed certificate replaces the old one, which
  then stops working, as at Nordea);
* certificates issued from PKCS#10 requests against a one-time PIN (HMAC of
  the request keyed with it, or the PIN as transfer key), renewals signed
  with the current certificate;
* files listed by status and type, served (status NEW -> DLD), deleted,
  uploads accepted for the agreement's upload file types only;
* every answer signed with the bank's certificate (ApplicationResponse and
  SOAP message).

Faults for the failure tests: ``tamper`` (the answer is changed after it was
signed), ``drop_downloads_after`` (the connection is cut after that many
downloads), ``expired_certificates`` (the certificates issued have already
expired).
"""

import hashlib
import hmac
import ipaddress
import itertools
import socket
import ssl
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from odoo.addons.heeros_link_base.formats import bank_ws as ws
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError

CUSTOMER_ID = "11111111"
PIN = "1234567890123456"
UPLOAD_TYPES = ("NDCORPAYS", "LAHLASKUT")
DOWNLOAD_TYPES = ("NDCAMT53L", "NDCORPAYL", "TITO", "KTL")


def _key(size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=size, backend=default_backend())


def _name(common_name):
    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "FI"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _issue(subject, public_key, issuer_name, issuer_key, days=730, start=None, ca=False, san=None, serial=None):
    start = start or datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256(), default_backend())


class TestBank:
    """Start with :meth:`start`, stop with :meth:`stop` (or use ``with``)."""

    __test__ = False  # not a test class, whatever its name

    def __init__(
        self,
        customer_id=CUSTOMER_ID,
        pin=PIN,
        pin_as="hmac",
        namespace=ws.CERT_NS_NORDEA,
        algorithm="sha256",
        key_size=2048,
    ):
        self.customer_id = customer_id
        self.pin_as = pin_as
        self.namespace = namespace
        self.algorithm = algorithm
        self.root_key = _key(key_size)
        self.root_cert = _issue(
            _name("Test Bank Root CA"),
            self.root_key.public_key(),
            _name("Test Bank Root CA"),
            self.root_key,
            days=3650,
            ca=True,
        )
        self.signer_key = _key(key_size)
        self.signer_cert = _issue(
            _name("Test Bank File Transfer Web Services"),
            self.signer_key.public_key(),
            self.root_cert.subject,
            self.root_key,
        )
        self.tls_key = _key(key_size)
        self.tls_cert = _issue(
            _name("127.0.0.1"),
            self.tls_key.public_key(),
            self.root_cert.subject,
            self.root_key,
            san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
        )
        self.pins = {customer_id: pin}
        self.enrolled = {}  # customer id -> current certificate
        self.files = {}  # reference -> dict
        self.uploads = []
        self.downloads = Counter()
        self.requests = Counter()
        self.refusals = []
        self.tamper = False
        self.drop_downloads_after = None
        self.expired_certificates = False
        self.certificate_days = 730
        self._served = 0
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.server = None
        self.thread = None

    # ------------------------------------------------------------------
    @property
    def root_pem(self):
        return ws.certificate_pem(self.root_cert)

    @property
    def file_url(self):
        return f"https://127.0.0.1:{self.server.server_address[1]}/services/CorporateFileService"

    @property
    def cert_url(self):
        return f"https://127.0.0.1:{self.server.server_address[1]}/services/CertificateService"

    def start(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as handle:
            handle.write(ws.certificate_pem(self.tls_cert) + ws.key_pem(self.tls_key))
            handle.flush()
            context.load_cert_chain(handle.name)
        bank = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = bank.handle(self.path, body)
                if answer is None:  # the bank is cut off in the middle of the exchange
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, data = answer
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------
    # the bank's files
    # ------------------------------------------------------------------
    def add_file(self, file_type, content, reference=None, status="NEW", name=""):
        with self._lock:
            reference = reference or f"{self.customer_id}{next(self._counter):012d}"
            self.files[reference] = {"type": file_type, "content": content, "status": status, "name": name}
        return reference

    def issue_for(self, csr_der, days=None, expired=False):
        csr = x509.load_der_x509_csr(csr_der, default_backend())
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify")
        start = datetime.now(UTC).replace(tzinfo=None) - (timedelta(days=800) if expired else timedelta(minutes=5))
        return _issue(
            csr.subject,
            csr.public_key(),
            self.root_cert.subject,
            self.root_key,
            days=days or self.certificate_days,
            start=start,
        )

    # ------------------------------------------------------------------
    # the service
    # ------------------------------------------------------------------
    def handle(self, path, body):
        try:
            if path.endswith("/CertificateService"):
                return 200, self._certificate_service(body)
            if path.endswith("/CorporateFileService"):
                return self._file_service(body)
            return 404, b"not found"
        except _Refusal as refusal:
            self.refusals.append((refusal.code, refusal.text))
            return 200, self._answer(
                refusal.operation,
                None,
                refusal.request_id,
                code=refusal.code,
                text=refusal.text,
                certificate_service=refusal.certificate_service,
            )

    def _answer(self, operation, application, request_id, code="00", text="OK", certificate_service=False):
        signed = None
        if application is not None:
            signed = ws.sign_enveloped(application, self.signer_key, self.signer_cert, self.algorithm, "inclusive")
        data = ws.build_response_envelope(
            operation,
            signed,
            sender_id=self.customer_id,
            request_id=request_id,
            key=self.signer_key,
            cert=self.signer_cert,
            algorithm=self.algorithm,
            certificate_service=certificate_service,
            code=code,
            text=text,
        )
        if self.tamper:
            data = data.replace(b"<mod:ResponseText>OK</mod:ResponseText>", b"<mod:ResponseText>OK!</mod:ResponseText>")
        return data

    def _certificate_service(self, body):
        root, _call, header, payload = ws.unwrap_request(body)
        request_id = header.get("RequestId", "")
        operation = "GetCertificate"
        try:
            request = ws.validate(
                payload, "cert_request_nordea" if self.namespace == ws.CERT_NS_NORDEA else "cert_request_op"
            )
        except LinkFormatError as exc:
            raise _Refusal(operation, request_id, "12", f"schema validation failed: {exc}", True) from None
        values = ws.application_request_values(request)
        customer = values.get("CustomerId", "")
        csr = ws._decoded(values.get("Content", ""), "Content")
        current = self.enrolled.get(customer)
        if request.find(f"{{{ws.DS}}}Signature") is not None:
            # a renewal: signed with the current certificate, in the message and in the request
            if current is None:
                raise _Refusal(operation, request_id, "30", "Authentication failed", True)
            try:
                ws.verify_envelope(root, roots=[self.root_cert])
                ws.verify_enveloped(payload, roots=[self.root_cert], cert=current)
            except LinkFormatError as exc:
                raise _Refusal(operation, request_id, "30", f"Authentication failed: {exc}", True) from None
            if ws.load_certificate(root.find(f".//{{{ws.WSSE}}}BinarySecurityToken").text) != current:
                raise _Refusal(operation, request_id, "30", "Authentication failed: not the current certificate", True)
        else:
            pin = self.pins.get(customer)
            if not pin:
                raise _Refusal(operation, request_id, "30", "Authentication failed", True)
            if self.pin_as == "hmac":
                given = ws._decoded(values.get("HMAC", ""), "HMAC")
                ok = hmac.compare_digest(given, hmac.new(pin.encode(), csr, hashlib.sha1).digest())
            else:
                ok = hmac.compare_digest(values.get("TransferKey", ""), pin)
            if not ok:
                raise _Refusal(operation, request_id, "30", "Authentication failed: wrong PIN", True)
            del self.pins[customer]  # a PIN is used once
        try:
            cert = self.issue_for(csr, expired=self.expired_certificates)
        except ValueError as exc:
            raise _Refusal(operation, request_id, "29", f"invalid parameters: {exc}", True) from None
        self.enrolled[customer] = cert
        response = ws.build_application_response(
            customer, namespace=self.namespace, root_name="CertApplicationResponse", certificates=[cert]
        )
        return self._answer(operation, response, request_id, certificate_service=True)

    def _file_service(self, body):
        root, call, header, payload = ws.unwrap_request(body)
        operation = next((name for name, element in ws.OPERATIONS.items() if element == call), None)
        request_id = header.get("RequestId", "")
        if operation is None:
            raise _Refusal("GetUserInfo", request_id, "05", f"operation {call} unknown")
        self.requests[operation] += 1
        sender = header.get("SenderId", "")
        current = self.enrolled.get(sender)
        if current is None:
            raise _Refusal(operation, request_id, "07", "SenderId not found")
        token = root.find(f".//{{{ws.WSSE}}}BinarySecurityToken")
        if token is None or ws.load_certificate(token.text) != current:
            raise _Refusal(operation, request_id, "19", "content certificate not valid: not the enrolled certificate")
        try:
            ws.verify_envelope(root, roots=[self.root_cert])
        except LinkFormatError as exc:
            raise _Refusal(operation, request_id, "02", f"SOAP signature error: {exc}") from None
        try:
            request = ws.validate(payload, "application_request")
        except LinkFormatError as exc:
            raise _Refusal(operation, request_id, "12", f"schema validation failed: {exc}") from None
        try:
            ws.verify_enveloped(payload, roots=[self.root_cert], cert=current)
        except LinkFormatError as exc:
            raise _Refusal(operation, request_id, "18", f"content digital signature not valid: {exc}") from None
        values = ws.application_request_values(request)
        if values.get("CustomerId") != sender:
            raise _Refusal(operation, request_id, "13", "CustomerId not found")
        if values.get("Command") != operation:
            raise _Refusal(operation, request_id, "29", f"invalid parameters: command {values.get('Command')}")
        handler = getattr(self, f"_op_{operation}")
        result = handler(values, request_id)
        if result is None:
            return None
        return 200, self._answer(operation, result, request_id)

    def _response(self, **kwargs):
        return ws.build_application_response(self.customer_id, **kwargs)

    def _op_GetUserInfo(self, values, request_id):
        types = [(code, code, "Upload") for code in UPLOAD_TYPES] + [
            (code, code, "Download") for code in DOWNLOAD_TYPES
        ]
        return self._response(user_file_types=types)

    def _op_DownloadFileList(self, values, request_id):
        status = values.get("Status") or "ALL"
        file_type = values.get("FileType")
        with self._lock:
            listed = [
                ws.FileDescriptor(
                    file_reference=ref, file_type=item["type"], status=item["status"], user_filename=item["name"]
                )
                for ref, item in self.files.items()
                if (status == "ALL" or item["status"] == status) and (not file_type or item["type"] == file_type)
            ]
        return self._response(descriptors=listed)

    def _op_DownloadFile(self, values, request_id):
        references = values.get("FileReferences") or []
        with self._lock:
            item = self.files.get(references[0]) if references else None
            if item is None or (values.get("FileType") and values["FileType"] != item["type"]):
                raise _Refusal("DownloadFile", request_id, "24", "content not found")
            if self.drop_downloads_after is not None and self._served >= self.drop_downloads_after:
                return None
            self._served += 1
            item["status"] = "DLD"
            self.downloads[references[0]] += 1
            content = item["content"]
        return self._response(
            content=content,
            compressed=True,
            descriptors=[ws.FileDescriptor(file_reference=references[0], file_type=item["type"], status="DLD")],
        )

    def _op_DeleteFile(self, values, request_id):
        references = values.get("FileReferences") or []
        with self._lock:
            for reference in references:
                if self.files.pop(reference, None) is None:
                    raise _Refusal("DeleteFile", request_id, "27", "cannot be deleted")
        return self._response()

    def _op_UploadFile(self, values, request_id):
        file_type = values.get("FileType", "")
        if file_type not in UPLOAD_TYPES:
            raise _Refusal("UploadFile", request_id, "20", f"content type not valid: file type {file_type} unknown")
        content = ws._decoded(values.get("Content", ""), "Content")
        if values.get("Compression") == "true":
            content = ws._decompress(content, values.get("CompressionMethod"))
        reference = f"UP{next(self._counter):010d}"
        self.uploads.append(
            {"reference": reference, "type": file_type, "content": content, "name": values.get("UserFilename", "")}
        )
        return self._response(
            descriptors=[
                ws.FileDescriptor(
                    file_reference=reference,
                    file_type=file_type,
                    status="WFP",
                    user_filename=values.get("UserFilename", ""),
                )
            ]
        )


class _Refusal(Exception):
    def __init__(self, operation, request_id, code, text, certificate_service=False):
        super().__init__(text)
        self.operation = operation
        self.request_id = request_id
        self.code = code
        self.text = text
        self.certificate_service = certificate_service
