"""Finnish bank Web Services channel (HTTPS + SOAP, pure Python).

The corporate file service of Nordea, OP, Danske Bank, the Samlink banks and
Ålandsbanken behind the channel interface:

* ``list()`` is ``DownloadFileList`` (status and file types of the
  connection; one :class:`RemoteFile` per file, named by the bank's file
  reference, its file type in ``path``),
* ``download(remote)`` is ``DownloadFile`` of that reference,
* ``confirm(remote)`` is ``DeleteFile`` for banks that expect it; banks
  that mark a downloaded file themselves need nothing,
* ``upload(name, data)`` is ``UploadFile`` with the file type set by
  :meth:`BankWsChannel.prepare_upload` (the caller knows the document type,
  the connection's bank profile knows its code),
* ``test()`` is ``GetUserInfo``: the file types of the agreement.

Every request is signed (the ApplicationRequest and the SOAP message) with
the customer's key; every answer is verified against the bank's certificate
chained to the bank root of the profile before anything in it is used.
The time spent signing, verifying and waiting for the bank is summed in
:attr:`BankWsChannel.timings`.

:class:`CertificateService` talks to the banks' certificate service:
enrolment with the one-time PIN, renewal signed with the current key.
"""

import http.client
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

from ..formats import bank_ws as ws
from ..formats.errors import LinkFormatError
from ..formats.text import translator
from .base import Channel, ChannelAuthError, ChannelConfig, ChannelConfigError, ChannelError, RemoteFile, register

_lt = translator(__name__)

#: Largest answer read from a bank (a camt.053 of 100 000 entries, base64).
MAX_ANSWER = 400 * 1024 * 1024


class BankWsChannelError(ChannelError):
    """The bank refused a request; ``retryable`` follows its response code."""

    def __init__(self, text, retryable=False, code=None):
        super().__init__(text)
        self.retryable = retryable
        self.code = code


class BankUnknownFileType(ChannelConfigError):
    """No file-type code of the bank profile for what is being sent."""


@dataclass
class BankWsConfig(ChannelConfig):
    url: str = ""
    customer_id: str = ""
    target_id: str = ""
    environment: str = "PRODUCTION"
    algorithm: str = "sha256"
    c14n: str = "inclusive"
    signing_key: str = field(default="", repr=False)
    signing_cert: str = ""
    bank_roots: str = ""  # PEM bundle of the bank's trusted root (and intermediate) certificates
    tls_ca: str = ""  # PEM of an extra certificate authority for HTTPS (empty: the system's)
    download_types: tuple = ()  # bank file-type codes to list (empty: all)
    list_status: str = "NEW"
    confirm_mode: str = "none"  # "none": the bank marks downloaded files; "delete": DeleteFile
    language: str = "FI"
    software_id: str = "Heeros Link"
    compression: bool = False


def _tls_context(tls_ca):
    context = ssl.create_default_context()
    if tls_ca:
        context.load_verify_locations(cadata=tls_ca)
    return context


class HttpsSession:
    """POSTs to one bank address over one kept-alive HTTPS connection. The
    bank's TLS certificate must verify (never switched off); network
    failures are retryable :class:`ChannelError`."""

    def __init__(self, url, timeout, tls_ca=""):
        parts = urllib.parse.urlsplit(url or "")
        if parts.scheme != "https" or not parts.hostname:
            raise ChannelConfigError(f"the bank's address {url!r} is not an https:// address")
        self.host, self.port = parts.hostname, parts.port or 443
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        self.context = _tls_context(tls_ca)
        self.connection = None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post(self, body, soap_action=""):
        """``(HTTP status, answer bytes)``."""
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        try:
            if self.connection.sock is None:
                self.connection.connect()
                self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connection.request(
                "POST",
                self.path,
                body=body,
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": soap_action},
            )
            answer = self.connection.getresponse()
            data = answer.read(MAX_ANSWER + 1)
            if answer.will_close:
                self.close()
        except ssl.SSLCertVerificationError as exc:
            self.close()
            error = ChannelError(f"the bank's HTTPS certificate at {self.host} does not verify: {exc.verify_message}")
            error.retryable = False
            raise error from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ChannelError(f"cannot reach the bank at {self.host}:{self.port}: {exc}") from None
        if len(data) > MAX_ANSWER:
            self.close()
            raise ChannelError(f"the bank's answer is larger than {MAX_ANSWER} bytes")
        return answer.status, data


def post(url, body, timeout, tls_ca="", soap_action=""):
    """One POST on its own connection: ``(HTTP status, answer bytes)``."""
    session = HttpsSession(url, timeout, tls_ca)
    try:
        return session.post(body, soap_action)
    finally:
        session.close()


def refusal(exc):
    """The channel error of a bank's refusal or a bad answer."""
    if isinstance(exc, ws.BankResponseError):
        if exc.certificate:
            return ChannelAuthError(str(exc))
        return BankWsChannelError(str(exc), retryable=exc.retryable, code=exc.code)
    if isinstance(exc, ws.SignatureError):
        return BankWsChannelError(f"the bank's answer was refused: {exc}", retryable=False)
    return BankWsChannelError(f"the bank's answer cannot be read: {exc}", retryable=False)


@register("bank_ws", _lt("Finnish bank Web Services"))
class BankWsChannel(Channel):
    def __init__(self, config):
        super().__init__(config)
        self.timings = {"signing": 0.0, "verification": 0.0, "transport": 0.0}
        self.upload_file_type = ""
        self._key = None
        self._cert = None
        self._roots = None
        self._session = None

    # ------------------------------------------------------------------
    def open(self):
        config = self.config
        if not config.url:
            raise ChannelConfigError("the bank Web Services connection has no address (check its bank profile)")
        if not config.customer_id:
            raise ChannelConfigError("the bank Web Services connection has no customer id (UserID)")
        if not config.signing_key or not config.signing_cert:
            raise ChannelConfigError(
                "the bank Web Services connection has no certificate yet: enrol with the bank's PIN first"
            )
        try:
            self._key = ws.load_key(config.signing_key)
            self._cert = ws.load_certificate(config.signing_cert)
            self._roots = ws.load_certificates(config.bank_roots)
        except ws.BankWsError as exc:
            raise ChannelConfigError(str(exc)) from None
        if not self._roots:
            raise ChannelConfigError("the bank profile has no root certificate: the bank's answers cannot be checked")
        if ws.not_after(self._cert) < ws.datetime.now(ws.UTC):
            raise ChannelAuthError(
                f"the connection's certificate expired on {ws.not_after(self._cert):%Y-%m-%d}: renew it or enrol again"
            )
        self._session = HttpsSession(config.url, config.timeout, config.tls_ca)

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None

    def _request(self, command, **values):
        return ws.ApplicationRequest(
            customer_id=self.config.customer_id,
            command=command,
            environment=self.config.environment,
            software_id=self.config.software_id,
            target_id=self.config.target_id or None,
            **values,
        )

    def call(self, operation, request):
        """Send one signed request; return the verified :class:`ws.Response`."""
        config = self.config
        started = time.perf_counter()
        try:
            application = ws.signed_application_request(request, self._key, self._cert, config.algorithm, config.c14n)
            envelope = ws.build_envelope(
                operation,
                application,
                sender_id=config.customer_id,
                receiver_id=config.target_id,
                key=self._key,
                cert=self._cert,
                algorithm=config.algorithm,
                language=config.language,
                user_agent=config.software_id,
            )
        except LinkFormatError as exc:
            raise BankWsChannelError(f"{operation}: the request cannot be built: {exc}") from None
        signed = time.perf_counter()
        if self._session is None:
            raise ChannelError(f"{operation}: the channel is not open")
        status, answer = self._session.post(envelope)
        received = time.perf_counter()
        self.timings["signing"] += signed - started
        self.timings["transport"] += received - signed
        try:
            if status >= 500 and not answer.lstrip().startswith(b"<"):
                raise ChannelError(f"{operation}: the bank answered HTTP {status}")
            response = ws.parse_response(answer, roots=self._roots)
        except ws.BankResponseError as exc:
            raise refusal(exc) from None
        except LinkFormatError as exc:
            if status >= 500:
                raise ChannelError(f"{operation}: the bank answered HTTP {status}: {exc}") from None
            raise refusal(exc) from None
        finally:
            self.timings["verification"] += time.perf_counter() - received
        return response

    # ------------------------------------------------------------------
    def list(self):
        files, seen = [], set()
        types = list(self.config.download_types) or [None]
        for file_type in types:
            response = self.call(
                "DownloadFileList",
                self._request("DownloadFileList", status=self.config.list_status, file_type=file_type),
            )
            for descriptor in response.application.file_descriptors:
                if not descriptor.file_reference or descriptor.file_reference in seen:
                    continue
                seen.add(descriptor.file_reference)
                files.append(RemoteFile(name=descriptor.file_reference, path=descriptor.file_type))
        return files

    def download(self, remote):
        response = self.call(
            "DownloadFile",
            self._request("DownloadFile", file_references=[remote.name], file_type=remote.path or None),
        )
        content = response.application.content
        if content is None:
            raise BankWsChannelError(f"DownloadFile: the bank sent no content for file {remote.name}")
        if self.config.max_size and len(content) > self.config.max_size:
            raise BankWsChannelError(f"file {remote.name} is larger than {self.config.max_size} bytes")
        return content

    def confirm(self, remote):
        if self.config.confirm_mode != "delete":
            return
        self.call(
            "DeleteFile", self._request("DeleteFile", file_references=[remote.name], file_type=remote.path or None)
        )

    def prepare_upload(self, file_type):
        """The bank's file-type code of the next upload."""
        self.upload_file_type = file_type or ""

    def upload(self, name, data):
        if not self.upload_file_type:
            raise BankUnknownFileType(f"no bank file type is set for {name}: the bank profile has no code for it")
        response = self.call(
            "UploadFile",
            self._request(
                "UploadFile",
                file_type=self.upload_file_type,
                user_filename=name,
                content=data,
                compression=self.config.compression or None,
                compression_method="RFC1952" if self.config.compression else None,
            ),
        )
        descriptors = response.application.file_descriptors
        return descriptors[0].file_reference if descriptors and descriptors[0].file_reference else name

    def exists(self, name):
        """Whether an upload named ``name`` is in the bank's list of files
        of the upload's type."""
        if not self.upload_file_type:
            return False
        response = self.call(
            "DownloadFileList", self._request("DownloadFileList", status="ALL", file_type=self.upload_file_type)
        )
        return any(d.user_filename == name for d in response.application.file_descriptors)

    def test(self):
        response = self.call("GetUserInfo", self._request("GetUserInfo"))
        types = response.application.user_file_types
        listed = ", ".join(f"{code} ({direction})" for code, _name, direction in types[:40])
        return f"connected as {self.config.customer_id}; the agreement's file types: {listed or 'none listed'}"


class CertificateService:
    """The bank's certificate service: a first certificate against the PIN,
    a new one signed with the current key before the old one expires."""

    def __init__(
        self,
        url,
        *,
        customer_id,
        environment="PRODUCTION",
        namespace=ws.CERT_NS_NORDEA,
        pin_as="hmac",
        service="MATU",
        bank_roots="",
        tls_ca="",
        timeout=30.0,
        algorithm="sha256",
        c14n="inclusive",
        software_id="Heeros Link",
        renew_command="RenewCertificate",
    ):
        self.url = url
        self.customer_id = customer_id
        self.environment = environment
        self.namespace = namespace
        self.pin_as = pin_as
        self.service = service
        self.roots = ws.load_certificates(bank_roots) if bank_roots else []
        self.tls_ca = tls_ca
        self.timeout = timeout
        self.algorithm = algorithm
        self.c14n = c14n
        self.software_id = software_id
        self.renew_command = renew_command

    def _send(self, operation, request, key=None, cert=None):
        if not self.url:
            raise ChannelConfigError("the bank profile has no certificate service address")
        if not self.roots:
            raise ChannelConfigError("the bank profile has no root certificate: the bank's answers cannot be checked")
        try:
            application = ws.build_cert_request(request, key, cert, self.algorithm, self.c14n)
            envelope = ws.build_envelope(
                operation,
                application,
                sender_id=self.customer_id,
                key=key,
                cert=cert,
                algorithm=self.algorithm,
                certificate_service=True,
            )
        except LinkFormatError as exc:
            raise BankWsChannelError(f"{operation}: the request cannot be built: {exc}") from None
        status, answer = post(self.url, envelope, self.timeout, self.tls_ca)
        try:
            if status >= 500 and not answer.lstrip().startswith(b"<"):
                raise ChannelError(f"{operation}: the bank answered HTTP {status}")
            response = ws.parse_response(answer, roots=self.roots, require_signature=True)
        except LinkFormatError as exc:
            raise refusal(exc) from None
        certificates = getattr(response.application, "certificates", None)
        if not certificates:
            raise BankWsChannelError(f"{operation}: the bank's answer carries no certificate")
        return certificates[0]

    def enrol(self, csr_der, pin):
        """A first certificate for ``csr_der``, authenticated by the PIN."""
        if not pin:
            raise ChannelConfigError("enter the PIN (activation code) the bank gave for this agreement")
        request = ws.CertRequest(
            customer_id=self.customer_id,
            csr_der=csr_der,
            command="GetCertificate",
            environment=self.environment,
            software_id=self.software_id,
            namespace=self.namespace,
            service=self.service,
            pin=pin,
            pin_as=self.pin_as,
        )
        return self._send("GetCertificate", request)

    def renew(self, csr_der, key_pem, cert_pem):
        """A new certificate for ``csr_der``, the request signed with the
        current key and certificate."""
        try:
            key, cert = ws.load_key(key_pem), ws.load_certificate(cert_pem)
        except ws.BankWsError as exc:
            raise ChannelConfigError(str(exc)) from None
        request = ws.CertRequest(
            customer_id=self.customer_id,
            csr_der=csr_der,
            command=self.renew_command,
            environment=self.environment,
            software_id=self.software_id,
            namespace=self.namespace,
            service=self.service,
        )
        return self._send("RenewCertificate", request, key, cert)
