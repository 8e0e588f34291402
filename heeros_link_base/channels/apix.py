"""Apix Messaging REST API channel.

* Authentication by digest: every call carries a timestamp ``t`` and
  ``d=SHA-256:<hex>``, the SHA-256 of the call's parameters in their
  documented order and the shared secret, joined with ``+``. The secret is
  the company's TransferKey for sending and listing, a received document's
  StorageKey for downloading it. Secrets never travel.
* Sending: ``PUT /invoices`` with a ZIP holding the Finvoice (or UBL) file,
  ``invoice.pdf`` (the invoice image) and ``attachments.zip`` (the other
  attachments).
* Receiving: ``GET /list2`` lists the documents waiting (StorageID,
  StorageKey, status); ``GET /download`` fetches one; it is marked received
  (``markreceived=yes``) only after the Link has stored it.
* Every answer is an XML ``Response`` with ``Status`` and ``StatusCode``:
  codes are turned into readable errors.
"""

import hashlib
from datetime import UTC, datetime

from lxml import etree

from ..formats.text import translator
from .base import ChannelAuthError, ChannelConfigError, ChannelError, RemoteFile, register
from .operator import OperatorChannel, OperatorRefused, unzip_files, zip_files

_lt = translator(__name__)

SOFTWARE = "HeerosLink"
VERSION = "18.0"
#: What Apix's status codes mean, for a person (unknown codes show Apix's text).
STATUS_TEXTS = {
    "4001": "a parameter is missing or malformed",
    "4002": "the digest does not match: check the TransferID and TransferKey",
    "4003": "the timestamp is too far from Apix's clock: check the server's time",
    "4004": "the TransferID is not known to Apix",
    "4010": "the document is not valid",
    "4011": "the same document was already sent",
    "4040": "the stored document does not exist or was already received",
    "5000": "Apix had an internal error",
}
AUTH_CODES = {"4002", "4003", "4004"}
REFUSED_CODES = {"4010", "4011"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
PDF_MIMETYPE = "application/pdf"


def digest(values, secret):
    """``SHA-256:<hex>`` of the values and the secret joined with ``+``."""
    text = "+".join([*(str(v) for v in values), secret])
    return "SHA-256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def timestamp(moment=None):
    return (moment or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")


def parse_response(data):
    """``(status, code, free text, [ {type: value} per group ])`` of an Apix answer."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ChannelError(f"Apix answered with something that is not its XML Response: {exc}") from None
    groups = [
        {value.get("type"): (value.text or "").strip() for value in group.iter("Value")} for group in root.iter("Group")
    ]
    return (
        (root.findtext("Status") or "").strip(),
        (root.findtext("StatusCode") or "").strip(),
        (root.findtext("FreeText") or "").strip(),
        groups,
    )


@register("apix", _lt("Apix (e-invoice operator)"))
class ApixChannel(OperatorChannel):
    def __init__(self, config):
        super().__init__(config)
        self._keys = {}

    def _ids(self):
        if not (self.config.username and self.config.password):
            raise ChannelConfigError("the Apix connection needs the TransferID and the TransferKey")
        return self.config.username, self.config.password

    def _call(self, method, path, what, params, sent_body=False, **kwargs):
        response = self._request(method, path, what, sent_body=sent_body, params=params, **kwargs)
        if response.status_code == 404 and b"<Response" not in response.content[:200]:
            raise ChannelConfigError(f"Apix: {what}: {response.url.split('?')[0]} does not exist: check the address")
        if response.status_code >= 500:
            raise ChannelError(f"Apix: {what}: HTTP {response.status_code}")
        return response

    def _verdict(self, response, what):
        status, code, text, groups = parse_response(response.content)
        if status == "OK":
            return groups
        meaning = STATUS_TEXTS.get(code, "")
        detail = "; ".join(filter(None, [meaning, text])) or "no reason given"
        message = f"Apix: {what}: {detail} (status code {code or '?'})"
        if code in AUTH_CODES:
            raise ChannelAuthError(message)
        if code in REFUSED_CODES:
            raise OperatorRefused(message)
        if code.startswith("5"):
            raise ChannelError(message)
        raise OperatorRefused(message)

    # ------------------------------------------------------------------
    def send(self, name, data, token, parts=()):
        transfer_id, key = self._ids()
        pdf = next((p for p in parts if p.mimetype == PDF_MIMETYPE), None)
        others = [p for p in parts if p is not pdf]
        files = [(name, data)]
        if pdf is not None:
            files.append(("invoice.pdf", pdf.data))
        if others:
            files.append(("attachments.zip", zip_files([(p.name, p.data) for p in others])))
        t = timestamp()
        params = {"soft": SOFTWARE, "ver": VERSION, "TraID": transfer_id, "t": t}
        params["d"] = digest([SOFTWARE, VERSION, transfer_id, t], key)
        response = self._call(
            "PUT",
            "/invoices",
            f"invoice {name}",
            params,
            sent_body=True,
            data=zip_files(files),
            headers={"Content-Type": "application/octet-stream"},
        )
        groups = self._verdict(response, f"invoice {name}")
        values = {k: v for group in groups for k, v in group.items()}
        remote_id = values.get("BatchID") or values.get("DocumentID")
        if not remote_id:
            raise ChannelError(f"Apix took invoice {name} but answered without a batch id")
        return remote_id

    # ------------------------------------------------------------------
    def list(self):
        transfer_id, key = self._ids()
        t = timestamp()
        params = {"TraID": transfer_id, "t": t, "d": digest([transfer_id, t], key)}
        groups = self._verdict(self._call("GET", "/list2", "list of received documents", params), "list2")
        files = []
        for group in groups:
            storage_id, storage_key = group.get("StorageID"), group.get("StorageKey")
            if not storage_id or not storage_key or (group.get("StorageStatus") or "").upper() == "RECEIVED":
                continue
            self._keys[storage_id] = storage_key
            files.append(RemoteFile(name=f"apix-{storage_id}.zip", path=storage_id))
        return files

    def _download(self, remote, mark=False):
        storage_id = remote.path
        key = self._keys.get(storage_id)
        if not key:
            raise ChannelError(f"Apix: document {storage_id} was not listed in this session")
        t = timestamp()
        params = {"SID": storage_id}
        values = [storage_id]
        if mark:
            params["markreceived"] = "yes"
            values.append("yes")
        params["t"] = t
        params["d"] = digest([*values, t], key)
        response = self._call("GET", "/download", f"download of document {storage_id}", params)
        if response.content[:2] != b"PK":
            self._verdict(response, f"download of document {storage_id}")
            raise ChannelError(f"Apix: download of document {storage_id}: the answer is not a ZIP archive")
        return response.content

    def download_parts(self, remote):
        files = unzip_files(self._download(remote), self.config.max_size, f"Apix document {remote.path}")
        unpacked = []
        for name, data in files:
            if name.lower() == "attachments.zip":
                unpacked += unzip_files(data, self.config.max_size, f"attachments of Apix document {remote.path}")
            else:
                unpacked.append((name, data))
        xml = [f for f in unpacked if f[0].lower().endswith(".xml")]
        if not xml:
            raise ChannelError(f"Apix document {remote.path} holds no XML invoice")
        return [xml[0], *(f for f in unpacked if f is not xml[0])]

    def confirm(self, remote):
        self._download(remote, mark=True)

    def test(self):
        return f"connected; {len(self.list())} document(s) waiting"
