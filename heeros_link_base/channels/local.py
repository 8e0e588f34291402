"""Local folder channel: inbox/outbox/archive sub-folders of one root folder.

Useful for a bank or operator client that drops files into a shared folder,
for integration with other systems on the same server, and for tests.
Uploads are atomic: the file is written under a hidden temporary name in the
outbox and renamed when complete, so a reader never sees half a file.
"""

import os
import tempfile
from pathlib import Path

from .base import Channel, ChannelConfigError, ChannelError, RemoteFile, register


@register("local", "Local folder")
class LocalChannel(Channel):
    def _folder(self, name, create=True):
        if not self.config.root:
            raise ChannelConfigError("the local folder connection has no root folder")
        root = Path(self.config.root)
        folder = (root / name) if name else root
        if create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ChannelConfigError(f"cannot create folder {folder}: {exc.strerror}") from None
        return folder

    def list(self):
        folder = self._folder(self.config.inbox)
        files = []
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise ChannelError(f"cannot read folder {folder}: {exc.strerror}") from None
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_file():
                continue
            stat = entry.stat()
            files.append(RemoteFile(name=entry.name, size=stat.st_size,
                                    mtime=stat.st_mtime, path=entry.path))
        return files

    def download(self, remote):
        try:
            return Path(remote.path).read_bytes()
        except OSError as exc:
            raise ChannelError(f"cannot read {remote.path}: {exc.strerror}") from None

    def confirm(self, remote):
        source = Path(remote.path)
        try:
            if self.config.after_download == "delete":
                source.unlink()
                return
            archive = self._folder(self.config.archive)
            target = archive / source.name
            counter = 1
            while target.exists():
                target = archive / f"{source.stem}.{counter}{source.suffix}"
                counter += 1
            os.replace(source, target)
        except FileNotFoundError:
            return  # already confirmed by an earlier, interrupted run
        except OSError as exc:
            raise ChannelError(f"cannot confirm {source}: {exc.strerror}") from None

    def upload(self, name, data):
        folder = self._folder(self.config.outbox)
        final = folder / os.path.basename(name)
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
        return (self._folder(self.config.outbox, create=False) / os.path.basename(name)).exists()

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
            raise ChannelConfigError(f"folder {root} is not readable and writable by the Odoo server")
        return super().test()
