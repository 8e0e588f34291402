"""The channel interface: how bytes travel, knowing nothing of formats.

A channel is opened with a :class:`ChannelConfig` (plain values, secrets
included, built by the connection model) and offers five operations:

* ``list()`` the files waiting in the inbox,
* ``download(remote)`` one of them,
* ``confirm(remote)`` after it has been stored safely (move to the archive
  folder, or delete, as configured),
* ``upload(name, data)`` into the outbox, atomically (temporary name, then
  rename), returning the final remote name,
* ``exists(name)`` in the outbox, so that a message found in ``sending``
  after a crash can be checked instead of blindly sent again.

Channels that can upload in two phases set ``two_phase = True`` and offer
``stage(name, data, token)`` (write under a temporary name derived only from
``token``, so a retry finds the same file), ``staged(token)``,
``publish(name, token)`` (move the staged file into place atomically) and
``discard(token)``. The caller records between the two phases that the file
is staged, so after a crash it knows whether the move can have happened.
Channels without it (a web service without client-generated ids) leave
``two_phase`` false: an interrupted upload of theirs is reported for a person
to check, never repeated automatically.

Implementations register themselves with :func:`register`; the connection
model offers every registered protocol in its selection.
"""

from dataclasses import dataclass, field

from ..formats.text import translator

_lt = translator(__name__)


class ChannelError(Exception):
    """A transport problem. ``retryable`` tells the scheduler whether trying
    again later may help (network down) or not (wrong password)."""

    retryable = True


class ChannelConfigError(ChannelError):
    """The connection is configured wrongly: retrying will not help."""

    retryable = False


class ChannelAuthError(ChannelError):
    """The remote side refused our credentials."""

    retryable = False


class HostKeyMismatch(ChannelError):
    """The server's host key is not the pinned one: we refuse to talk to it."""

    retryable = False


@dataclass(frozen=True)
class RemoteFile:
    """A file waiting on the remote side."""

    name: str
    size: int | None = None
    mtime: float | None = None
    path: str = ""  # full remote path; the channel's own business


@dataclass
class ChannelConfig:
    """Everything a channel needs to talk to the remote side.

    Folder settings are relative to the channel's root (a local path or the
    SFTP user's home); secrets are filled only at the moment of use.
    """

    protocol: str
    inbox: str = "inbox"
    outbox: str = "outbox"
    archive: str = "archive"
    after_download: str = "move"  # 'move' to archive, or 'delete'
    root: str = ""  # local folder
    allowed_root: str = ""  # the local folder must stay inside this one (when set)
    host: str = ""
    port: int = 22
    username: str = ""
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    host_key: str = ""  # "ssh-ed25519 AAAA..." (OpenSSH known_hosts form)
    timeout: float = 30.0
    max_size: int = 0  # refuse larger downloads (0 = no limit)


_REGISTRY = {}


def register(protocol, label):
    """Class decorator: make a channel available under ``protocol``."""

    def decorate(cls):
        cls.protocol = protocol
        cls.label = label
        _REGISTRY[protocol] = cls
        return cls

    return decorate


def protocols():
    """``[(code, label), ...]`` of every registered channel."""
    return sorted(((code, cls.label) for code, cls in _REGISTRY.items()), key=lambda p: p[1])


def open_channel(config):
    """Return an opened channel for the config (use it as a context manager)."""
    try:
        cls = _REGISTRY[config.protocol]
    except KeyError:
        raise ChannelConfigError(f"no channel is registered for protocol {config.protocol!r}") from None
    return cls(config)


class Channel:
    """Base class; subclasses implement the five operations."""

    protocol = None
    label = None

    def __init__(self, config):
        self.config = config

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def open(self):
        """Connect (no-op for channels without a session)."""

    def close(self):
        """Disconnect."""

    def list(self):
        raise NotImplementedError

    def download(self, remote):
        raise NotImplementedError

    def confirm(self, remote):
        raise NotImplementedError

    def upload(self, name, data):
        raise NotImplementedError

    def exists(self, name):
        raise NotImplementedError

    #: True when stage/staged/publish/discard give an idempotent two-phase upload.
    two_phase = False

    def stage(self, name, data, token):
        """Write ``data`` under the temporary name of ``token`` (replacing an
        earlier, interrupted attempt of the same token)."""
        raise NotImplementedError

    def staged(self, token):
        """Whether the temporary file of ``token`` is there (not yet published)."""
        raise NotImplementedError

    def publish(self, name, token):
        """Move the staged file of ``token`` to ``name`` atomically; return the
        final remote name."""
        raise NotImplementedError

    def discard(self, token):
        """Remove the staged file of ``token`` if there is one."""
        raise NotImplementedError

    def test(self):
        """Check that the remote side answers; return a short description."""
        files = self.list()
        return _lt(
            "connected; %(count)s file(s) waiting in %(folder)s", count=len(files), folder=repr(self.config.inbox)
        )
