"""Business-rule validation of UBL documents with the official Schematron rules.

Two rule sets are shipped in ``../data/schematron`` (see its README):

* ``cen``: the CEN/TC 434 EN 16931 rules bound to UBL, as the compiled XSLT 2.0
  stylesheet CEN publishes (it writes SVRL);
* ``peppol``: the Peppol BIS Billing 3.0 rules, as the ISO Schematron source
  OpenPeppol publishes (query binding ``xslt2``).

ISO Schematron is compiled to XSLT by SchXslt 1.10 (MIT licence, shipped
unmodified in ``../data/schxslt``), itself a set of XSLT 2.0 stylesheets, and
SaxonC-HE (``saxonche``) runs everything. Before SchXslt sees a schema it is
checked here: ``include``, ``extends href`` and ``pattern documents`` (which
would read other files) are refused, as are rules without a context and
assertions without a test; an assertion without a ``flag`` takes its rule's,
else its pattern's (no flag at all: the finding counts as fatal).

Compiled executables are cached per process (a forked worker compiles its
own): the first use of a rule set compiles it, later calls reuse it. A lock
serialises compilation and transformations, so the functions may be called
from several threads. A document is parsed once (safely, by lxml) and handed
to Saxon once for all its rule sets.
"""

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import (
    LinkFormatError,
    MalformedDocument,
    SchemaViolation,
    UnrecognisedDocument,
)

SCH = "http://purl.oclc.org/dsdl/schematron"
SVRL = "http://purl.oclc.org/dsdl/svrl"

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
#: Prefixes used in :attr:`Finding.location`; the document element's own
#: namespace (Invoice, CreditNote) is written without a prefix.
LOCATION_PREFIXES = {
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "urn:oasis:names:specification:ubl:schema:xsd:QualifiedDataTypes-2": "qdt",
    "urn:oasis:names:specification:ubl:schema:xsd:UnqualifiedDataTypes-2": "udt",
    UBL_INVOICE: "",
    UBL_CREDIT_NOTE: "",
}

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "schematron"
#: SchXslt's entry point: ISO Schematron in, an XSLT stylesheet writing SVRL out.
SCHXSLT = DATA_DIR.parent / "schxslt" / "pipeline-for-svrl.xsl"
#: Shipped rule sets: name -> file (``.xslt`` = compiled SVRL stylesheet,
#: ``.sch`` = ISO Schematron, compiled with SchXslt on first use).
RULE_SETS = {
    "cen": DATA_DIR / "EN16931-UBL-validation.xslt",
    "peppol": DATA_DIR / "PEPPOL-EN16931-UBL.sch",
}

FLAGS = ("fatal", "warning", "information")
_FLAG_ALIASES = {
    "fatal": "fatal",
    "error": "fatal",
    "warning": "warning",
    "warn": "warning",
    "information": "information",
    "info": "information",
}


@dataclass(frozen=True)
class Finding:
    """One failed assertion or successful report.

    ``flag`` is ``'fatal'``, ``'warning'`` or ``'information'`` (an
    assertion without a flag, or with another flag, counts as fatal);
    ``location`` is the XPath of the node the rule fired on, e.g.
    ``/Invoice[1]/cac:InvoiceLine[2]``; ``rule_set`` names the rules
    (``'cen'``, ``'peppol'`` or a file name) and ``test`` is the XPath test.
    """

    rule_id: str
    flag: str
    location: str
    text: str
    rule_set: str = ""
    test: str = ""

    def describe(self):
        return f"[{self.rule_id}] {self.text} ({self.location})"


def _sch(tag):
    return f"{{{SCH}}}{tag}"


def _svrl(tag):
    return f"{{{SVRL}}}{tag}"


_QUERY_BINDINGS = ("xslt", "xslt2", "xslt3", "xpath2", "xpath3", "xpath31")


def _refuse(name, message, element=None):
    where = None
    if element is not None:
        where = f"{etree.QName(element).localname} (line {element.sourceline})"
    return MalformedDocument(f"Schematron {name}: {message}", element=where, file_name=name)


def _check_schema(root, name):
    """Refuse what SchXslt should not be given: not a schema, an unknown query
    binding, references to other files, rules without context."""
    if root.tag != _sch("schema"):
        raise _refuse(name, "the root element is not an ISO Schematron <schema>", root)
    binding = (root.get("queryBinding") or "xslt").lower()
    if binding not in _QUERY_BINDINGS:
        raise _refuse(name, f"query binding {binding!r} is not supported", root)
    for element in root.iter(_sch("include"), _sch("extends"), _sch("pattern")):
        if element.tag == _sch("include") or element.get("href") or element.get("documents"):
            raise _refuse(
                name,
                "references to other files (include, extends href, pattern "
                "documents) are not supported; use a preprocessed schema",
                element,
            )
    for rule in root.iter(_sch("rule")):
        if rule.get("abstract") != "true" and not rule.get("context"):
            raise _refuse(name, "rule without context", rule)
    for check in root.iter(_sch("assert"), _sch("report")):
        if not check.get("test"):
            raise _refuse(name, f"{etree.QName(check).localname} without test", check)


def _inherit_flags(root):
    """Give each assertion without a flag the flag of its rule, else of its
    pattern: SVRL only carries an assertion's own flag, and the rules should
    not turn into errors because their author set the flag one level up."""
    for pattern in root.iter(_sch("pattern")):
        for rule in pattern.iter(_sch("rule")):
            inherited = rule.get("flag") or pattern.get("flag")
            if not inherited:
                continue
            for check in rule.iter(_sch("assert"), _sch("report")):
                if not check.get("flag"):
                    check.set("flag", inherited)


# ---------------------------------------------------------------------------
# Saxon: one processor and one set of executables per process
# ---------------------------------------------------------------------------


class _Saxon:
    """The process's Saxon processor and compiled executables."""

    def __init__(self):
        from saxonche import PySaxonProcessor  # declared external dependency

        self.pid = os.getpid()
        self.processor = PySaxonProcessor(license=False)
        self.executables = {}


_LOCK = threading.RLock()
_STATE = {"saxon": None}


def _saxon():
    """The current process's Saxon state (call with ``_LOCK`` held)."""
    saxon = _STATE["saxon"]
    if saxon is None or saxon.pid != os.getpid():
        saxon = _STATE["saxon"] = _Saxon()
    return saxon


def _compile_stylesheet(saxon, name, text=None, path=None):
    compiler = saxon.processor.new_xslt30_processor()
    try:
        if path is not None:
            executable = compiler.compile_stylesheet(stylesheet_file=str(path))
        else:
            executable = compiler.compile_stylesheet(stylesheet_text=text)
    except Exception as exc:  # noqa: BLE001 - saxonche.PySaxonApiError
        raise MalformedDocument(f"the rules could not be compiled: {exc}", file_name=name) from None
    if executable is None:
        raise MalformedDocument("the rules could not be compiled", file_name=name)
    return executable


def _schxslt(saxon):
    """SchXslt's compiler pipeline (include, expand, compile to SVRL)."""
    key = ("schxslt",)
    if key not in saxon.executables:
        pipeline = _compile_stylesheet(saxon, SCHXSLT.name, path=SCHXSLT.resolve())
        # compact SVRL: failed assertions and successful reports only, not a
        # fired-rule element per matched node; a third of the run time on a
        # typical invoice goes into writing and reading those
        pipeline.set_parameter("schxslt.svrl.compact", saxon.processor.make_boolean_value(True))
        saxon.executables[key] = pipeline
    return saxon.executables[key]


def compile_schematron(source, name=None):
    """Compile ISO Schematron (bytes, str or a path) to XSLT 2.0 text with SchXslt.

    :raises MalformedDocument: not a Schematron schema, or one using a
        construct refused here (see the module's docstring) or by SchXslt
    """
    if isinstance(source, Path):
        name = name or source.name
        source = source.read_bytes()
    name = name or "schema"
    root = xmlsafe.parse(source, file_name=name)
    _check_schema(root, name)
    _inherit_flags(root)
    text = etree.tostring(root, encoding="unicode")
    with _LOCK:
        saxon = _saxon()
        pipeline = _schxslt(saxon)
        try:
            node = saxon.processor.parse_xml(xml_text=text)
            return pipeline.transform_to_string(xdm_node=node)
        except Exception as exc:  # noqa: BLE001 - saxonche.PySaxonApiError
            raise MalformedDocument(f"Schematron {name}: SchXslt could not compile it: {exc}", file_name=name) from None


def _rule_file(rule_set):
    if isinstance(rule_set, Path):
        return rule_set
    try:
        return RULE_SETS[rule_set]
    except KeyError:
        raise UnrecognisedDocument(f"unknown Schematron rule set {rule_set!r}", expected=", ".join(RULE_SETS)) from None


def _executable(rule_set):
    """The compiled executable of a rule set (compiled at most once per process)."""
    with _LOCK:
        saxon = _saxon()
        executable = saxon.executables.get(rule_set)  # the shipped sets by name
        if executable is not None:
            return executable
        path = _rule_file(rule_set)
        key = str(path.resolve())
        executable = saxon.executables.get(key)
        if executable is None:
            if path.suffix.lower() == ".sch":
                text = compile_schematron(path)
                executable = _compile_stylesheet(saxon, path.name, text=text)
            else:
                executable = _compile_stylesheet(saxon, path.name, path=path.resolve())
            saxon.executables[key] = executable
        if isinstance(rule_set, str):
            saxon.executables[rule_set] = executable
        return executable


def preload(rule_sets=("cen", "peppol")):
    """Compile rule sets ahead of the first validation (e.g. at start-up)."""
    for rule_set in rule_sets:
        _executable(rule_set)


# Locations as CEN's stylesheet writes them (``*:Name[namespace-uri()='…']``)
# and as SchXslt writes them (``Q{…}Name``).
_CEN_ELEMENT_RE = re.compile(r"\*:([^\[/]+)\[namespace-uri\(\)='([^']*)'\]")
_CEN_ATTRIBUTE_RE = re.compile(r"@\*\[local-name\(\)='([^']*)' and namespace-uri\(\)='([^']*)'\]")
_EQNAME_RE = re.compile(r"Q\{([^}]*)\}([^\[/]+)")


def readable_location(location):
    """A node's XPath with the usual UBL prefixes, whichever writer made it.

    ``/*:Invoice[namespace-uri()='…Invoice-2'][1]/*:ID[namespace-uri()='…CommonBasicComponents-2'][1]``
    and ``/Q{…Invoice-2}Invoice[1]/Q{…CommonBasicComponents-2}ID[1]`` both
    give ``/Invoice[1]/cbc:ID[1]`` (unknown namespaces as ``Q{uri}name``).
    """

    def name(local, uri):
        if not uri:
            return local
        if uri in LOCATION_PREFIXES:
            prefix = LOCATION_PREFIXES[uri]
            return f"{prefix}:{local}" if prefix else local
        return f"Q{{{uri}}}{local}"

    text = _CEN_ATTRIBUTE_RE.sub(lambda m: "@" + name(m.group(1), m.group(2)), location or "")
    text = _CEN_ELEMENT_RE.sub(lambda m: name(m.group(1), m.group(2)), text)
    return _EQNAME_RE.sub(lambda m: name(m.group(2), m.group(1)), text)


def _findings(svrl_text, rule_set):
    root = etree.fromstring(svrl_text.encode("utf-8"))
    name = rule_set if isinstance(rule_set, str) else Path(rule_set).name
    findings = []
    for element in root.iter(_svrl("failed-assert"), _svrl("successful-report")):
        raw_flag = (element.get("flag") or "").strip().lower()
        flag = _FLAG_ALIASES.get(raw_flag, "fatal")  # none or unknown: an error
        text_element = element.find(_svrl("text"))
        text = " ".join("".join(text_element.itertext()).split()) if text_element is not None else ""
        findings.append(
            Finding(
                rule_id=element.get("id") or "",
                flag=flag,
                location=readable_location(element.get("location")),
                text=text,
                rule_set=name,
                test=element.get("test") or "",
            )
        )
    return findings


def _ubl_root(xml, file_name):
    root = xml if isinstance(xml, etree._Element) else xmlsafe.parse(xml, file_name=file_name)
    namespace = xmlsafe.namespace(root.tag)
    if namespace not in (UBL_INVOICE, UBL_CREDIT_NOTE):
        raise UnrecognisedDocument(
            f"not a UBL invoice or credit note: root element <{xmlsafe.local(root.tag)}>"
            f" in namespace {namespace or '(none)'}",
            file_name=file_name,
            expected=f"Invoice in {UBL_INVOICE} or CreditNote in {UBL_CREDIT_NOTE}",
        )
    return root


def validate_ubl(xml, rule_sets=("cen", "peppol"), file_name=None):
    """Run business rules on a UBL Invoice or CreditNote.

    :param xml: the document (bytes or str), or its root element already
        parsed with :mod:`xmlsafe` (then it is not parsed again)
    :param rule_sets: names of shipped rule sets (``'cen'``, ``'peppol'``) or
        paths of other ``.sch`` / compiled ``.xslt`` files
    :returns: every finding, rule set by rule set, in document order
    :raises LinkFormatError: the document is empty, unsafe, malformed or not
        UBL (:mod:`xmlsafe` errors, :class:`UnrecognisedDocument`)
    """
    root = _ubl_root(xml, file_name)
    executables = [(rule_set, _executable(rule_set)) for rule_set in rule_sets]
    text = etree.tostring(root, encoding="unicode")
    outputs = []
    with _LOCK:
        node = _saxon().processor.parse_xml(xml_text=text)
        for rule_set, executable in executables:
            try:
                outputs.append((rule_set, executable.transform_to_string(xdm_node=node)))
            except Exception as exc:  # noqa: BLE001 - saxonche.PySaxonApiError: a dynamic error in a rule
                raise SchemaViolation(
                    f"the {rule_set} rules could not be evaluated on this document: {exc}",
                    file_name=file_name,
                    errors=[str(exc)],
                ) from None
    findings = []
    for rule_set, output in outputs:
        findings.extend(_findings(output, rule_set))
    return findings


def fatal(findings):
    """The findings that make the document invalid."""
    return [f for f in findings if f.flag == "fatal"]


def warnings(findings):
    return [f for f in findings if f.flag == "warning"]


def describe_findings(xml, rule_sets=("cen", "peppol"), file_name=None):
    """The findings on a received document as readable lines, never raising.

    For inbound invoices: the rules are shown to the person who checks the
    bill, they do not stop it. Every finding (fatal ones first) becomes
    ``"[rule id] text (location)"``; a document the rules cannot be run on
    gives one line saying why.
    """
    try:
        findings = validate_ubl(xml, rule_sets=rule_sets, file_name=file_name)
    except LinkFormatError as exc:
        return [exc.describe()]
    order = {flag: index for index, flag in enumerate(FLAGS)}
    return [f"{f.flag}: {f.describe()}" for f in sorted(findings, key=lambda f: order[f.flag])]


def check_ubl(xml_bytes, rule_sets=("cen", "peppol"), file_name=None):
    """Validate and raise :class:`SchemaViolation` listing every fatal
    finding; return the non-fatal findings otherwise."""
    findings = validate_ubl(xml_bytes, rule_sets=rule_sets, file_name=file_name)
    errors = fatal(findings)
    if errors:
        raise SchemaViolation(
            f"the document breaks {len(errors)} business rule(s)",
            file_name=file_name,
            errors=[f.describe() for f in errors],
            expected="a document satisfying EN 16931 and Peppol BIS Billing 3.0",
        )
    return findings
