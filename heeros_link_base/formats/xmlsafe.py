"""Hardened XML reading for every Link parser.

Every XML document that enters the Link goes through this module. It

* refuses any document type declaration (``<!DOCTYPE``) before the parser
  sees it: no DTD, no internal or external entity, so neither external entity
  resolution (local files, network) nor entity expansion bombs can happen;
* parses with a parser that would not load DTDs, resolve entities or touch
  the network even if a declaration slipped through;
* repairs only one well-known bank quirk, an XML declaration with unquoted
  pseudo-attributes (``<?xml version=1.0 encoding=UTF-8?>``), which says
  nothing about the content;
* turns every parser error into :class:`MalformedDocument` naming the file,
  line and column.
"""

import codecs
import io
import re
from dataclasses import dataclass, field

from lxml import etree

from .errors import EmptyDocument, MalformedDocument, UnsafeDocument

_PROLOG_SCAN = 4096
_DECL_RE = re.compile(rb"^(\xef\xbb\xbf)?<\?xml\s+([^?]*)\?>")
_PSEUDO_ATTR_RE = re.compile(rb"(\w+)\s*=\s*([^\s\"'?]+)")


def _parser(**extra):
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        **extra,
    )


def _decode_head(head):
    """Best-effort decoding of the first bytes, only to look for markup."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return head.decode("utf-16-le" if head[0] == 0x3C else "utf-16-be", errors="replace")
    return head.decode("latin-1")


_DECL_SCAN_RE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECL_SCAN_RE_B = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_prolog(data, file_name=None):
    """Refuse DTDs and entity declarations anywhere in the document.

    A declaration can only legally stand before the root element, but the
    whole payload is scanned (a regular expression, no copy) so that no later
    trick gets through either.
    """
    head = _decode_head(data[:_PROLOG_SCAN])
    match = _DECL_SCAN_RE.search(head)
    line = head[: match.start()].count("\n") + 1 if match else None
    if not match:
        match = _DECL_SCAN_RE_B.search(data)
        if match:
            line = data.count(b"\n", 0, match.start()) + 1
    if match:
        kind = match.group(1).upper()
        raise UnsafeDocument(
            f"document contains a {kind} declaration; DTDs and entity "
            "declarations are never processed by the Link",
            file_name=file_name, line=line,
            expected="an XML document without <!DOCTYPE> or <!ENTITY>")


def repair_declaration(data):
    """Quote the pseudo-attributes of a malformed XML declaration."""
    match = _DECL_RE.match(data)
    if not match or b'"' in match.group(2) or b"'" in match.group(2):
        return data
    fixed = _PSEUDO_ATTR_RE.sub(rb'\1="\2"', match.group(2)).strip()
    return (match.group(1) or b"") + b"<?xml " + fixed + b"?>" + data[match.end():]


def _malformed(exc, file_name):
    line, column = None, None
    if getattr(exc, "position", None):
        line, column = exc.position
    elif getattr(exc, "lineno", None):
        line = exc.lineno
    msg = getattr(exc, "msg", None) or str(exc)
    return MalformedDocument(
        f"not well-formed XML: {msg}", file_name=file_name, line=line,
        position=f"column {column}" if column else None)


def prepare(data, file_name=None):
    """Check and normalise raw bytes; return the bytes to hand to lxml."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if _is_blank(data):
        raise EmptyDocument("the file is empty", file_name=file_name)
    check_prolog(data, file_name)
    if data[:1].isspace():  # copy only when there is leading white space to drop
        data = data.lstrip(b"\r\n\t ")
    return repair_declaration(data)


def _is_blank(data):
    """True for empty or white-space-only payloads, without copying large ones."""
    return not data or (not data[:256].strip() and not data.strip())


def parse(data, file_name=None):
    """Parse a whole document; return the root element."""
    data = prepare(data, file_name)
    try:
        return etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc, file_name) from None


def iterparse(data, file_name=None, events=("end",), tag=None):
    """Stream a document: yields ``(event, element)`` like lxml's iterparse.

    The caller clears elements it has consumed to keep memory flat.
    """
    data = prepare(data, file_name)
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    context = etree.iterparse(
        source, events=events, tag=tag, resolve_entities=False,
        no_network=True, load_dtd=False, huge_tree=False)
    try:
        yield from context
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc, file_name) from None


def local(tag):
    """``{ns}Name`` -> ``Name``."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag):
    """``{ns}Name`` -> ``ns`` (empty string without namespace)."""
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


@dataclass(frozen=True)
class Sniff:
    """What detection sees of a payload without parsing all of it."""

    size: int
    head: bytes = field(repr=False)  # the first bytes, for fixed-width detectors
    is_xml: bool = False
    root: str = ""              # local name of the root element
    namespace: str = ""         # namespace URI of the root element
    first_child: str = ""       # local name of the root's first child element
    error: str = ""             # why the XML could not be opened, if it looked like XML

    def describe(self):
        if self.is_xml and self.root:
            ns = f" in namespace {self.namespace}" if self.namespace else " without namespace"
            return f"XML root element <{self.root}>{ns}"
        if self.error:
            return self.error
        try:
            sample = codecs.getincrementaldecoder("utf-8")().decode(self.head[:60])[:40]
        except UnicodeDecodeError:
            sample = self.head[:40].decode("latin-1")
        sample = sample.replace("\r", "\\r").replace("\n", "\\n")
        printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in self.head[:512])
        kind = "text" if self.head and printable / min(len(self.head), 512) > 0.9 else "binary data"
        return f"{kind} starting with {sample!r}"


def sniff(data, file_name=None):
    """Look at the start of a payload: root element and namespace for XML,
    the first bytes otherwise. Raises :class:`UnsafeDocument` for DTDs and
    :class:`EmptyDocument` for empty payloads; malformed XML is reported in
    ``Sniff.error`` so that detection can still say what it saw."""
    if _is_blank(data):
        raise EmptyDocument("the file is empty", file_name=file_name)
    head = data[:_PROLOG_SCAN]
    stripped = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    looks_xml = stripped.startswith(b"<") or head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not looks_xml:
        return Sniff(size=len(data), head=head)
    check_prolog(data, file_name)
    root = child = None
    try:
        for _event, element in iterparse(data, file_name, events=("start",)):
            if root is None:
                root = element
            elif element.getparent() is root:
                child = element
                break
    except MalformedDocument as exc:
        if root is None:
            return Sniff(size=len(data), head=head, is_xml=True, error=exc.describe())
    return Sniff(size=len(data), head=head, is_xml=True, root=local(root.tag),
                 namespace=namespace(root.tag),
                 first_child=local(child.tag) if child is not None else "")
