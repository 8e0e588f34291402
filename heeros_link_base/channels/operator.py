"""What the e-invoice operator channels (Maventa, Apix) share.

An operator is not a folder: a document is handed over by a web service call
that answers with the operator's id for it, received documents are listed by
the operator's own ids, and the operator later tells what became of a sent
document. On top of the five operations of :class:`~.base.Channel` an
operator channel offers:

* ``send(name, data, token, parts)`` hands the document (and the files that
  travel with it) over and returns the operator's id. Channels with
  ``idempotent = True`` carry ``token`` as a client-generated id: sending the
  same token again is answered with the first delivery, never a second one,
  so an interrupted send can simply be repeated.
* ``statuses(remote_ids)`` returns a :class:`DeliveryStatus` per id the
  operator knows (channels with ``reports_status = True``).
* ``download_parts(remote)`` returns the received document first, then its
  image and attachments, as ``[(file name, bytes)]``.

Errors say whether trying again can help: :class:`OperatorRefused` (the
operator looked at the document and will never take it), ``ChannelAuthError``
(credentials), a plain ``ChannelError`` (network down, operator answering
500: try later) and :class:`DeliveryUnknown` (the request may have reached
the operator but no answer came back, on a channel that cannot be asked).
"""

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

import requests

from .base import Channel, ChannelAuthError, ChannelConfigError, ChannelError

DELIVERY_STATES = ("sent", "delivered", "failed")


class OperatorRefused(ChannelError):
    """The operator refused the document itself: sending it again as it is
    will be refused again."""

    retryable = False


class DeliveryUnknown(ChannelError):
    """The request may have reached the operator; the answer was lost."""

    retryable = False


@dataclass(frozen=True)
class DeliveryStatus:
    """What the operator says about one sent document."""

    remote_id: str
    state: str  # one of DELIVERY_STATES
    time: datetime | None = None
    reason: str = ""  # for a person, when failed
    operator_state: str = ""  # the operator's own code, for the log

    def __post_init__(self):
        if self.state not in DELIVERY_STATES:
            raise ValueError(f"delivery state {self.state!r} is not one of {', '.join(DELIVERY_STATES)}")


@dataclass
class Part:
    """A file travelling with a document (image, attachment)."""

    name: str
    data: bytes = field(repr=False)
    mimetype: str = "application/octet-stream"


def zip_files(files):
    """``[(name, bytes)]`` as one ZIP archive (deflated, names as given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def unzip_files(data, limit, what):
    """The files of a ZIP archive, refusing one that unpacks beyond ``limit``
    bytes or holds paths (a hostile archive)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ChannelError(f"{what} is not a ZIP archive") from None
    files, total = [], 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if not name or name.startswith("."):
                continue
            total += info.file_size
            if limit and total > limit:
                raise ChannelError(f"{what} unpacks to more than {limit} bytes: refused")
            files.append((name, archive.read(info)))
    return files


class OperatorChannel(Channel):
    """Base of the web-service channels: one HTTP session, errors mapped."""

    idempotent = False
    reports_status = False
    session = None
    #: Where the next listing of received documents starts (set by ``list``).
    next_since = None

    def open(self):
        if not self.config.url:
            raise ChannelConfigError(f"the {self.label} connection has no service address (choose its environment)")
        self.session = requests.Session()

    def close(self):
        if self.session is not None:
            self.session.close()
            self.session = None

    def _url(self, path):
        return self.config.url.rstrip("/") + path

    def _request(self, method, path, what, sent_body=False, **kwargs):
        """One HTTP call. A connection that could not be made, or an answer
        5xx, is retryable; a timeout after the request went out is
        :class:`DeliveryUnknown` when ``sent_body`` says the call hands a
        document over."""
        if self.session is None:
            self.open()
        kwargs.setdefault("timeout", self.config.timeout)
        try:
            response = self.session.request(method, self._url(path), **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise ChannelError(f"{self.label}: {what}: {self._host()} did not answer (connection timed out)") from None
        except requests.exceptions.ConnectionError as exc:
            if sent_body and not _refused(exc):
                raise DeliveryUnknown(
                    f"{self.label}: {what}: the connection to {self._host()} broke before an answer came"
                ) from None
            raise ChannelError(f"{self.label}: {what}: cannot reach {self._host()}") from None
        except (TimeoutError, requests.exceptions.Timeout):
            if sent_body:
                raise DeliveryUnknown(
                    f"{self.label}: {what}: no answer from {self._host()} within {self.config.timeout:g} s"
                ) from None
            raise ChannelError(f"{self.label}: {what}: no answer within {self.config.timeout:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise ChannelError(f"{self.label}: {what}: {exc.__class__.__name__}") from None
        if self.config.max_size and len(response.content) > self.config.max_size:
            raise ChannelError(f"{self.label}: {what}: the answer is larger than {self.config.max_size} bytes")
        return response

    def _host(self):
        return self.config.url.split("//", 1)[-1].split("/", 1)[0]

    @staticmethod
    def _json(response, what):
        try:
            return response.json()
        except ValueError:
            raise ChannelError(f"{what}: the answer is not JSON (HTTP {response.status_code})") from None

    # the folder operations that have no meaning here
    def upload(self, name, data):
        return self.send(name, data, token=None, parts=())

    def exists(self, name):
        return False

    def send(self, name, data, token, parts=()):
        raise NotImplementedError

    def statuses(self, remote_ids):
        return []

    def download_parts(self, remote):
        return [(remote.name, self.download(remote))]

    def download(self, remote):
        return self.download_parts(remote)[0][1]


def _refused(exc):
    """Whether a requests connection error means nothing was sent (refused,
    unknown host) rather than a connection lost midway."""
    text = repr(exc)
    return any(s in text for s in ("ConnectionRefused", "Errno 111", "NameResolution", "Name or service not known"))


def error_text(payload):
    """A readable text out of an operator's JSON error answer."""
    if isinstance(payload, dict):
        for key in ("message", "error_description", "error", "detail", "code"):
            value = payload.get(key)
            if value:
                return value if isinstance(value, str) else json.dumps(value)
    return json.dumps(payload)[:500]


__all__ = [
    "ChannelAuthError",
    "DeliveryStatus",
    "DeliveryUnknown",
    "OperatorChannel",
    "OperatorRefused",
    "Part",
    "unzip_files",
    "zip_files",
]
