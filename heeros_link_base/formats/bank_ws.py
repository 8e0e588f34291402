"""Finnish bank Web Services messages (pure Python, no Odoo import).

The corporate file service of the Finnish banks (Nordea, OP, Danske Bank,
the Samlink banks, Ålandsbanken) wraps every file in an ``ApplicationRequest``
signed by the customer (an enveloped XML signature), sends it base64-encoded
inside a SOAP 1.1 message signed again with WS-Security (a
``BinarySecurityToken`` holding the customer's certificate, a ``Timestamp``
and a signature over the ``Body`` and the ``Timestamp``), and answers with an
``ApplicationResponse`` signed by the bank.

This module builds and signs what the Link sends, and parses and verifies
what a bank answers:

* :func:`build_application_request` / :func:`sign_enveloped`: the
  ``ApplicationRequest`` (also the certificate service's
  ``CertApplicationRequest``) and its enveloped signature;
* :func:`build_envelope`: the SOAP message with ``RequestHeader`` and
  WS-Security;
* :func:`parse_response`: a bank's SOAP answer, its signatures verified
  against the bank certificate chained to a trusted bank root *before*
  anything in it is read, the ``ApplicationResponse`` as a dataclass;
* :func:`make_key_and_csr`, :func:`build_cert_request`,
  :func:`parse_cert_response`: the certificate service (PKCS#10 request,
  enrolment with the bank's PIN, renewal signed with the current key).

Signing is done here with lxml and cryptography: the XML-signature library
``signxml`` needs newer lxml and cryptography than those Odoo 18.0 pins.
Canonicalisation is chosen per bank (inclusive C14N 1.0 or exclusive C14N);
references are resolved by their ``Id`` attribute, an id that occurs twice is
refused, and the signed ``Body`` and ``Timestamp`` must be the envelope's own
(no signature wrapping).
"""

import base64
import binascii
import copy
import gzip
import hashlib
import hmac
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from . import xmlsafe
from .errors import BuildError, LinkFormatError, MalformedDocument, SchemaViolation

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
BXD = "http://bxd.fi/xmldata/"
COR = "http://bxd.fi/CorporateFileService"
MOD = "http://model.bxd.fi"
CER = "http://bxd.fi/CertificateService"
#: Namespaces of the certificate service's application request, per bank family.
CERT_NS_NORDEA = "http://filetransfer.nordea.com/xmldata/"
CERT_NS_OP = "http://op.fi/mlp/xmldata/"

C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_COMMENTS = C14N + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = EXC_C14N + "WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
TOKEN_VALUE_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
TOKEN_ENCODING = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

#: ``digest name -> (digest method, signature method, cryptography hash)``
ALGORITHMS = {
    "sha1": (
        "http://www.w3.org/2000/09/xmldsig#sha1",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        hashes.SHA1,
    ),
    "sha256": (
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        hashes.SHA256,
    ),
}
_DIGESTS = {uri: (name, hash_cls) for name, (uri, _s, hash_cls) in ALGORITHMS.items()}
_SIGNATURES = {uri: (name, hash_cls) for name, (_d, uri, hash_cls) in ALGORITHMS.items()}
_C14N_METHODS = {
    C14N: (False, False),
    C14N_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N_COMMENTS: (True, True),
}
C14N_BY_NAME = {"inclusive": C14N, "exclusive": EXC_C14N}

#: Operations of the corporate file service: ``name -> request element``.
OPERATIONS = {
    "UploadFile": "uploadFilein",
    "DownloadFileList": "downloadFileListin",
    "DownloadFile": "downloadFilein",
    "DeleteFile": "deleteFilein",
    "GetUserInfo": "getUserInfoin",
}
CERT_OPERATIONS = {
    "GetCertificate": "getCertificatein",
    "RenewCertificate": "getCertificatein",
}

#: Response codes of the service: retryable ones (try again later) apart from
#: the permanent ones (a person must fix something first).
RESPONSE_CODES = {
    "00": "OK",
    "01": "pending",
    "02": "SOAP signature error",
    "03": "SOAP signature error",
    "04": "SOAP signature error",
    "05": "operation unknown",
    "06": "operation is restricted",
    "07": "SenderId not found",
    "08": "SenderId locked",
    "09": "contract locked",
    "10": "SenderId outdated",
    "11": "contract outdated",
    "12": "schema validation failed",
    "13": "CustomerId not found",
    "14": "CustomerId locked",
    "15": "CustomerId outdated",
    "16": "product contract outdated",
    "17": "product contract locked",
    "18": "content digital signature not valid",
    "19": "content certificate not valid",
    "20": "content type not valid",
    "21": "deflate error",
    "22": "decrypt error",
    "23": "content processing error",
    "24": "content not found",
    "25": "content not allowed",
    "26": "technical error",
    "27": "cannot be deleted",
    "29": "invalid parameters",
    "30": "authentication failed",
    "31": "duplicate request",
}
RETRYABLE_CODES = frozenset({"01", "26"})
CERTIFICATE_CODES = frozenset({"02", "03", "04", "18", "19", "30"})

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "bank_ws" / "xsd"
ROOT_CERT_DIR = Path(__file__).resolve().parent.parent / "data" / "bank_ws" / "root_certs"
SCHEMAS = {
    "application_request": "application_request.xsd",
    "application_response": "application_response.xsd",
    "cert_request_nordea": "cert_application_request.xsd",
    "cert_request_op": "op_CertApplicationRequest_200812.xsd",
    "cert_request_samlink": "samlink_CertApplicationRequest.xsd",
    "cert_response_op": "op_CertApplicationResponse_200812.xsd",
    "cert_response_samlink": "samlink_CertApplicationResponse.xsd",
}


# ----------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------
class BankWsError(LinkFormatError):
    """A bank Web Services message is wrong; ``retryable`` says whether
    trying again later may help."""

    retryable = False


class SignatureError(BankWsError):
    """A signature is missing, does not verify, or its certificate is not
    the bank's (not chained to the trusted root, expired)."""


class BankResponseError(BankWsError):
    """The bank answered with a ResponseCode other than 00."""

    def __init__(self, code, text, *, operation=None, **kwargs):
        self.code = code or ""
        self.text = text or ""
        self.operation = operation
        self.retryable = self.code in RETRYABLE_CODES
        self.certificate = self.code in CERTIFICATE_CODES
        meaning = RESPONSE_CODES.get(self.code, "unknown response code")
        what = f"{operation}: " if operation else ""
        super().__init__(f"{what}the bank answered {self.code} ({meaning}): {self.text}".rstrip(": "), **kwargs)


# ----------------------------------------------------------------------
# dataclasses
# ----------------------------------------------------------------------
@dataclass
class ApplicationRequest:
    customer_id: str
    command: str
    environment: str = "PRODUCTION"  # or TEST
    software_id: str = "Heeros Link"
    timestamp: datetime | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: str | None = None  # NEW, DLD, ALL
    service_id: str | None = None
    file_references: list = field(default_factory=list)
    user_filename: str | None = None
    target_id: str | None = None
    execution_serial: str | None = None
    compression: bool | None = None
    compression_method: str | None = None
    file_type: str | None = None
    content: bytes | None = None


@dataclass
class FileDescriptor:
    file_reference: str
    target_id: str = ""
    service_id: str = ""
    file_type: str = ""
    file_timestamp: str = ""
    status: str = ""
    user_filename: str = ""
    parent_file_reference: str = ""
    deletable: bool | None = None


@dataclass
class ApplicationResponse:
    customer_id: str = ""
    timestamp: str = ""
    response_code: str = ""
    response_text: str = ""
    file_descriptors: list = field(default_factory=list)
    user_file_types: list = field(default_factory=list)  # [(file type, name, direction)]
    content: bytes | None = None
    compressed: bool = False
    signer: x509.Certificate | None = field(default=None, repr=False)

    @property
    def ok(self):
        return self.response_code == "00"


@dataclass
class ResponseHeader:
    sender_id: str = ""
    request_id: str = ""
    timestamp: str = ""
    response_code: str = ""
    response_text: str = ""
    receiver_id: str = ""


@dataclass
class Response:
    """A verified SOAP answer: its header, the application response, and the
    certificate that signed the envelope."""

    operation: str
    header: ResponseHeader
    application: object  # ApplicationResponse or CertResponse
    signer: x509.Certificate | None = field(default=None, repr=False)


@dataclass
class CertRequest:
    customer_id: str
    csr_der: bytes
    command: str = "GetCertificate"
    environment: str = "PRODUCTION"
    software_id: str = "Heeros Link"
    namespace: str = CERT_NS_NORDEA
    service: str | None = "MATU"
    pin: str | None = field(default=None, repr=False)
    pin_as: str = "hmac"  # "hmac" (HMAC-SHA1 of the request keyed with the PIN) or "transfer_key"
    timestamp: datetime | None = None


@dataclass
class CertResponse:
    customer_id: str = ""
    timestamp: str = ""
    response_code: str = ""
    response_text: str = ""
    certificates: list = field(default_factory=list)  # x509.Certificate
    signer: x509.Certificate | None = field(default=None, repr=False)

    @property
    def ok(self):
        return self.response_code == "00"


# ----------------------------------------------------------------------
# keys and certificates
# ----------------------------------------------------------------------
def load_key(pem):
    if isinstance(pem, str):
        pem = pem.encode()
    try:
        return serialization.load_pem_private_key(pem, password=None, backend=default_backend())
    except (ValueError, TypeError) as exc:
        raise BankWsError(f"the private key cannot be read (unencrypted PEM expected): {exc}") from None


def load_certificate(data):
    """A certificate from PEM text, DER bytes or base64 DER."""
    if isinstance(data, str):
        data = data.encode()
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data.strip(), default_backend())
        try:
            # DER as it is: its last bytes may well look like white space
            return x509.load_der_x509_certificate(data, default_backend())
        except ValueError:
            return x509.load_der_x509_certificate(base64.b64decode(b"".join(data.split())), default_backend())
    except (ValueError, binascii.Error) as exc:
        raise BankWsError(f"a certificate cannot be read: {exc}") from None


def load_certificates(pem_text):
    """Every certificate of a PEM bundle."""
    if isinstance(pem_text, bytes):
        pem_text = pem_text.decode("ascii", "replace")
    blocks = []
    for part in (pem_text or "").split("-----END CERTIFICATE-----"):
        if "-----BEGIN CERTIFICATE-----" in part:
            blocks.append(part[part.index("-----BEGIN CERTIFICATE-----") :] + "-----END CERTIFICATE-----\n")
    return [load_certificate(block) for block in blocks]


def certificate_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _utc(value):
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def not_after(cert):
    return _utc(cert.not_valid_after)


def not_before(cert):
    return _utc(cert.not_valid_before)


def describe_certificate(cert):
    return cert.subject.rfc4514_string()


def make_key_and_csr(common_name, customer_id, country="FI", key_size=2048, key=None):
    """A new RSA key (unless ``key`` is given) and a PKCS#10 request for it:
    ``(private key PEM, CSR DER)``. The banks take the customer id as the
    subject's serial number and the company's name as its common name."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=key_size, backend=default_backend())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, (common_name or customer_id)[:64])]
    if customer_id:
        names.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, customer_id))
    if country:
        names.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .sign(key, hashes.SHA256(), default_backend())
    )
    return key_pem(key), csr.public_bytes(serialization.Encoding.DER)


def _verify_issued_by(cert, issuer):
    try:
        issuer.public_key().verify(
            cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
        )
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def check_chain(cert, roots, at=None, intermediates=()):
    """Refuse ``cert`` unless it is valid at ``at`` (default now) and is one
    of ``roots`` or issued (directly or through ``intermediates``) by one of
    them. Returns the anchor it chains to."""
    at = _utc(at or datetime.now(UTC))
    if not roots:
        raise SignatureError("no trusted bank root certificate is configured: the bank's signature cannot be checked")
    if not (not_before(cert) <= at <= not_after(cert)):
        raise SignatureError(
            f"the bank's certificate {describe_certificate(cert)} is valid from {not_before(cert):%Y-%m-%d} "
            f"to {not_after(cert):%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M} UTC",
            expected="a certificate valid now",
        )
    current, seen = cert, 0
    pool = list(intermediates)
    while seen < 5:
        for root in roots:
            if current == root:
                return root
            if current.issuer == root.subject and _verify_issued_by(current, root):
                return root
        parent = next((c for c in pool if current.issuer == c.subject and _verify_issued_by(current, c)), None)
        if parent is None:
            break
        pool.remove(parent)
        current, seen = parent, seen + 1
    raise SignatureError(
        f"the certificate {describe_certificate(cert)} (issued by {cert.issuer.rfc4514_string()}) is not "
        "issued by the bank's trusted root certificate",
        expected="the bank root of the connection's bank profile; replace it there if the bank has changed its root",
    )


# ----------------------------------------------------------------------
# canonicalisation, digests, signatures
# ----------------------------------------------------------------------
def _c14n(element, method, whole_document=False):
    """Canonical bytes of ``element`` (a subtree, or the whole document)."""
    try:
        exclusive, comments = _C14N_METHODS[method]
    except KeyError:
        raise SignatureError(
            f"canonicalisation {method} is not supported", expected=" or ".join(_C14N_METHODS)
        ) from None
    if not exclusive and not whole_document:
        # inclusive C14N of a subtree keeps every namespace in scope, also
        # those declared on ancestors: put them on a detached copy's root
        detached = etree.Element(element.tag, nsmap=element.nsmap)
        for name, value in element.attrib.items():
            detached.set(name, value)
        detached.text = element.text
        for child in element:
            detached.append(copy.deepcopy(child))
        element = detached
    return etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=comments)


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _digest(data, name):
    return hashlib.new(ALGORITHMS[name][2].name, data).digest()


def _ds(tag):
    return f"{{{DS}}}{tag}"


def _signed_info(references, algorithm, c14n):
    """``<SignedInfo>`` for ``references``: ``[(uri, transforms, digest)]``."""
    digest_uri, signature_uri, _hash = ALGORITHMS[algorithm]
    signed_info = etree.Element(_ds("SignedInfo"), nsmap={None: DS})
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=c14n)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=signature_uri)
    for uri, transforms, digest in references:
        reference = etree.SubElement(signed_info, _ds("Reference"), URI=uri)
        container = etree.SubElement(reference, _ds("Transforms"))
        for transform in transforms:
            etree.SubElement(container, _ds("Transform"), Algorithm=transform)
        etree.SubElement(reference, _ds("DigestMethod"), Algorithm=digest_uri)
        etree.SubElement(reference, _ds("DigestValue")).text = _b64(digest)
    return signed_info


def _sign_bytes(key, data, algorithm):
    return key.sign(data, padding.PKCS1v15(), ALGORITHMS[algorithm][2]())


def sign_enveloped(document, key, cert, algorithm="sha256", c14n="inclusive"):
    """Sign the root of ``document`` (bytes or element) with an enveloped
    XML signature carrying ``cert``; returns the signed document's bytes."""
    root = xmlsafe.parse(document, "ApplicationRequest") if isinstance(document, bytes) else document
    if algorithm not in ALGORITHMS:
        raise BuildError(f"signature algorithm {algorithm!r} is not supported", expected="sha1 or sha256")
    method = C14N_BY_NAME.get(c14n, c14n)
    for old in root.findall(_ds("Signature")):
        root.remove(old)
    digest = _digest(_c14n(root, method, whole_document=True), algorithm)
    signature = etree.SubElement(root, _ds("Signature"), nsmap={None: DS})
    signed_info = _signed_info([("", [ENVELOPED, method], digest)], algorithm, method)
    signature.append(signed_info)
    value = etree.SubElement(signature, _ds("SignatureValue"))
    key_info = etree.SubElement(signature, _ds("KeyInfo"))
    x509_data = etree.SubElement(key_info, _ds("X509Data"))
    etree.SubElement(x509_data, _ds("X509Certificate")).text = _b64(cert.public_bytes(serialization.Encoding.DER))
    value.text = _b64(_sign_bytes(key, _c14n(signed_info, method), algorithm))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _ids(root):
    """``{id: element}`` of every element with an ``Id`` attribute (wsu:Id,
    Id, ID); an id used twice is refused (signature wrapping)."""
    found = {}
    names = (f"{{{WSU}}}Id", "Id", "ID")
    for element in root.iter(etree.Element):
        for name in names:
            value = element.get(name)
            if value is None:
                continue
            if value in found and found[value] is not element:
                raise SignatureError(f"the id {value!r} is used by two elements", element=xmlsafe.local(element.tag))
            found[value] = element
    return found


def _text(element, path, namespaces=None):
    found = element.find(path, namespaces or {"ds": DS})
    return (found.text or "").strip() if found is not None else ""


def _remove_keeping_tail(element):
    parent = element.getparent()
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _reference_bytes(signature, reference, ids):
    """The bytes a ``<Reference>`` of ``signature`` digests, after its transforms."""
    uri = reference.get("URI")
    transforms = [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", {"ds": DS})]
    if uri == "":
        root = signature.getroottree().getroot()
        position = [e for e in root.iter(_ds("Signature"))].index(signature)
        node = copy.deepcopy(root)
        whole = True
        if ENVELOPED in transforms:
            _remove_keeping_tail([e for e in node.iter(_ds("Signature"))][position])
        elif signature in root.iter():
            raise SignatureError("a signature inside what it signs must use the enveloped-signature transform")
    elif uri and uri.startswith("#"):
        node = ids.get(uri[1:])
        whole = False
        if node is None:
            raise SignatureError(f"the signed element {uri} is not in the message", element="Reference")
        if ENVELOPED in transforms:
            raise SignatureError("an enveloped-signature transform on a referenced element is not supported")
    else:
        raise SignatureError(f"reference URI {uri!r} is not supported", expected='"" or "#id"')
    methods = [t for t in transforms if t != ENVELOPED]
    for method in methods:
        if method not in _C14N_METHODS:
            raise SignatureError(f"transform {method} is not supported", element="Transform")
    return node, _c14n(node, methods[-1] if methods else C14N, whole_document=whole)


def verify_signature(signature, cert, ids=None):
    """Verify a ``<ds:Signature>`` element with ``cert``'s public key;
    returns the elements it signs (the document root for URI ``""``)."""
    if ids is None:
        ids = _ids(signature.getroottree().getroot())
    signed_info = signature.find(_ds("SignedInfo"))
    if signed_info is None:
        raise SignatureError("the signature has no SignedInfo", element="Signature")
    c14n = signed_info.find(_ds("CanonicalizationMethod"))
    method_el = signed_info.find(_ds("SignatureMethod"))
    c14n_uri = c14n.get("Algorithm") if c14n is not None else None
    signature_uri = method_el.get("Algorithm") if method_el is not None else None
    if signature_uri not in _SIGNATURES:
        raise SignatureError(f"signature method {signature_uri} is not supported", element="SignatureMethod")
    references = signed_info.findall(_ds("Reference"))
    if not references:
        raise SignatureError("the signature signs nothing (no Reference)", element="SignedInfo")
    signed = []
    for reference in references:
        digest_uri = (
            reference.find(_ds("DigestMethod")).get("Algorithm")
            if reference.find(_ds("DigestMethod")) is not None
            else None
        )
        if digest_uri not in _DIGESTS:
            raise SignatureError(f"digest method {digest_uri} is not supported", element="DigestMethod")
        node, data = _reference_bytes(signature, reference, ids)
        expected = base64.b64decode(_text(reference, "ds:DigestValue") or "")
        if not hmac.compare_digest(hashlib.new(_DIGESTS[digest_uri][1].name, data).digest(), expected):
            raise SignatureError(
                f"the content signed by reference {reference.get('URI') or '(whole document)'} was changed: "
                "its digest does not match",
                element="DigestValue",
            )
        signed.append(node if reference.get("URI") else signature.getroottree().getroot())
    try:
        value = base64.b64decode(_text(signature, "ds:SignatureValue"))
    except binascii.Error:
        raise SignatureError("the signature value is not base64", element="SignatureValue") from None
    try:
        cert.public_key().verify(
            value, _c14n(signed_info, c14n_uri), padding.PKCS1v15(), _SIGNATURES[signature_uri][1]()
        )
    except (InvalidSignature, ValueError):
        raise SignatureError(
            f"the signature does not verify with the certificate {describe_certificate(cert)}", element="SignatureValue"
        ) from None
    return signed


def verify_enveloped(document, roots=None, at=None, cert=None):
    """Verify the enveloped signature of a document's root (bytes or
    element) with the certificate it carries (or ``cert``), chained to one of
    ``roots``; returns ``(root element, signer)``."""
    root = xmlsafe.parse(document, "ApplicationResponse") if isinstance(document, bytes) else document
    signatures = root.findall(_ds("Signature"))
    if len(signatures) != 1:
        raise SignatureError(
            f"{xmlsafe.local(root.tag)} has {len(signatures)} signatures", expected="one enveloped signature"
        )
    signature = signatures[0]
    if cert is None:
        certificate_text = _text(signature, "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
        if not certificate_text:
            raise SignatureError("the signature carries no certificate", element="KeyInfo")
        cert = load_certificate(certificate_text)
    if roots is not None:
        check_chain(cert, roots, at)
    signed = verify_signature(signature, cert)
    if root not in signed:
        raise SignatureError("the enveloped signature does not sign the whole document", element="Reference")
    return root, cert


# ----------------------------------------------------------------------
# schemas
# ----------------------------------------------------------------------
@cache
def schema(name):
    """A shipped schema, compiled by libxml2 (through lxml): fast enough to
    check every request the Link signs."""
    path = SCHEMA_DIR / SCHEMAS[name]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def validate(document, name, file_name=None):
    """Validate ``document`` (bytes or element) against a shipped schema;
    raise :class:`SchemaViolation` listing every finding with its line."""
    root = xmlsafe.parse(document, file_name) if isinstance(document, bytes) else document
    checker = schema(name)
    if not checker.validate(root.getroottree() if root.getparent() is None else root):
        errors = [f"line {error.line}: {error.message}" for error in checker.error_log]
        raise SchemaViolation(
            f"{xmlsafe.local(root.tag)} does not satisfy {SCHEMAS[name]}",
            errors=errors[:20],
            file_name=file_name,
        )
    return root


# ----------------------------------------------------------------------
# requests
# ----------------------------------------------------------------------
def _timestamp(value=None):
    value = value or datetime.now(UTC)
    return _utc(value).isoformat(timespec="seconds")


def _sub(parent, namespace, tag, text=None):
    element = etree.SubElement(parent, f"{{{namespace}}}{tag}")
    if text is not None:
        element.text = text
    return element


def build_application_request(request):
    """The unsigned ``ApplicationRequest`` of ``request`` (an element)."""
    if not request.customer_id:
        raise BuildError("the customer id (UserID of the agreement) is missing", element="CustomerId")
    if request.environment not in ("PRODUCTION", "TEST"):
        raise BuildError(f"environment {request.environment!r}", element="Environment", expected="PRODUCTION or TEST")
    root = etree.Element(f"{{{BXD}}}ApplicationRequest", nsmap={None: BXD})
    _sub(root, BXD, "CustomerId", request.customer_id)
    _sub(root, BXD, "Command", request.command)
    _sub(root, BXD, "Timestamp", _timestamp(request.timestamp))
    if request.start_date:
        _sub(root, BXD, "StartDate", request.start_date.isoformat())
    if request.end_date:
        _sub(root, BXD, "EndDate", request.end_date.isoformat())
    if request.status:
        _sub(root, BXD, "Status", request.status)
    if request.service_id:
        _sub(root, BXD, "ServiceId", request.service_id)
    _sub(root, BXD, "Environment", request.environment)
    if request.file_references:
        container = _sub(root, BXD, "FileReferences")
        for reference in request.file_references:
            _sub(container, BXD, "FileReference", reference)
    if request.user_filename:
        _sub(root, BXD, "UserFilename", request.user_filename[:80])
    if request.target_id:
        _sub(root, BXD, "TargetId", request.target_id)
    if request.execution_serial:
        _sub(root, BXD, "ExecutionSerial", request.execution_serial)
    if request.compression is not None:
        _sub(root, BXD, "Compression", "true" if request.compression else "false")
    if request.compression_method:
        _sub(root, BXD, "CompressionMethod", request.compression_method)
    _sub(root, BXD, "SoftwareId", request.software_id)
    if request.file_type:
        _sub(root, BXD, "FileType", request.file_type)
    if request.content is not None:
        content = request.content
        if request.compression:
            content = gzip.compress(content, mtime=0)
        _sub(root, BXD, "Content", _b64(content))
    return root


def signed_application_request(request, key, cert, algorithm="sha256", c14n="inclusive"):
    """The signed ``ApplicationRequest`` bytes, checked against its schema."""
    data = sign_enveloped(build_application_request(request), key, cert, algorithm, c14n)
    validate(data, "application_request", "ApplicationRequest")
    return data


def build_cert_request(request, key=None, cert=None, algorithm="sha256", c14n="inclusive"):
    """The ``CertApplicationRequest`` bytes: a first enrolment is
    authenticated by the bank's PIN (an HMAC-SHA1 of the CSR keyed with it,
    or the PIN as transfer key), a renewal by a signature with the current
    key (``key`` and ``cert``)."""
    ns = request.namespace
    root = etree.Element(f"{{{ns}}}CertApplicationRequest", nsmap={None: ns})
    _sub(root, ns, "CustomerId", request.customer_id)
    _sub(root, ns, "Timestamp", _timestamp(request.timestamp))
    _sub(root, ns, "Environment", request.environment)
    _sub(root, ns, "SoftwareId", request.software_id)
    _sub(root, ns, "Command", request.command)
    if request.service:
        _sub(root, ns, "Service", request.service)
    _sub(root, ns, "Content", _b64(request.csr_der))
    if request.pin and request.pin_as == "transfer_key":
        _sub(root, ns, "TransferKey", request.pin)
    elif request.pin:
        mac = hmac.new(request.pin.encode(), request.csr_der, hashlib.sha1).digest()
        _sub(root, ns, "HMAC", _b64(mac))
    elif key is None:
        raise BuildError("a certificate request needs the bank's PIN or the current key", element="HMAC")
    if key is not None:
        return sign_enveloped(root, key, cert, algorithm, c14n)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def new_id(prefix):
    return f"{prefix}-{uuid.uuid4()}"


def build_envelope(
    operation,
    application_request,
    *,
    sender_id,
    receiver_id="",
    key=None,
    cert=None,
    algorithm="sha256",
    language="FI",
    user_agent="Heeros Link",
    request_id=None,
    now=None,
    ttl=300,
    certificate_service=False,
):
    """The SOAP message of ``operation`` carrying ``application_request``
    (bytes, base64-encoded into the body), with its ``RequestHeader``, signed
    with WS-Security when ``key`` is given (certificate service calls
    authenticated by a PIN travel unsigned)."""
    operations = CERT_OPERATIONS if certificate_service else OPERATIONS
    if operation not in operations:
        raise BuildError(f"operation {operation!r} is not supported", expected=", ".join(operations))
    service_ns, header_ns = (CER, CER) if certificate_service else (COR, MOD)
    now = _utc(now or datetime.now(UTC))
    body_id, ts_id, token_id = new_id("Body"), new_id("Timestamp"), new_id("SecurityToken")
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soapenv": SOAP, "cor": service_ns, "mod": header_ns})
    header = _sub(envelope, SOAP, "Header")
    body = _sub(envelope, SOAP, "Body")
    body.set(f"{{{WSU}}}Id", body_id)
    call = _sub(body, service_ns, operations[operation])
    request_header = _sub(call, header_ns, "RequestHeader")
    _sub(request_header, header_ns, "SenderId", sender_id)
    _sub(request_header, header_ns, "RequestId", (request_id or uuid.uuid4().hex)[:35])
    _sub(request_header, header_ns, "Timestamp", _timestamp(now))
    if not certificate_service:
        _sub(request_header, header_ns, "Language", language)
        _sub(request_header, header_ns, "UserAgent", user_agent[:80])
        _sub(request_header, header_ns, "ReceiverId", receiver_id or "")
    _sub(call, header_ns, "ApplicationRequest", _b64(application_request))
    if key is None:
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP}}}mustUnderstand", "1")
    token = _sub(security, WSSE, "BinarySecurityToken", _b64(cert.public_bytes(serialization.Encoding.DER)))
    token.set("EncodingType", TOKEN_ENCODING)
    token.set("ValueType", TOKEN_VALUE_TYPE)
    token.set(f"{{{WSU}}}Id", token_id)
    timestamp = _sub(security, WSU, "Timestamp")
    timestamp.set(f"{{{WSU}}}Id", ts_id)
    _sub(timestamp, WSU, "Created", now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _sub(timestamp, WSU, "Expires", (now + timedelta(seconds=ttl)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    references = [
        (f"#{ts_id}", [EXC_C14N], _digest(_c14n(timestamp, EXC_C14N), algorithm)),
        (f"#{body_id}", [EXC_C14N], _digest(_c14n(body, EXC_C14N), algorithm)),
    ]
    signature = etree.SubElement(security, _ds("Signature"), nsmap={"ds": DS})
    signed_info = _signed_info(references, algorithm, EXC_C14N)
    signature.append(signed_info)
    value = etree.SubElement(signature, _ds("SignatureValue"))
    key_info = etree.SubElement(signature, _ds("KeyInfo"))
    reference_holder = _sub(key_info, WSSE, "SecurityTokenReference")
    _sub(reference_holder, WSSE, "Reference").attrib.update({"URI": f"#{token_id}", "ValueType": TOKEN_VALUE_TYPE})
    value.text = _b64(_sign_bytes(key, _c14n(signed_info, EXC_C14N), algorithm))
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


# ----------------------------------------------------------------------
# responses
# ----------------------------------------------------------------------
def verify_envelope(root, roots=None, at=None, require=True):
    """Verify a SOAP message's WS-Security signature: it must sign the
    envelope's own Body and its Security header's Timestamp, with the
    certificate of its BinarySecurityToken, chained to one of ``roots``.
    Returns the signing certificate (None when unsigned and not ``require``)."""
    header = root.find(f"{{{SOAP}}}Header")
    body = root.find(f"{{{SOAP}}}Body")
    security = header.find(f"{{{WSSE}}}Security") if header is not None else None
    signature = security.find(_ds("Signature")) if security is not None else None
    if signature is None:
        if require:
            raise SignatureError("the SOAP message is not signed", element="Security/Signature")
        return None
    ids = _ids(root)
    token_ref = signature.find(f"{_ds('KeyInfo')}/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference")
    token = None
    if token_ref is not None and (token_ref.get("URI") or "").startswith("#"):
        token = ids.get(token_ref.get("URI")[1:])
    if token is None:
        token = security.find(f"{{{WSSE}}}BinarySecurityToken")
    if token is None or not (token.text or "").strip():
        raise SignatureError("the SOAP signature names no certificate", element="BinarySecurityToken")
    cert = load_certificate(token.text)
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    if roots is not None:
        check_chain(cert, roots, at)
    signed = verify_signature(signature, cert, ids)
    if body is None or body not in signed:
        raise SignatureError("the SOAP signature does not sign the message's Body", element="Body")
    if timestamp is not None and timestamp not in signed:
        raise SignatureError("the SOAP signature does not sign the message's Timestamp", element="Timestamp")
    return cert


def message_time(data):
    """The moment a SOAP message says it was created (its WS-Security
    Timestamp), to check a recorded message's certificates as they were."""
    root = xmlsafe.parse(data, "response")
    found = root.find(f".//{{{WSU}}}Timestamp/{{{WSU}}}Created")
    return _parse_time(found.text.strip()) if found is not None and found.text else None


def _parse_time(text):
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _local_children(element):
    return {xmlsafe.local(child.tag): child for child in element if isinstance(child.tag, str)}


def _child_text(element, name):
    found = _local_children(element).get(name)
    return (found.text or "").strip() if found is not None else ""


def _decoded(text, what):
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedDocument(f"{what} is not valid base64", element=what) from None


def _decompress(data, method):
    method = (method or "RFC1952").upper()
    try:
        if method in ("RFC1952", "GZIP"):
            return gzip.decompress(data)
        return zlib.decompress(data)
    except (OSError, zlib.error, EOFError) as exc:
        raise MalformedDocument(f"the content cannot be decompressed ({method}): {exc}", element="Content") from None


def parse_application_response(document, roots=None, at=None, require_signature=True):
    """An ``ApplicationResponse`` (bytes), its enveloped signature verified
    first (against ``roots``; ``at`` is the moment its certificate must be
    valid at, default now)."""
    root = xmlsafe.parse(document, "ApplicationResponse")
    signer = None
    if root.find(_ds("Signature")) is not None or require_signature:
        root, signer = verify_enveloped(root, roots, at)
    if xmlsafe.local(root.tag) == "CertApplicationResponse":
        return _cert_response(root, signer)
    if xmlsafe.local(root.tag) != "ApplicationResponse":
        raise MalformedDocument(f"unexpected root {xmlsafe.local(root.tag)}", expected="ApplicationResponse")
    response = ApplicationResponse(
        customer_id=_child_text(root, "CustomerId"),
        timestamp=_child_text(root, "Timestamp"),
        response_code=_child_text(root, "ResponseCode"),
        response_text=_child_text(root, "ResponseText"),
        compressed=_child_text(root, "Compressed").lower() == "true",
        signer=signer,
    )
    children = _local_children(root)
    descriptors = children.get("FileDescriptors")
    for descriptor in descriptors if descriptors is not None else ():
        if not isinstance(descriptor.tag, str):
            continue
        deletable = _child_text(descriptor, "Deletable")
        response.file_descriptors.append(
            FileDescriptor(
                file_reference=_child_text(descriptor, "FileReference"),
                target_id=_child_text(descriptor, "TargetId"),
                service_id=_child_text(descriptor, "ServiceId"),
                file_type=_child_text(descriptor, "FileType"),
                file_timestamp=_child_text(descriptor, "FileTimestamp"),
                status=_child_text(descriptor, "Status"),
                user_filename=_child_text(descriptor, "UserFilename"),
                parent_file_reference=_child_text(descriptor, "ParentFileReference"),
                deletable=(deletable.lower() == "true") if deletable else None,
            )
        )
    types = children.get("UserFileTypes")
    for user_type in types if types is not None else ():
        if isinstance(user_type.tag, str):
            response.user_file_types.append(
                (
                    _child_text(user_type, "FileType"),
                    _child_text(user_type, "FileTypeName"),
                    _child_text(user_type, "Direction"),
                )
            )
    if "Content" in children and (children["Content"].text or "").strip():
        content = _decoded(children["Content"].text, "Content")
        if response.compressed:
            content = _decompress(content, _child_text(root, "CompressionMethod"))
        response.content = content
    return response


def _cert_response(root, signer):
    response = CertResponse(
        customer_id=_child_text(root, "CustomerId"),
        timestamp=_child_text(root, "Timestamp"),
        response_code=_child_text(root, "ResponseCode"),
        response_text=_child_text(root, "ResponseText"),
        signer=signer,
    )
    for element in root.iter(etree.Element):
        if xmlsafe.local(element.tag) != "Certificate" or len(element):
            continue
        if etree.QName(element).namespace == DS:
            continue
        response.certificates.append(load_certificate(_decoded(element.text, "Certificate")))
    return response


def parse_cert_response(document, roots=None, at=None, require_signature=True):
    """A ``CertApplicationResponse`` (bytes), signature verified first."""
    response = parse_application_response(document, roots, at, require_signature)
    if not isinstance(response, CertResponse):
        raise MalformedDocument("a certificate response was expected", expected="CertApplicationResponse")
    return response


def parse_response(data, roots=None, at=None, require_signature=True, file_name="response"):
    """A bank's SOAP answer (bytes): a SOAP fault becomes a
    :class:`BankResponseError`; otherwise the envelope's signature and the
    application response's signature are verified (against ``roots``) before
    the response header and the application response are read."""
    root = xmlsafe.parse(data, file_name)
    if root.tag != f"{{{SOAP}}}Envelope":
        raise MalformedDocument(
            f"unexpected root {xmlsafe.local(root.tag)}", file_name=file_name, expected="soap:Envelope"
        )
    body = root.find(f"{{{SOAP}}}Body")
    if body is None or not len(body):
        raise MalformedDocument("the SOAP message has no body", file_name=file_name, element="Body")
    call = body[0]
    name = xmlsafe.local(call.tag)
    if name == "Fault" or name.endswith("Fault"):
        code = _child_text(call, "ReturnCode") or _child_text(call, "faultcode")
        text = _child_text(call, "ReturnText") or _child_text(call, "faultstring")
        raise BankResponseError(code or "26", text, operation=name)
    signer = verify_envelope(root, roots, at, require=require_signature)
    children = _local_children(call)
    header_el = children.get("ResponseHeader")
    header = ResponseHeader()
    if header_el is not None:
        header = ResponseHeader(
            sender_id=_child_text(header_el, "SenderId"),
            request_id=_child_text(header_el, "RequestId"),
            timestamp=_child_text(header_el, "Timestamp"),
            response_code=_child_text(header_el, "ResponseCode"),
            response_text=_child_text(header_el, "ResponseText"),
            receiver_id=_child_text(header_el, "ReceiverId"),
        )
    operation = name[:-3] if name.endswith("out") else name
    if header.response_code and header.response_code != "00":
        raise BankResponseError(header.response_code, header.response_text, operation=operation)
    payload = children.get("ApplicationResponse")
    if payload is None:
        raise MalformedDocument("the answer carries no ApplicationResponse", file_name=file_name, element=name)
    application = parse_application_response(
        _decoded(payload.text, "ApplicationResponse"), roots, at, require_signature
    )
    if application.response_code and application.response_code != "00":
        raise BankResponseError(application.response_code, application.response_text, operation=operation)
    return Response(operation=operation, header=header, application=application, signer=signer)


def unwrap_request(data, file_name="request"):
    """The operation, request header values and application request bytes of
    a SOAP request (what a bank reads; used by the test bank)."""
    root = xmlsafe.parse(data, file_name)
    body = root.find(f"{{{SOAP}}}Body")
    if body is None or not len(body):
        raise MalformedDocument("the SOAP message has no body", element="Body")
    call = body[0]
    children = _local_children(call)
    header = children.get("RequestHeader")
    values = {xmlsafe.local(c.tag): (c.text or "") for c in header} if header is not None else {}
    payload = children.get("ApplicationRequest")
    if payload is None:
        raise MalformedDocument("the request carries no ApplicationRequest", element=xmlsafe.local(call.tag))
    return root, xmlsafe.local(call.tag), values, _decoded(payload.text, "ApplicationRequest")


def application_request_values(root):
    """``{local name: text}`` of an ApplicationRequest's simple children, and
    its file references."""
    values = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = xmlsafe.local(child.tag)
        if name == "FileReferences":
            values[name] = [(c.text or "").strip() for c in child if isinstance(c.tag, str)]
        elif name != "Signature":
            values[name] = (child.text or "").strip()
    return values


def build_application_response(
    customer_id,
    *,
    code="00",
    text="OK",
    descriptors=(),
    content=None,
    compressed=False,
    user_file_types=(),
    namespace=BXD,
    root_name="ApplicationResponse",
    certificates=(),
    now=None,
):
    """An unsigned ``ApplicationResponse`` (or ``CertApplicationResponse``),
    as a bank writes it (used by the test bank and the benchmark)."""
    ns = namespace
    root = etree.Element(f"{{{ns}}}{root_name}", nsmap={"c2b": ns})
    _sub(root, ns, "CustomerId", customer_id)
    _sub(root, ns, "Timestamp", _timestamp(now))
    _sub(root, ns, "ResponseCode", code)
    _sub(root, ns, "ResponseText", text)
    if root_name == "CertApplicationResponse":
        if certificates:
            container = _sub(root, ns, "Certificates")
            for cert in certificates:
                holder = _sub(container, ns, "Certificate")
                _sub(holder, ns, "Name", describe_certificate(cert)[:60])
                _sub(holder, ns, "Certificate", _b64(cert.public_bytes(serialization.Encoding.DER)))
                _sub(holder, ns, "CertificateFormat", "X509v3")
        return root
    _sub(root, ns, "Encrypted", "false")
    _sub(root, ns, "Compressed", "true" if compressed else "false")
    if compressed:
        _sub(root, ns, "CompressionMethod", "RFC1952")
    if descriptors:
        container = _sub(root, ns, "FileDescriptors")
        for item in descriptors:
            descriptor = _sub(container, ns, "FileDescriptor")
            _sub(descriptor, ns, "FileReference", item.file_reference)
            if item.target_id:
                _sub(descriptor, ns, "TargetId", item.target_id)
            if item.service_id:
                _sub(descriptor, ns, "ServiceId", item.service_id)
            if item.user_filename:
                _sub(descriptor, ns, "UserFilename", item.user_filename)
            _sub(descriptor, ns, "FileType", item.file_type)
            _sub(descriptor, ns, "FileTimestamp", item.file_timestamp or _timestamp(now))
            _sub(descriptor, ns, "Status", item.status or "NEW")
    if user_file_types:
        container = _sub(root, ns, "UserFileTypes")
        for file_type, type_name, direction in user_file_types:
            holder = _sub(container, ns, "UserFileType")
            _sub(holder, ns, "FileType", file_type)
            _sub(holder, ns, "FileTypeName", type_name)
            _sub(holder, ns, "Direction", direction)
    if content is not None:
        _sub(root, ns, "Content", _b64(gzip.compress(content, mtime=0) if compressed else content))
    return root


def build_response_envelope(
    operation,
    application_response,
    *,
    sender_id,
    request_id,
    key,
    cert,
    algorithm="sha256",
    now=None,
    certificate_service=False,
    code="00",
    text="OK",
):
    """A bank's signed SOAP answer (used by the test bank and the benchmark)."""
    service_ns, header_ns = (CER, CER) if certificate_service else (COR, MOD)
    now = _utc(now or datetime.now(UTC))
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soapenv": SOAP, "cor": service_ns, "mod": header_ns})
    header = _sub(envelope, SOAP, "Header")
    body = _sub(envelope, SOAP, "Body")
    body_id, ts_id, token_id = new_id("Body"), new_id("Timestamp"), new_id("SecurityToken")
    body.set(f"{{{WSU}}}Id", body_id)
    call = _sub(body, service_ns, f"{(CERT_OPERATIONS if certificate_service else OPERATIONS)[operation][:-2]}out")
    response_header = _sub(call, header_ns, "ResponseHeader")
    _sub(response_header, header_ns, "SenderId", sender_id)
    _sub(response_header, header_ns, "RequestId", request_id)
    _sub(response_header, header_ns, "Timestamp", _timestamp(now))
    _sub(response_header, header_ns, "ResponseCode", code)
    _sub(response_header, header_ns, "ResponseText", text)
    if application_response is not None:
        _sub(call, header_ns, "ApplicationResponse", _b64(application_response))
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP}}}mustUnderstand", "1")
    timestamp = _sub(security, WSU, "Timestamp")
    timestamp.set(f"{{{WSU}}}Id", ts_id)
    _sub(timestamp, WSU, "Created", now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _sub(timestamp, WSU, "Expires", (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    token = _sub(security, WSSE, "BinarySecurityToken", _b64(cert.public_bytes(serialization.Encoding.DER)))
    token.attrib.update({"EncodingType": TOKEN_ENCODING, "ValueType": TOKEN_VALUE_TYPE, f"{{{WSU}}}Id": token_id})
    references = [
        (f"#{ts_id}", [EXC_C14N], _digest(_c14n(timestamp, EXC_C14N), algorithm)),
        (f"#{body_id}", [EXC_C14N], _digest(_c14n(body, EXC_C14N), algorithm)),
    ]
    signature = etree.SubElement(security, _ds("Signature"), nsmap={None: DS})
    signed_info = _signed_info(references, algorithm, EXC_C14N)
    signature.append(signed_info)
    value = etree.SubElement(signature, _ds("SignatureValue"))
    key_info = etree.SubElement(signature, _ds("KeyInfo"))
    holder = _sub(key_info, WSSE, "SecurityTokenReference")
    _sub(holder, WSSE, "Reference").attrib.update({"URI": f"#{token_id}", "ValueType": TOKEN_VALUE_TYPE})
    value.text = _b64(_sign_bytes(key, _c14n(signed_info, EXC_C14N), algorithm))
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
