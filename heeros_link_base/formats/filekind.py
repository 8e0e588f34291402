"""What a file that is not a document the Link reads looks like, said for a
person: "a PDF document", "a ZIP archive", "text in Latin-1 starting with
'...'"; never its raw bytes. Pure Python."""

import codecs
import unicodedata

#: Leading bytes of common file kinds, longest first where they overlap.
_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document: .xlsx, .docx)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.xls, .doc)"),
    (b"{\\rtf", "an RTF document"),
    (b"-----BEGIN PGP MESSAGE", "a PGP-encrypted message"),
    (b"-----BEGIN ", "a PEM file (a key or certificate)"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program (ELF)"),
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
        return "an empty file"
    for signature, label in _SIGNATURES:
        if head.startswith(signature):
            return label
    encoding, text = _decode(head[:512])
    if encoding and _is_texty(text):
        sample = _sample(text)
        if encoding == "UTF-8" and all(b < 128 for b in head[:512]):
            encoding = "ASCII"
        if sample:
            return f"text in {encoding} starting with '{sample}'"
        return f"text in {encoding}"
    return "binary data of an unknown kind"
