"""Safe file names and folders (pure Python, no Odoo import).

File names come from remote servers, from business records and from people;
folder settings come from connection records. Wherever one of them becomes a
path on disk, on an SFTP server or inside a ZIP, it goes through this module:

* :func:`safe_name` turns any name into one plain path component: no folder
  part, no NUL or other control character, not hidden (no leading dot), not
  only dots, at most :data:`MAX_NAME_BYTES` bytes in UTF-8, the extension
  kept. The original name stays on the message for people to read.
* :func:`relative_folder` checks that a folder setting is relative and
  never climbs (no ``..``), before it is joined to a root.
* :func:`inside` resolves a path (symbolic links followed) and refuses it
  unless it stays within a root.
"""

import os
import posixpath
import re
import unicodedata

from .base import ChannelConfigError

MAX_NAME_BYTES = 200
DEFAULT_NAME = "document"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def _truncate(name, limit):
    if len(name.encode()) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix.encode()) > 16:
        stem, suffix = name, ""
    keep = limit - len(suffix.encode()) - (1 if suffix else 0)
    stem = stem.encode()[:keep].decode(errors="ignore")
    return f"{stem}.{suffix}" if suffix else stem


def safe_name(name, default=DEFAULT_NAME):
    """One plain file name made from ``name``, safe to join to any folder.

    >>> safe_name("../../etc/passwd")
    'passwd'
    >>> safe_name("a\\nb.xml")
    'a_b.xml'
    >>> safe_name("..")
    'document'
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    # the last component of either kind of path is what the sender meant as the name
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE.sub("_", text).strip().lstrip(".").strip()
    if not text.strip("._ "):
        text = default
    return _truncate(text, MAX_NAME_BYTES)


def is_safe_name(name):
    """Whether ``name`` may be used as it is (it is its own :func:`safe_name`)."""
    return bool(name) and safe_name(name) == name


def is_plain_name(name):
    """Whether ``name`` can be an entry of a folder listing (one component,
    not ``.`` or ``..``): anything else from a server's listing is hostile."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\x00" not in name


def relative_folder(value, what):
    """Check that a folder setting is a relative path that never climbs.

    Returns the normalised relative path (``""`` for the root itself);
    raises :class:`ChannelConfigError` naming the setting otherwise."""
    text = str(value or "")
    if _CONTROL.search(text):
        raise ChannelConfigError(f"the {what} {text!r} contains control characters")
    if text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", text):
        raise ChannelConfigError(
            f"the {what} {text!r} is an absolute path: give a folder relative to the "
            "connection's folder, such as 'inbox'"
        )
    parts = [part for part in re.split(r"[/\\]", text) if part not in ("", ".")]
    if ".." in parts:
        raise ChannelConfigError(
            f"the {what} {text!r} climbs out of the connection's folder with '..': give a "
            "folder inside it, such as 'inbox'"
        )
    return posixpath.join(*parts) if parts else ""


def is_within(path, root):
    """Whether the real path ``path`` is ``root`` or below it (both real paths)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def inside(root, path, what):
    """The real path of ``path`` (symbolic links resolved, missing parts
    allowed), refused with :class:`ChannelConfigError` unless it lies
    within the real path of ``root``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if not is_within(real, real_root):
        raise ChannelConfigError(f"the {what} {path} resolves to {real}, outside the allowed folder {real_root}")
    return real
