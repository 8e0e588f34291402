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
import re
from dataclasses import dataclass, field

from lxml import etree

from . import limits
from .errors import EmptyDocument, LimitExceeded, MalformedDocument, SchemaViolation, UnsafeDocument
from .text import translator

_lt = translator(__name__)

_PROLOG_SCAN = 4096
_DECL_RE = re.compile(rb"^(\xef\xbb\xbf)?<\?xml\s+([^?]*)\?>")
_DECL_AT_RE = re.compile(_DECL_RE.pattern[1:])  # the same, where a match starts
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


#: A document type declaration that only names an external DTD, as old
#: Finvoice files carry (``<!DOCTYPE Finvoice SYSTEM "Finvoice.dtd">``): no
#: internal subset, so no entity can be declared in it.
_EXTERNAL_DOCTYPE_RE = re.compile(
    # only the form old Finvoice files carry: the Finvoice root naming a local
    # DTD file (no URL, no internal subset), which is never loaded
    rb"<!DOCTYPE\s+Finvoice\s+SYSTEM\s+(?:\"[\w.-]{1,100}\"|'[\w.-]{1,100}')\s*>"
)


def blank_external_doctype(data):
    """``data`` with a leading ``<!DOCTYPE Finvoice SYSTEM "Finvoice.dtd">``
    (a Finvoice root naming a local DTD file, as old Finvoice files do)
    replaced by blanks of the same length (lines and offsets unchanged). The
    DTD is never loaded; any other DOCTYPE, an internal subset or a DTD
    named by URL is left in place, for :func:`check_prolog` to refuse."""
    match = _EXTERNAL_DOCTYPE_RE.search(data, 0, _PROLOG_SCAN)
    if not match or b"<" in data[: match.start()].replace(b"<?", b"").replace(b"<!--", b""):
        return data
    return data[: match.start()] + re.sub(rb"[^\r\n]", b" ", match.group(0)) + data[match.end() :]


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
            f"document contains a {kind} declaration; DTDs and entity declarations are never processed by the Link",
            file_name=file_name,
            line=line,
            expected="an XML document without <!DOCTYPE> or <!ENTITY>",
        )


# A start tag with more than MAX_ATTRIBUTES attributes (namespace
# declarations included). Possessive and atomic parts: every attempt, made
# only at a "<", reads at most the tag it starts, so one search is linear in
# the size of the document. An attribute value never holds "<" in XML.
_MANY_ATTRIBUTES_RE = re.compile(
    rb"<([^\s<>/!?]++)(?>(?:\s++[^\s=<>/]++\s*+=\s*+(?:\"[^\"<]*+\"|'[^'<]*+')){%d})" % (limits.MAX_ATTRIBUTES + 1)
)


def check_structure(data, file_name=None):
    """Refuse an element with more than :data:`limits.MAX_ATTRIBUTES`
    attributes before the XML parser sees it (the parser's work grows with
    the square of the attributes of one element)."""
    match = _MANY_ATTRIBUTES_RE.search(data)
    if match:
        name = match.group(1).decode("utf-8", errors="replace")[:80]
        raise LimitExceeded(
            f"element <{name}> has more than {limits.MAX_ATTRIBUTES} attributes",
            file_name=file_name,
            line=data.count(b"\n", 0, match.start()) + 1,
            element=name,
            expected=f"at most {limits.MAX_ATTRIBUTES} attributes on one element",
        )


def repair_declaration(data):
    """Quote the pseudo-attributes of a malformed XML declaration."""
    prefix, end = _repaired_declaration(data)
    return data if prefix is None else prefix + data[end:]


def _repaired_declaration(data, offset=0):
    """``(new declaration, end of the old one)`` for a declaration with
    unquoted pseudo-attributes at ``offset``, ``(None, offset)`` otherwise."""
    match = _DECL_AT_RE.match(data, offset)
    if not match or b'"' in match.group(2) or b"'" in match.group(2):
        return None, offset
    fixed = _PSEUDO_ATTR_RE.sub(rb'\1="\2"', match.group(2)).strip()
    return (match.group(1) or b"") + b"<?xml " + fixed + b"?>", match.end()


_WIDE_ENCODINGS = (
    # (how the document starts, codec); UTF-32 before UTF-16: their BOMs overlap
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_ENCODING_RE = re.compile(rb"""(encoding\s*=\s*)(["'])[^"']*\2""")


def _narrow(data, file_name):
    """A UTF-16 or UTF-32 document as UTF-8 (declaration adjusted, lines
    unchanged), so that every check reads the same bytes the parser does;
    any other document as it is."""
    codec = next((c for start, c in _WIDE_ENCODINGS if data.startswith(start)), None)
    if codec is None:
        return data
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise MalformedDocument(
            f"the document is not valid {codec.upper()}",
            file_name=file_name,
            position=f"byte {exc.start}",
            expected="text in the encoding it starts with",
        ) from None
    data = text.lstrip("\ufeff").encode("utf-8")
    match = _DECL_RE.match(data)
    if match:
        declaration = _ENCODING_RE.sub(rb'\1"UTF-8"', data[: match.end()], count=1)
        data = declaration + data[match.end() :]
    return data


class _Source:
    """What lxml reads: an optional repaired declaration, then the document
    from ``offset`` on, without copying the document."""

    def __init__(self, prefix, data, offset):
        self._prefix = prefix or b""
        self._view = memoryview(data)
        self._pos = self._start = offset

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self._prefix) + len(self._view)
        if self._prefix:
            chunk, self._prefix = self._prefix[:size], self._prefix[size:]
            return chunk
        chunk = self._view[self._pos : self._pos + size].tobytes()
        self._pos += len(chunk)
        return chunk

    def element_at(self, line, column):
        """The name of the element whose tag is at ``line``/``column`` (as
        the parser reports them), or None."""
        if not line:
            return None
        data, pos = self._view.obj, self._start
        for _ in range(line - 1):
            pos = data.find(b"\n", pos) + 1
            if not pos:
                return None
        start = data.rfind(b"<", 0, pos + max(column or 1, 1))
        match = _NAME_RE.match(data, start + 1) if start >= 0 else None
        return match.group().decode("utf-8", errors="replace")[:80] if match else None


def _source(data, file_name):
    """Check raw bytes and return a :class:`_Source` for lxml."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if _is_blank(data):
        raise EmptyDocument("the file is empty", file_name=file_name)
    data = _narrow(data, file_name)
    check_prolog(data, file_name)
    check_structure(data, file_name)
    offset = _LEADING_BLANK_RE.match(data).end()
    prefix, offset = _repaired_declaration(data, offset)
    return _Source(prefix, data, offset)


_NAME_RE = re.compile(rb"[^\s<>/!?=]{1,200}")
_LEADING_BLANK_RE = re.compile(rb"[\r\n\t ]*+")
_BLANK_RE = re.compile(rb"\s*+")


def prepare(data, file_name=None):
    """Check and normalise raw bytes; return the bytes to hand to lxml."""
    source = _source(data, file_name)
    return b"".join(iter(source.read, b""))


def _is_blank(data):
    """True for empty or white-space-only payloads, without copying them."""
    return not data or (not data[:256].strip() and _BLANK_RE.fullmatch(data) is not None)


def _malformed(exc, file_name, source=None):
    line, column = None, None
    if getattr(exc, "position", None):
        line, column = exc.position
    elif getattr(exc, "lineno", None):
        line = exc.lineno
    msg = getattr(exc, "msg", None) or str(exc)
    if "Excessive depth" in msg:
        name = source.element_at(line, column) if source is not None else None
        return LimitExceeded(
            f"elements are nested more than {limits.MAX_DEPTH} deep",
            file_name=file_name,
            line=line,
            position=f"column {column}" if column else None,
            element=name,
            expected=f"at most {limits.MAX_DEPTH} nested elements",
        )
    return MalformedDocument(
        f"not well-formed XML: {msg}", file_name=file_name, line=line, position=f"column {column}" if column else None
    )


def parse(data, file_name=None):
    """Parse a whole document; return the root element."""
    source = _source(data, file_name)
    try:
        return etree.parse(source, parser=_parser()).getroot()
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc, file_name, source) from None


def iterparse(data, file_name=None, events=("end",), tag=None, schema=None):
    """Stream a document: yields ``(event, element)`` like lxml's iterparse.

    The caller clears elements it has consumed to keep memory flat. The
    generator's return value (``root = yield from iterparse(...)``) is the
    root element, so a caller filtering by ``tag`` can still say what the
    document was when no wanted element came.

    With ``schema`` (an ``lxml.etree.XMLSchema``) the document is checked
    while it streams (``tag`` then names elements exactly, no wildcards); a
    well-formed document that does not satisfy it raises
    :class:`SchemaViolation` listing libxml2's findings (which carry no
    line: nothing of the tree is kept to place them) once the whole
    document has been read, so a caller must not act on what it read
    before the generator is exhausted.
    """
    if schema is not None:
        return (yield from _iterparse_checked(data, file_name, events, tag, schema))
    source = _source(data, file_name)
    context = etree.iterparse(
        source, events=events, tag=tag, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        yield from context
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc, file_name, source) from None
    return context.root


def _iterparse_checked(data, file_name, events, tag, schema):
    """:func:`iterparse` with a schema check.

    libxml2's schema check while parsing can end the parse at a
    well-formedness error without raising it, so every element's end is
    seen here: a document whose root never closed is read again without the
    check (still streaming) for the parser's own error and line.
    """
    source = _source(data, file_name)
    tags = {tag} if isinstance(tag, str) else set(tag) if tag else None
    wanted = set(events)
    # a schema-checked iterparse reports the thread's whole error log,
    # earlier documents' errors included: start it empty
    etree.clear_error_log()
    context = etree.iterparse(
        source,
        events=tuple(wanted | {"end"}),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        schema=schema,
    )
    closed = False
    try:
        for event, element in context:
            if event == "end" and element.getparent() is None:
                closed = True
            if event in wanted and (tags is None or element.tag in tags):
                yield event, element
    except etree.XMLSyntaxError as exc:
        findings = [entry.message for entry in exc.error_log if entry.domain_name == "SCHEMASV"]
        if (exc.msg or "").strip() in findings:
            raise SchemaViolation(
                f"the document does not satisfy its schema ({len(findings)} error{'s' if len(findings) != 1 else ''})",
                errors=findings,
                file_name=file_name,
            ) from None
        raise _malformed(exc, file_name, source) from None
    if not closed:
        for _pair in iterparse(data, file_name, events=("end",), tag="{urn:heeros-link:none}none"):
            pass  # raises the parser's error
        raise MalformedDocument("the document ends before its root element is closed", file_name=file_name)
    return context.root


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
    root: str = ""  # local name of the root element
    namespace: str = ""  # namespace URI of the root element
    first_child: str = ""  # local name of the root's first child element
    error: str = ""  # why the XML could not be opened, if it looked like XML

    def describe(self):
        if self.is_xml and self.root:
            if self.namespace:
                return _lt("XML root element <%(root)s> in namespace %(ns)s", root=self.root, ns=self.namespace)
            return _lt("XML root element <%(root)s> without namespace", root=self.root)
        if self.error:
            return self.error
        try:
            sample = codecs.getincrementaldecoder("utf-8")().decode(self.head[:60])[:40]
        except UnicodeDecodeError:
            sample = self.head[:40].decode("latin-1")
        sample = sample.replace("\r", "\\r").replace("\n", "\\n")
        printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in self.head[:512])
        if self.head and printable / min(len(self.head), 512) > 0.9:
            return _lt("text starting with %s", repr(sample))
        return _lt("binary data starting with %s", repr(sample))


def sniff(data, file_name=None):
    """Look at the start of a payload: root element and namespace for XML,
    the first bytes otherwise. Raises :class:`UnsafeDocument` for DTDs and
    :class:`EmptyDocument` for empty payloads; malformed XML is reported in
    ``Sniff.error`` so that detection can still say what it saw."""
    if _is_blank(data):
        raise EmptyDocument("the file is empty", file_name=file_name)
    head = data[:_PROLOG_SCAN]
    stripped = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    looks_xml = stripped.startswith(b"<") or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not looks_xml:
        return Sniff(size=len(data), head=head)
    # an external DTD named by an old file is never loaded: detection looks past it
    data = blank_external_doctype(data)
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
    return Sniff(
        size=len(data),
        head=head,
        is_xml=True,
        root=local(root.tag),
        namespace=namespace(root.tag),
        first_child=local(child.tag) if child is not None else "",
    )
