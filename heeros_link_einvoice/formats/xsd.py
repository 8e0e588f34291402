"""XML Schema validation against the schemas shipped in ``data/schemas/``.

Schemas are compiled once per process and kept. They are read with a parser
that never touches the network and a resolver that only serves files from
the shipped schema directory, so an ``xsd:import`` pointing elsewhere fails
loudly instead of fetching anything.

``validate(xml, name)`` returns ``None`` for a valid document and a
:class:`SchemaViolation` (not raised) listing every finding with its line and
element path; ``assert_valid`` raises that same error.
"""

import copy
import threading
from pathlib import Path

from lxml import etree

from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import SchemaViolation

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "schemas"

#: Short names of the shipped schemas (a path relative to ``SCHEMA_DIR`` is
#: accepted as well).
SCHEMAS = {
    "finvoice": "finvoice/Finvoice3.0.xsd",
    "finvoice-3.0": "finvoice/Finvoice3.0.xsd",
    "finvoice-attachments": "finvoice/FinvoiceAttachments.xsd",
    "ubl-invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl-creditnote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}

_cache = {}
_cache_lock = threading.Lock()


class _LocalOnlyResolver(etree.Resolver):
    """Serve schema imports from the shipped directory; refuse the rest."""

    def resolve(self, url, pubid, context):
        path = None
        if url:
            text = url[7:] if url.startswith("file://") else url
            if "://" not in text:
                candidate = Path(text).resolve()
                if SCHEMA_DIR in candidate.parents and candidate.is_file():
                    path = candidate
        if path is None:
            raise SchemaViolation(
                f"schema import {url!r} is not shipped with the addon", expected=f"a file under {SCHEMA_DIR}"
            )
        return self.resolve_filename(str(path), context)


def _schema_parser():
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_LocalOnlyResolver())
    return parser


def schema_path(name):
    """Absolute path of a shipped schema by short name or relative path."""
    relative = SCHEMAS.get(name, name)
    path = (SCHEMA_DIR / relative).resolve()
    if SCHEMA_DIR not in path.parents or not path.is_file():
        raise SchemaViolation(f"unknown schema {name!r}", expected=", ".join(sorted(SCHEMAS)))
    return path


class _Compiled:
    def __init__(self, path):
        self.path = path
        tree = etree.parse(str(path), parser=_schema_parser())
        self.schema = etree.XMLSchema(tree)
        # an XMLSchema keeps the log of its last run: one validation at a time
        self.lock = threading.Lock()
        self._full = None

    def full(self):
        """The same schema compiled by ``xmlschema`` (built on first need).

        libxml2 stops checking an element's content at its first misplaced
        child; ``xmlschema`` keeps going, so it is used to list every
        finding once lxml has said the document is invalid.
        """
        if self._full is None:
            try:
                import xmlschema

                # "local": files only, never a URL
                self._full = xmlschema.XMLSchema(str(self.path), allow="local", defuse="always")
            except Exception:  # noqa: BLE001 - fall back to libxml2's list
                self._full = False
        return self._full or None


_streaming = threading.local()


def streaming_schema(name):
    """An ``lxml.etree.XMLSchema`` of this thread for checking a document
    while it streams (:func:`xmlsafe.iterparse` with ``schema``); apart from
    :func:`load`'s, whose use is one validation at a time."""
    path = schema_path(name)
    schemas = getattr(_streaming, "schemas", None)
    if schemas is None:
        schemas = _streaming.schemas = {}
    schema = schemas.get(path)
    if schema is None:
        schema = schemas[path] = etree.XMLSchema(etree.parse(str(path), parser=_schema_parser()))
    return schema


def load(name):
    """The compiled schema (cached) for a short name or relative path."""
    path = schema_path(name)
    compiled = _cache.get(path)
    if compiled is None:
        with _cache_lock:
            compiled = _cache.get(path)
            if compiled is None:
                compiled = _cache[path] = _Compiled(path)
    return compiled


def _finding(line, path, message):
    where = f"line {line}" if line else "line ?"
    return f"{where}, {path}: {message}" if path else f"{where}: {message}"


def _findings(compiled, root):
    """Every finding as text: xmlschema's full list when it has one (it
    keeps going where libxml2 stops), else libxml2's own log."""
    findings = []
    full = compiled.full()
    if full is not None:
        try:
            for error in full.iter_errors(root):
                line = getattr(error.elem, "sourceline", None)
                findings.append(_finding(line, error.path or "", error.reason or error.message))
        except Exception:  # noqa: BLE001 - libxml2's verdict stands
            findings = []
    if not findings:
        findings = [_finding(e.line, e.path, e.message) for e in compiled.schema.error_log]
    return findings


def validate(xml, schema_name, file_name=None):
    """Validate ``xml`` (bytes, or an already parsed element/tree).

    Returns ``None`` when the document is valid, else a
    :class:`SchemaViolation` whose ``errors`` list every finding as
    ``"line N, /Path/To/Element: message"``. Bytes are parsed with
    :func:`xmlsafe.parse`, so unsafe or malformed input raises the usual
    :class:`UnsafeDocument` / :class:`MalformedDocument`. Bytes of more than
    :data:`STREAM_CHECK_BYTES` are checked as they stream, in the memory of
    a few elements (see :func:`refused` for what an invalid one reports).
    """
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    if isinstance(xml, bytes) and len(xml) > STREAM_CHECK_BYTES:
        return _validate_streaming(xml, schema_name, file_name)
    compiled = load(schema_name)
    if isinstance(xml, bytes):
        root = xmlsafe.parse(xml, file_name)
    elif isinstance(xml, etree._ElementTree):
        root = xml.getroot()
    else:
        root = xml
    if root.getparent() is not None:
        # an element inside a larger document (a Finvoice in a SOAP body)
        root = copy.deepcopy(root)
    with compiled.lock:
        valid = compiled.schema.validate(root.getroottree())
        findings = [] if valid else _findings(compiled, root)
    if valid:
        return None
    return SchemaViolation(
        f"the document does not satisfy the schema {schema_path(schema_name).name} "
        f"({len(findings)} error{'s' if len(findings) != 1 else ''})",
        errors=findings,
        file_name=file_name,
    )


#: documents larger than this are checked while they stream
STREAM_CHECK_BYTES = 1_000_000
#: a document refused by the streaming check and not larger than this is
#: checked again whole, to list every finding with its line and path
WHOLE_CHECK_BYTES = 8_000_000


def _validate_streaming(data, schema_name, file_name):
    try:
        for _event, element in xmlsafe.iterparse(
            data, file_name, events=("end",), schema=streaming_schema(schema_name)
        ):
            # what the check has passed is dropped: memory stays that of
            # the open elements
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except SchemaViolation as streamed:
        return refused(data, schema_name, file_name, streamed)
    return None


def refused(data, schema_name, file_name, streamed):
    """The :class:`SchemaViolation` of ``data``, which the streaming check
    refused with ``streamed``: every finding with its line and path from a
    check of the whole document up to :data:`WHOLE_CHECK_BYTES`, else the
    streaming check's own findings (libxml2's messages, without lines)."""
    if len(data) <= WHOLE_CHECK_BYTES:
        compiled = load(schema_name)
        root = xmlsafe.parse(data, file_name)
        with compiled.lock:
            valid = compiled.schema.validate(root.getroottree())
            findings = [] if valid else _findings(compiled, root)
    else:
        valid, findings = False, []
    if valid or not findings:
        findings = streamed.errors
    return SchemaViolation(
        f"the document does not satisfy the schema {schema_path(schema_name).name} "
        f"({len(findings)} error{'s' if len(findings) != 1 else ''})",
        errors=findings,
        file_name=file_name,
    )


def assert_valid(xml, schema_name, file_name=None):
    """Like :func:`validate` but raise the :class:`SchemaViolation`."""
    violation = validate(xml, schema_name, file_name)
    if violation is not None:
        raise violation
