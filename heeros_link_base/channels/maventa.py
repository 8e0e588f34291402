"""Maventa (Visma) REST API channel.

* Authentication: OAuth2 client credentials at ``POST /oauth2/token``: the
  company's UUID as client id, a user's API key as secret, the software
  vendor's API key, and the scopes for sending and receiving invoices. The
  token is cached (per service, company and key) until shortly before it
  expires; an API call refused with 401 fetches a new one once.
* Sending: ``POST /v1/invoices`` with the file (Finvoice or UBL, or a ZIP of
  the file and its attachments) and a client-generated id in the
  ``Idempotency-Key`` header, the same for every attempt of one Link message:
  a repeated call is answered with the first delivery.
* Receiving: ``GET /v1/invoices?direction=RECEIVED`` over a time window,
  page by page; each invoice is downloaded in a format the Link reads
  (Finvoice 3.0, or the original UBL) with its image and attachments.
* Delivery status: ``GET /v1/invoices/{id}`` and its actions.
"""

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta

from ..formats.text import translator
from .base import ChannelAuthError, ChannelConfigError, ChannelError, RemoteFile, register
from .operator import DeliveryStatus, OperatorChannel, OperatorRefused, error_text, zip_files

_lt = translator(__name__)

SCOPES = "eui global company"
#: Formats of received invoices the Link reads as such; others are asked as Finvoice 3.0.
READABLE_FORMATS = {"FINVOICE30", "PEPPOLBIS30", "UBL21"}
DELIVERED = {"DELIVERED", "DELIVERY_CONFIRMED", "RECEIVED_BY_RECIPIENT"}
FAILED = {"FAILED", "ERROR", "REJECTED", "UNDELIVERABLE"}
#: A listing window reaches this far back over the previous one: an invoice
#: recorded by the operator while the last listing ran is not missed.
WINDOW_OVERLAP = timedelta(minutes=10)
PAGE_SIZE = 100
#: A token is renewed this many seconds before the operator says it expires.
TOKEN_MARGIN = 30

_tokens = {}
_tokens_lock = threading.Lock()


def _iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text):
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def forget_tokens():
    """Drop every cached token (tests; a changed API key)."""
    with _tokens_lock:
        _tokens.clear()


@register("maventa", _lt("Maventa (e-invoice operator)"))
class MaventaChannel(OperatorChannel):
    idempotent = True
    reports_status = True

    def __init__(self, config):
        super().__init__(config)
        self._listed = {}

    # ------------------------------------------------------------------
    # authentication
    # ------------------------------------------------------------------
    def _token_key(self):
        config = self.config
        secret = hashlib.sha256(f"{config.password}\0{config.vendor_key}".encode()).hexdigest()
        return (config.url, config.username, secret)

    def _token(self, renew=False):
        config = self.config
        if not (config.username and config.password):
            raise ChannelConfigError("the Maventa connection needs the company UUID and a user API key")
        key = self._token_key()
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not renew and cached[1] > time.monotonic():
                return cached[0]
        response = self._request(
            "POST",
            "/oauth2/token",
            "token request",
            data={
                "grant_type": "client_credentials",
                "client_id": config.username,
                "client_secret": config.password,
                "vendor_api_key": config.vendor_key,
                "scope": SCOPES,
            },
        )
        if response.status_code in (400, 401, 403):
            payload = self._json(response, "Maventa token request") if response.content else {}
            raise ChannelAuthError(
                f"Maventa refused the credentials of company {config.username} "
                f"(HTTP {response.status_code}: {error_text(payload)}): check the company UUID, "
                "the user API key and the vendor API key"
            )
        self._check(response, "token request")
        payload = self._json(response, "Maventa token request")
        token = payload.get("access_token")
        if not token:
            raise ChannelError("Maventa token request: the answer holds no access token")
        lifetime = int(payload.get("expires_in") or 0)
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 0))
        return token

    def _api(self, method, path, what, sent_body=False, **kwargs):
        """An API call with the cached token; a 401 renews it once."""
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (0, 1):
            headers["Authorization"] = f"Bearer {self._token(renew=attempt == 1)}"
            response = self._request(method, path, what, sent_body=sent_body, headers=headers, **kwargs)
            if response.status_code != 401:
                break
        if response.status_code == 401:
            raise ChannelAuthError(f"Maventa: {what}: the access token was refused even after renewing it")
        self._check(response, what)
        return response

    def _check(self, response, what):
        status = response.status_code
        if status < 400:
            return
        try:
            text = error_text(response.json())
        except ValueError:
            text = (response.text or "").strip()[:300] or response.reason
        if status == 403:
            raise ChannelAuthError(f"Maventa: {what}: not allowed ({text}): check the API key's scopes")
        if status == 404:
            raise ChannelConfigError(f"Maventa: {what}: {response.url} does not exist ({text}): check the address")
        if status in (400, 409, 413, 415, 422):
            raise OperatorRefused(f"Maventa refused the {what.split(' ')[0]} (HTTP {status}): {text}")
        raise ChannelError(f"Maventa: {what}: HTTP {status}: {text}")

    # ------------------------------------------------------------------
    # sending and status
    # ------------------------------------------------------------------
    def send(self, name, data, token, parts=()):
        if parts:
            file_name = name.rsplit(".", 1)[0] + ".zip"
            body = zip_files([(name, data), *((part.name, part.data) for part in parts)])
            mimetype = "application/zip"
        else:
            file_name, body, mimetype = name, data, "application/xml"
        headers = {"Idempotency-Key": token} if token else {}
        response = self._api(
            "POST",
            "/v1/invoices",
            f"invoice {name}",
            sent_body=True,
            headers=headers,
            files={"file": (file_name, body, mimetype)},
        )
        remote_id = (self._json(response, "Maventa invoice sending") or {}).get("id")
        if not remote_id:
            raise ChannelError(f"Maventa took invoice {name} but answered without its id")
        return str(remote_id)

    def statuses(self, remote_ids):
        found = []
        for remote_id in remote_ids:
            try:
                response = self._api("GET", f"/v1/invoices/{remote_id}", f"status of invoice {remote_id}")
            except ChannelConfigError:
                continue  # unknown to the operator: nothing to say
            found.append(self._status(remote_id, self._json(response, "Maventa invoice status")))
        return found

    @staticmethod
    def _status(remote_id, payload):
        operator_state = str(payload.get("status") or "").upper()
        actions = payload.get("actions") or []
        if operator_state in DELIVERED:
            state = "delivered"
        elif operator_state in FAILED:
            state = "failed"
        else:
            state = "sent"
        moment, reason = _parse_time(payload.get("updated_at")), ""
        for action in reversed(actions):
            kind = str(action.get("type") or "").upper()
            if (state == "delivered" and kind in DELIVERED) or (state == "failed" and kind in FAILED):
                moment = _parse_time(action.get("timestamp") or action.get("created_at")) or moment
                reason = action.get("message") or ""
                break
        if state == "failed" and not reason:
            reason = payload.get("error") or operator_state
        return DeliveryStatus(str(remote_id), state, moment, reason, operator_state)

    # ------------------------------------------------------------------
    # receiving
    # ------------------------------------------------------------------
    def list(self):
        now = datetime.now(UTC).replace(microsecond=0)
        since = self.config.since
        start = (since.replace(tzinfo=UTC) - WINDOW_OVERLAP) if since else now - timedelta(days=30)
        files, page = [], 1
        while True:
            response = self._api(
                "GET",
                "/v1/invoices",
                "list of received invoices",
                params={
                    "direction": "RECEIVED",
                    "received_at_start": _iso(start),
                    "received_at_end": _iso(now),
                    "page": page,
                    "per_page": PAGE_SIZE,
                },
            )
            rows = self._json(response, "Maventa invoice list")
            if not isinstance(rows, list):
                raise ChannelError("Maventa invoice list: the answer is not a list")
            for row in rows:
                remote_id = str(row.get("id") or "")
                if not remote_id:
                    continue
                self._listed[remote_id] = row
                number = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(row.get("number") or remote_id))
                files.append(RemoteFile(name=f"maventa-{number}.xml", path=remote_id))
            total_pages = int(response.headers.get("X-Total-Pages") or 0)
            if len(rows) < PAGE_SIZE or (total_pages and page >= total_pages):
                break
            page += 1
        self.next_since = now.replace(tzinfo=None)
        return files

    def download_parts(self, remote):
        remote_id = remote.path
        row = self._listed.get(remote_id)
        if row is None:
            row = self._json(self._api("GET", f"/v1/invoices/{remote_id}", f"invoice {remote_id}"), "Maventa invoice")
        files = row.get("files") or []
        original = str(row.get("original_invoice_format") or "").upper()
        invoice_file = next((f for f in files if str(f.get("type")).upper() == "INVOICE"), None)
        if original in READABLE_FORMATS and invoice_file:
            data = self._file(remote_id, invoice_file)
            name = invoice_file.get("file") or remote.name
        else:
            data = self._api(
                "GET",
                f"/v1/invoices/{remote_id}/download",
                f"download of invoice {remote_id}",
                params={"format": "FINVOICE30"},
            ).content
            name = remote.name
        found = [(name, data)]
        for extra in files:
            if str(extra.get("type")).upper() in ("IMAGE", "ATTACHMENT"):
                found.append((extra.get("file") or f"{extra.get('id')}.bin", self._file(remote_id, extra)))
        return found

    def _file(self, remote_id, file_row):
        return self._api(
            "GET",
            f"/v1/invoices/{remote_id}/files/{file_row.get('id')}",
            f"file {file_row.get('file') or file_row.get('id')} of invoice {remote_id}",
        ).content

    def confirm(self, remote):
        """Nothing to confirm: the next listing starts where this one began
        (the Link skips invoices it already holds)."""

    def test(self):
        self._token(renew=True)
        response = self._api("GET", "/v1/company", "company details")
        company = self._json(response, "Maventa company")
        name = company.get("name") if isinstance(company, dict) else None
        return f"token received; company {name or self.config.username}"
