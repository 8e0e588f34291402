"""SFTP channel (paramiko).

* The server's host key must be pinned (OpenSSH ``known_hosts`` form, e.g.
  ``ssh-ed25519 AAAAC3...``). A server presenting another key is refused
  before any credential is sent. :func:`fetch_host_key` reads the key a
  server presents so an administrator can check its fingerprint and pin it.
* Authentication by private key (Ed25519, ECDSA or RSA; optional passphrase)
  or by password.
* Uploads go to a hidden temporary name in the outbox and are renamed when
  complete; downloads are confirmed (moved to the archive folder or deleted)
  only when the caller says the file is stored.
"""

import base64
import hashlib
import io
import posixpath
import socket
import stat
import uuid

import paramiko

from ..formats.text import translator
from .base import (
    Channel,
    ChannelAuthError,
    ChannelConfigError,
    ChannelError,
    HostKeyMismatch,
    RemoteFile,
    register,
)
from .names import is_plain_name, safe_name

_lt = translator(__name__)
_KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def fingerprint(key):
    """OpenSSH-style SHA256 fingerprint of a paramiko key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_host_key(text):
    """``'ssh-ed25519 AAAA... comment'`` -> (key type, paramiko key)."""
    parts = (text or "").split()
    if len(parts) >= 3 and not parts[0].startswith(("ssh-", "ecdsa-")):
        parts = parts[1:]  # a known_hosts line starting with the host name
    if len(parts) < 2:
        raise ChannelConfigError(
            "the pinned host key must look like 'ssh-ed25519 AAAAC3Nza...' "
            "(a line of known_hosts or of the server's *.pub host key file)"
        )
    try:
        key = paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1]))
    except Exception as exc:  # noqa: BLE001 - paramiko raises several types for bad keys
        raise ChannelConfigError(f"the pinned host key cannot be read: {exc}") from None
    return parts[0], key


def load_private_key(text, passphrase=""):
    errors = []
    for cls in _KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text), password=passphrase or None)
        except paramiko.PasswordRequiredException:
            raise ChannelConfigError("the private key is encrypted: set its passphrase") from None
        except (paramiko.SSHException, ValueError) as exc:
            errors.append(f"{cls.__name__}: {exc}")
    raise ChannelConfigError("the private key cannot be read (OpenSSH or PEM Ed25519/ECDSA/RSA key expected)")


def _transport(config, key_type=None):
    if not config.host:
        raise ChannelConfigError("the SFTP connection has no host")
    try:
        sock = socket.create_connection((config.host, int(config.port or 22)), timeout=config.timeout)
    except OSError as exc:
        raise ChannelError(f"cannot reach {config.host}:{config.port}: {exc.strerror or exc}") from None
    transport = paramiko.Transport(sock)
    transport.banner_timeout = config.timeout
    transport.auth_timeout = config.timeout
    if key_type:
        # Ask the server for the key type we pinned, not whatever it prefers.
        transport.get_security_options().key_types = [key_type]
    try:
        transport.start_client(timeout=config.timeout)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        transport.close()
        raise ChannelError(f"SSH handshake with {config.host}:{config.port} failed: {exc}") from None
    return transport


def fetch_host_key(config):
    """Connect without authenticating and return the server's host key as
    ``(known_hosts line, fingerprint)``."""
    transport = _transport(config, key_type=None)
    try:
        key = transport.get_remote_server_key()
        return f"{key.get_name()} {key.get_base64()}", fingerprint(key)
    finally:
        transport.close()


@register("sftp", _lt("SFTP"))
class SftpChannel(Channel):
    transport = None
    sftp = None

    def open(self):
        config = self.config
        if not config.host_key:
            raise ChannelConfigError(
                f"no host key is pinned for {config.host}: fetch the server's key, check its "
                "fingerprint with the server's administrator and pin it before connecting"
            )
        key_type, pinned = parse_host_key(config.host_key)
        self.transport = _transport(config, key_type=key_type)
        offered = self.transport.get_remote_server_key()
        if offered.asbytes() != pinned.asbytes():
            self.close()
            raise HostKeyMismatch(
                f"host key of {config.host}:{config.port} does not match the pinned key: "
                f"server offered {offered.get_name()} {fingerprint(offered)}, "
                f"pinned is {pinned.get_name()} {fingerprint(pinned)}. "
                "Connection refused; if the server's key was really changed, pin the new one."
            )
        try:
            if config.private_key:
                pkey = load_private_key(config.private_key, config.passphrase)
                self.transport.auth_publickey(config.username, pkey)
            elif config.password:
                self.transport.auth_password(config.username, config.password)
            else:
                raise ChannelConfigError("the SFTP connection has neither a private key nor a password")
        except paramiko.AuthenticationException:
            self.close()
            raise ChannelAuthError(f"{config.host} refused the credentials of user {config.username!r}") from None
        except paramiko.SSHException as exc:
            self.close()
            raise ChannelError(f"SSH authentication with {config.host} failed: {exc}") from None
        except ChannelConfigError:
            self.close()
            raise
        self.sftp = paramiko.SFTPClient.from_transport(self.transport)
        self.sftp.get_channel().settimeout(config.timeout)

    def close(self):
        if self.sftp is not None:
            self.sftp.close()
            self.sftp = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _call(self, what, func, *args):
        try:
            return func(*args)
        except OSError as exc:
            raise ChannelError(f"SFTP {what} failed: {exc.strerror or exc}") from None
        except (TimeoutError, paramiko.SSHException, EOFError) as exc:
            raise ChannelError(f"SFTP {what} failed: {exc}") from None

    def _ensure_dir(self, path):
        try:
            self.sftp.stat(path)
        except OSError:
            self._call(f"mkdir {path}", self.sftp.mkdir, path)

    def list(self):
        folder = self.config.inbox or "."
        entries = self._call(f"listing {folder}", self.sftp.listdir_attr, folder)
        files = []
        for attr in sorted(entries, key=lambda a: a.filename):
            if attr.filename.startswith(".") or not stat.S_ISREG(attr.st_mode or 0):
                continue
            if not is_plain_name(attr.filename):
                continue  # no real directory entry has such a name: a hostile server
            files.append(
                RemoteFile(
                    name=attr.filename,
                    size=attr.st_size,
                    mtime=attr.st_mtime,
                    path=posixpath.join(folder, attr.filename),
                )
            )
        return files

    def _inbox_path(self, remote):
        """A listed file's path: always its plain name in the inbox, whatever
        path the caller hands back."""
        if not is_plain_name(remote.name):
            raise ChannelConfigError(f"{remote.name!r} is not the name of a file in the inbox")
        return posixpath.join(self.config.inbox or ".", remote.name)

    def download(self, remote):
        path = self._inbox_path(remote)

        def read():
            with self.sftp.open(path, "rb") as handle:
                handle.prefetch()
                return handle.read()

        return self._call(f"download of {path}", read)

    def confirm(self, remote):
        path = self._inbox_path(remote)
        try:
            self.sftp.stat(path)
        except OSError:
            return  # already confirmed by an earlier, interrupted run
        if self.config.after_download == "delete":
            self._call(f"delete of {path}", self.sftp.remove, path)
            return
        archive = self.config.archive or "archive"
        self._ensure_dir(archive)
        name = safe_name(remote.name)
        target = posixpath.join(archive, name)
        try:
            self.sftp.stat(target)
            target = posixpath.join(archive, f"{uuid.uuid4().hex[:8]}-{name}")
        except OSError:
            pass
        self._call(f"move of {path} to {target}", self.sftp.posix_rename, path, target)

    def upload(self, name, data):
        folder = self.config.outbox or "."
        self._ensure_dir(folder)
        final = posixpath.join(folder, safe_name(name))
        tmp = posixpath.join(folder, f".{uuid.uuid4().hex}.part")

        def write():
            with self.sftp.open(tmp, "wb") as handle:
                handle.set_pipelined(True)
                handle.write(data)
            # posix-rename@openssh.com replaces atomically where plain rename refuses.
            self.sftp.posix_rename(tmp, final)

        try:
            self._call(f"upload of {final}", write)
        except ChannelError:
            try:
                self.sftp.remove(tmp)
            except OSError:
                pass
            raise
        return posixpath.basename(final)

    def exists(self, name):
        path = posixpath.join(self.config.outbox or ".", safe_name(name))
        try:
            self.sftp.stat(path)
            return True
        except OSError:
            return False

    # two-phase upload: a hidden file named after the token, then posix-rename
    two_phase = True

    def _staged_path(self, token):
        return posixpath.join(self.config.outbox or ".", f".{posixpath.basename(token)}.part")

    def stage(self, name, data, token):
        self._ensure_dir(self.config.outbox or ".")
        tmp = self._staged_path(token)

        def write():
            with self.sftp.open(tmp, "wb") as handle:
                handle.set_pipelined(True)
                handle.write(data)

        self._call(f"upload of {tmp}", write)

    def staged(self, token):
        try:
            self.sftp.stat(self._staged_path(token))
            return True
        except OSError:
            return False

    def publish(self, name, token):
        final = posixpath.join(self.config.outbox or ".", posixpath.basename(name))
        self._call(f"rename to {final}", self.sftp.posix_rename, self._staged_path(token), final)
        return posixpath.basename(final)

    def discard(self, token):
        try:
            self.sftp.remove(self._staged_path(token))
        except OSError:
            pass
