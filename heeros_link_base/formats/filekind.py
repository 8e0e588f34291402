"""What a file that is not a document the Link reads looks like, said for a
person: "a PDF document", "a ZIP archive", "text in Latin-1 starting with
'...'"; never its raw bytes. Pure Python."""

import codecs
import unicodedata

from .text import translator

_lt = translator(__name__)

#: Leading bytes of common file kinds, longest first where they overlap.
_SIGNATURES = (
    (b"%PDF-", _lt("a PDF document")),
    (b"PK\x03\x04", _lt("a ZIP archive (or an Office document: .xlsx, .docx)")),
    (b"PK\x05\x06", _lt("an empty ZIP archive")),
    (b"\x1f\x8b", _lt("a gzip-compressed file")),
    (b"Rar!\x1a\x07", _lt("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _lt("a 7-Zip archive")),
    (b"BZh", _lt("a bzip2-compressed file")),
    (b"\xfd7zXZ\x00", _lt("an xz-compressed file")),
    (b"\x89PNG\r\n\x1a\n", _lt("a PNG image")),
    (b"\xff\xd8\xff", _lt("a JPEG image")),
    (b"GIF87a", _lt("a GIF image")),
    (b"GIF89a", _lt("a GIF image")),
    (b"II*\x00", _lt("a TIFF image")),
    (b"MM\x00*", _lt("a TIFF image")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _lt("an old Microsoft Office document (.xls, .doc)")),
    (b"{\\rtf", _lt("an RTF document")),
    (b"-----BEGIN PGP MESSAGE", _lt("a PGP-encrypted message")),
    (b"-----BEGIN ", _lt("a PEM file (a key or certificate)")),
    (b"MZ", _lt("a Windows program")),
    (b"\x7fELF", _lt("a program (ELF)")),
)
#: Characters of a text sample shown.
SAMPLE = 40


def _is_texty(text):
    """Mostly printable characters (tabs and line breaks allowed)."""
    if not text:
        return False
    good = sum(ch in "\t\r\n" or not unicodedata.category(ch).startswith("C") for ch in text)
    return good / len(text) > 0.95


def _sample(text):
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = "".join(ch for ch in line if not unicodedata.category(ch).startswith("C"))
    return line[:SAMPLE] + ("…" if len(line) > SAMPLE else "")


def _decode(head):
    """``(encoding label, text)`` of ``head`` read as text, or ``(None, None)``."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "UTF-16", head.decode("utf-16", errors="ignore").lstrip("\ufeff")
        except UnicodeDecodeError:
            return None, None
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    try:
        # the head may end inside a multi-byte character
        return "UTF-8", codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        pass
    text = head.decode("latin-1")
    if _is_texty(text):
        ascii_only = all(b < 128 for b in head)
        return ("ASCII" if ascii_only else "Latin-1"), text
    return None, None


def describe(head):
    """A person's description of a file from its first bytes (``head``)."""
    if not head:
        return _lt("an empty file")
    for signature, label in _SIGNATURES:
        if head.startswith(signature):
            return label
    encoding, text = _decode(head[:512])
    if encoding and _is_texty(text):
        sample = _sample(text)
        if encoding == "UTF-8" and all(b < 128 for b in head[:512]):
            encoding = "ASCII"
        if sample:
            return _lt("text in %(encoding)s starting with '%(sample)s'", encoding=encoding, sample=sample)
        return _lt("text in %(encoding)s", encoding=encoding)
    return _lt("binary data of an unknown kind")
