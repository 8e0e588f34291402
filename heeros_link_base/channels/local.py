"""Local folder channel: inbox/outbox/archive sub-folders of one root folder.

Useful for a bank or operator client that drops files into a shared folder,
for integration with other systems on the same server, and for tests.
Uploads are atomic: the file is written under a hidden temporary name in the
outbox and renamed when complete, so a reader never sees half a file.

Every path is checked when it is used: the connection's folder must lie in
the allowed root (``ChannelConfig.allowed_root``), its sub-folders in the
connection's folder, with symbolic links resolved; only plain files are read
and file names pass through :func:`.names.safe_name` before they become paths.
"""

import os
import tempfile
from pathlib import Path

from ..formats.text import translator
from .base import Channel, ChannelConfigError, ChannelError, RemoteFile, register
from .names import inside, is_plain_name, relative_folder, safe_name

_lt = translator(__name__)


@register("local", _lt("Local folder"))
class LocalChannel(Channel):
    def _root(self):
        """The connection's folder, as a real path inside the allowed root."""
        if not self.config.root:
            raise ChannelConfigError("the local folder connection has no root folder")
        if not self.config.allowed_root:
            return Path(os.path.realpath(self.config.root))
        limit = self.config.allowed_root
        # a relative folder is taken below the allowed root, an absolute one must lie in it
        return Path(inside(limit, os.path.join(limit, self.config.root), "connection's folder"))

    def _what(self, name):
        if not name:
            return "connection's folder"
        labels = {
            self.config.inbox: "inbox folder",
            self.config.outbox: "outbox folder",
            self.config.archive: "archive folder",
        }
        return labels.get(name, "folder")

    def _folder(self, name, create=True):
        """A sub-folder of the connection's folder, checked on every use:
        relative, never climbing, and no symbolic link leading out."""
        root = self._root()
        what = self._what(name)
        relative = relative_folder(name, what)
        folder = root / relative if relative else root
        inside(root, folder, what)  # before creating anything on the way
        if create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ChannelConfigError(f"cannot create folder {folder}: {exc.strerror}") from None
        return Path(inside(root, folder, what))

    def _inbox_file(self, remote):
        """The path of a listed file: always its plain name in the inbox,
        whatever path the caller hands back."""
        name = remote.name
        if not is_plain_name(name):
            raise ChannelConfigError(f"{name!r} is not the name of a file in the inbox")
        return self._folder(self.config.inbox, create=False) / name

    def check_paths(self):
        """Check the folder settings without touching the disk: the
        connection's folder (when set) inside the allowed root, the
        sub-folders relative and inside it."""
        folders = (self.config.inbox, self.config.outbox, self.config.archive)
        if not self.config.root:
            for name in folders:
                relative_folder(name, self._what(name))
            return
        for name in folders:
            self._folder(name, create=False)

    def list(self):
        folder = self._folder(self.config.inbox)
        files = []
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise ChannelError(f"cannot read folder {folder}: {exc.strerror}") from None
        for entry in entries:
            # a symbolic link may point anywhere on the server: only plain files are read
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat()
            files.append(RemoteFile(name=entry.name, size=stat.st_size, mtime=stat.st_mtime, path=entry.path))
        return files

    def download(self, remote):
        path = self._inbox_file(remote)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise ChannelError(f"cannot read {path}: {exc.strerror}") from None

    def confirm(self, remote):
        source = self._inbox_file(remote)
        try:
            if self.config.after_download == "delete":
                source.unlink()
                return
            archive = self._folder(self.config.archive)
            name = Path(safe_name(source.name))
            target = archive / name
            counter = 1
            while target.exists():
                target = archive / f"{name.stem}.{counter}{name.suffix}"
                counter += 1
            os.replace(source, target)
        except FileNotFoundError:
            return  # already confirmed by an earlier, interrupted run
        except OSError as exc:
            raise ChannelError(f"cannot confirm {source}: {exc.strerror}") from None

    def upload(self, name, data):
        folder = self._folder(self.config.outbox)
        final = folder / safe_name(name)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            raise ChannelError(f"cannot write {final}: {exc.strerror}") from None
        return final.name

    def exists(self, name):
        return (self._folder(self.config.outbox, create=False) / safe_name(name)).exists()

    # two-phase upload: a hidden file named after the token, then a rename
    two_phase = True

    def _staged_path(self, token):
        return self._folder(self.config.outbox) / f".{os.path.basename(token)}.part"

    def stage(self, name, data, token):
        tmp = self._staged_path(token)
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ChannelError(f"cannot write {tmp}: {exc.strerror}") from None

    def staged(self, token):
        return self._staged_path(token).exists()

    def publish(self, name, token):
        final = self._folder(self.config.outbox) / os.path.basename(name)
        try:
            os.replace(self._staged_path(token), final)
        except OSError as exc:
            raise ChannelError(f"cannot move the staged file to {final}: {exc.strerror}") from None
        return final.name

    def discard(self, token):
        try:
            self._staged_path(token).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ChannelError(f"cannot remove the staged file of {token}: {exc.strerror}") from None

    def test(self):
        root = self._folder("")
        if not os.access(root, os.R_OK | os.W_OK):
            raise ChannelConfigError(_lt("folder %s is not readable and writable by the Odoo server", root))
        return super().test()
