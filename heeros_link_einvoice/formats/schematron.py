"""Business-rule validation of UBL documents with the official Schematron rules.

Two rule sets are shipped in ``../data/schematron`` (see its README):

* ``cen``: the CEN/TC 434 EN 16931 rules bound to UBL, as the compiled XSLT 2.0
  stylesheet CEN publishes (it writes SVRL);
* ``peppol``: the Peppol BIS Billing 3.0 rules, as the ISO Schematron source
  OpenPeppol publishes (query binding ``xslt2``).

No Schematron implementation is needed at run time: :func:`compile_schematron`
is a small compiler from ISO Schematron to an XSLT 2.0 stylesheet writing
SVRL-like output, and SaxonC-HE (``saxonche``) runs both stylesheets. The
compiler covers what these rule files use, and a little more:

* ``ns`` declarations; ``let`` at schema, pattern and rule level (schema and
  pattern variables are global, evaluated on the document root; rule
  variables are evaluated on the rule's context node); XSLT ``function`` and
  ``key`` elements embedded in the schema;
* ``pattern`` / ``rule context`` / ``assert`` / ``report`` with ``id``,
  ``flag`` (from the assertion, else its rule, else its pattern) and
  ``subject``; within a pattern a node is handled by the first rule whose
  context matches it, and every element and attribute is visited;
* message content with ``value-of``, ``name`` and the inline elements
  ``emph``, ``dir``, ``span`` (their text);
* abstract rules (``rule abstract="true"`` used through ``extends rule``) and
  abstract patterns (``pattern abstract="true"`` instantiated with
  ``pattern is-a`` and ``param``);
* phases are ignored: all patterns run.

``include`` and ``extends href`` (external files) are refused.

Compiled executables are cached per process: the first use of a rule set
compiles it (about 0.3 s for the CEN stylesheet, 0.05 s for the Peppol rules,
plus Saxon's just-in-time compilation of the rules on the first document);
later calls reuse it. A module-level lock serialises compilation and
transformations, so the functions may be called from several threads.
"""

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
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
XS = "http://www.w3.org/2001/XMLSchema"
#: Namespace of the helper function the compiler adds to each stylesheet.
HELPER_NS = "urn:heeros-link:schematron"

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
#: Shipped rule sets: name -> file (``.xslt`` = compiled SVRL stylesheet,
#: ``.sch`` = ISO Schematron compiled here).
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


# ---------------------------------------------------------------------------
# Schematron -> XSLT 2.0 compiler
# ---------------------------------------------------------------------------


def _sch(tag):
    return f"{{{SCH}}}{tag}"


def _xsl(tag):
    return f"{{{XSL}}}{tag}"


def _svrl(tag):
    return f"{{{SVRL}}}{tag}"


_INLINE = {"emph", "dir", "span"}
_PARAM_ATTRS = ("context", "test", "select", "path", "value", "subject")


def _avt(text):
    """A literal for an attribute value template."""
    return text.replace("{", "{{").replace("}", "}}")


class _Compiler:
    """Turns one ISO Schematron document into an XSLT 2.0 stylesheet."""

    def __init__(self, schema, name):
        self.schema = schema
        self.name = name
        self.abstract_rules = {}
        self.abstract_patterns = {}
        self.diagnostics = {}

    def fail(self, message, element=None):
        where = None
        if element is not None:
            where = f"{etree.QName(element).localname} (line {element.sourceline})"
        return MalformedDocument(f"Schematron {self.name}: {message}", element=where, file_name=self.name)

    # -- preparation --------------------------------------------------------

    def collect(self):
        root = self.schema
        if root.tag != _sch("schema"):
            raise self.fail("the root element is not an ISO Schematron <schema>", root)
        binding = (root.get("queryBinding") or "xslt").lower()
        if binding not in ("xslt", "xslt2", "xslt3", "xpath2", "xpath3", "xpath31"):
            raise self.fail(f"query binding {binding!r} is not supported", root)
        for element in root.iter(_sch("include"), _sch("extends")):
            if element.tag == _sch("include") or element.get("href"):
                raise self.fail(
                    "external files (include, extends href) are not supported; use a preprocessed schema", element
                )
        for rule in root.iter(_sch("rule")):
            if rule.get("abstract") == "true":
                if not rule.get("id"):
                    raise self.fail("abstract rule without id", rule)
                self.abstract_rules[rule.get("id")] = rule
        for pattern in root.iter(_sch("pattern")):
            if pattern.get("abstract") == "true":
                if not pattern.get("id"):
                    raise self.fail("abstract pattern without id", pattern)
                self.abstract_patterns[pattern.get("id")] = pattern
        for diagnostic in root.iter(_sch("diagnostic")):
            if diagnostic.get("id"):
                self.diagnostics[diagnostic.get("id")] = diagnostic

    def instantiate(self, pattern):
        """A concrete pattern for ``is-a``: the abstract one with its
        ``$param`` placeholders replaced."""
        base = self.abstract_patterns.get(pattern.get("is-a"))
        if base is None:
            raise self.fail(f"pattern is-a {pattern.get('is-a')!r}: no such abstract pattern", pattern)
        params = {p.get("name"): p.get("value") or "" for p in pattern.findall(_sch("param"))}
        copy = etree.fromstring(etree.tostring(base))
        copy.attrib.pop("abstract", None)
        if params:
            names = sorted(params, key=len, reverse=True)
            regex = re.compile(r"\$(" + "|".join(re.escape(n) for n in names) + r")(?![\w.\-])")
            for element in copy.iter():
                if not isinstance(element.tag, str):
                    continue
                for attr in _PARAM_ATTRS:
                    if attr in element.attrib:
                        element.set(attr, regex.sub(lambda m: params[m.group(1)], element.get(attr)))
        return copy

    def rule_items(self, rule, seen=()):
        """The lets, asserts and reports of a rule, ``extends`` resolved."""
        items = []
        for child in rule:
            if not isinstance(child.tag, str):
                continue
            if child.tag == _sch("extends"):
                ref = child.get("rule")
                base = self.abstract_rules.get(ref)
                if base is None:
                    raise self.fail(f"extends rule={ref!r}: no such abstract rule", child)
                if ref in seen:
                    raise self.fail(f"abstract rule {ref!r} extends itself", child)
                items.extend(self.rule_items(base, (*seen, ref)))
            elif child.tag in (_sch("let"), _sch("assert"), _sch("report")):
                items.append(child)
        return items

    # -- output -------------------------------------------------------------

    def namespaces(self):
        nsmap = {"xsl": XSL, "svrl": SVRL, "xs": XS, "hlsch": HELPER_NS}
        declared = {p: u for p, u in self.schema.nsmap.items() if p and u != SCH}
        for ns in self.schema.findall(_sch("ns")):
            declared[ns.get("prefix")] = ns.get("uri")
        for prefix, uri in declared.items():
            if prefix in nsmap and nsmap[prefix] != uri:
                raise self.fail(f"namespace prefix {prefix!r} is reserved by the compiler")
            nsmap[prefix] = uri
        return nsmap

    def compile(self):
        self.collect()
        nsmap = self.namespaces()
        sheet = etree.Element(_xsl("stylesheet"), nsmap=nsmap)
        sheet.set("version", "2.0")
        sheet.set("exclude-result-prefixes", "#all")
        output = etree.SubElement(sheet, _xsl("output"))
        output.set("method", "xml")
        output.set("indent", "no")
        self.add_path_function(sheet)

        root = self.schema
        # Embedded XSLT (functions, keys) and global variables.
        for child in root:
            if not isinstance(child.tag, str):
                continue
            if child.tag.startswith(f"{{{XSL}}}"):
                sheet.append(_copy(child))
        patterns = []
        for pattern in root.findall(_sch("pattern")):
            if pattern.get("abstract") == "true":
                continue
            if pattern.get("is-a"):
                pattern = self.instantiate(pattern)
            patterns.append(pattern)
        for child in root:
            if child.tag == _sch("let"):
                sheet.append(self.variable(child))
        for pattern in patterns:
            for let in pattern.findall(_sch("let")):
                sheet.append(self.variable(let))

        main = etree.SubElement(sheet, _xsl("template"), match="/")
        output_root = etree.SubElement(main, _svrl("schematron-output"))
        title = root.find(_sch("title"))
        if title is not None and (title.text or "").strip():
            output_root.set("title", _avt(" ".join(title.text.split())))
        for index, pattern in enumerate(patterns, start=1):
            mode = f"M{index}"
            active = etree.SubElement(output_root, _svrl("active-pattern"))
            if pattern.get("id"):
                active.set("id", _avt(pattern.get("id")))
            etree.SubElement(output_root, _xsl("apply-templates"), select="/", mode=mode)
            self.pattern_templates(sheet, pattern, mode)
        return sheet

    def add_path_function(self, sheet):
        """``hlsch:path($node)``: the node's XPath in the form the CEN
        stylesheet also writes (``/*:Name[namespace-uri()='…'][n]``)."""
        function = etree.SubElement(sheet, _xsl("function"), name="hlsch:path")
        function.set("as", "xs:string")
        param = etree.SubElement(function, _xsl("param"), name="node")
        param.set("as", "node()")
        etree.SubElement(
            function,
            _xsl("sequence"),
            select=(
                "if ($node instance of document-node()) then '/' else string-join("
                "for $n in $node/ancestor-or-self::node()[not(self::document-node())] return "
                "if ($n instance of attribute()) then "
                "  (if (namespace-uri($n) = '') then concat('/@', local-name($n)) "
                "   else concat('/@*[local-name()=''', local-name($n), ''' and namespace-uri()=''', "
                "namespace-uri($n), ''']')) "
                "else if ($n instance of element()) then "
                "  concat('/', if (namespace-uri($n) = '') then local-name($n) "
                "   else concat('*:', local-name($n), '[namespace-uri()=''', namespace-uri($n), ''']'), "
                "  '[', 1 + count($n/preceding-sibling::*[node-name(.) = node-name($n)]), ']') "
                "else concat('/', name($n)), '')"
            ),
        )

    def variable(self, let):
        if not let.get("name"):
            raise self.fail("let without a name", let)
        variable = etree.Element(_xsl("variable"), name=let.get("name"))
        if let.get("as"):
            variable.set("as", let.get("as"))
        if let.get("value") is not None:
            variable.set("select", let.get("value"))
        else:
            for child in let:
                variable.append(_copy(child))
            if let.text:
                variable.text = let.text
        return variable

    def pattern_templates(self, sheet, pattern, mode):
        rules = [r for r in pattern.findall(_sch("rule")) if r.get("abstract") != "true"]
        for position, rule in enumerate(rules):
            context = rule.get("context")
            if not context:
                raise self.fail("rule without context", rule)
            template = etree.SubElement(sheet, _xsl("template"), match=context, mode=mode)
            template.set("priority", str(1000 + len(rules) - position))
            for item in self.rule_items(rule):
                if item.tag == _sch("let"):
                    template.append(self.variable(item))
                else:
                    template.append(self.check(item, rule, pattern))
            etree.SubElement(template, _xsl("apply-templates"), select="@*|*", mode=mode)
        # Nodes no rule matches: go on to their attributes and children.
        default = etree.SubElement(sheet, _xsl("template"), match="/|@*|node()", mode=mode)
        default.set("priority", "-2")
        etree.SubElement(default, _xsl("apply-templates"), select="@*|*", mode=mode)

    def check(self, item, rule, pattern):
        test = item.get("test")
        if not test:
            raise self.fail(f"{etree.QName(item).localname} without test", item)
        is_assert = item.tag == _sch("assert")
        result = etree.Element(_svrl("failed-assert" if is_assert else "successful-report"))
        result.set("test", _avt(test))
        if item.get("id"):
            result.set("id", _avt(item.get("id")))
        flag = item.get("flag") or rule.get("flag") or pattern.get("flag")
        if flag:
            result.set("flag", _avt(flag))
        subject = item.get("subject") or rule.get("subject")
        location = f"({subject})[1]" if subject else "."
        result.set("location", "{hlsch:path(" + location + ")}")
        text = etree.SubElement(result, _svrl("text"))
        self.message(item, text)
        for ref in (item.get("diagnostics") or "").split():
            diagnostic = self.diagnostics.get(ref)
            if diagnostic is not None:
                element = etree.SubElement(result, _svrl("diagnostic-reference"), diagnostic=ref)
                self.message(diagnostic, element)
        if is_assert:
            choose = etree.Element(_xsl("choose"))
            etree.SubElement(choose, _xsl("when"), test=test)
            otherwise = etree.SubElement(choose, _xsl("otherwise"))
            otherwise.append(result)
            return choose
        wrapper = etree.Element(_xsl("if"), test=test)
        wrapper.append(result)
        return wrapper

    def message(self, source, target):
        """Copy message content: text, ``value-of``, ``name`` and inline elements."""

        def add_text(value):
            if value:
                etree.SubElement(target, _xsl("text")).text = value

        add_text(source.text)
        for child in source:
            if isinstance(child.tag, str):
                if child.tag == _sch("value-of"):
                    etree.SubElement(target, _xsl("value-of"), select=child.get("select") or ".")
                elif child.tag == _sch("name"):
                    path = child.get("path") or "."
                    etree.SubElement(target, _xsl("value-of"), select=f"name({path})")
                else:  # emph, dir, span and foreign markup: their text
                    self.message(child, target)
            add_text(child.tail)


def _copy(element):
    return etree.fromstring(etree.tostring(element))


def compile_schematron(source, name=None):
    """Compile ISO Schematron (bytes, str or a path) to XSLT 2.0 text.

    :raises MalformedDocument: not a Schematron schema, or one using a
        construct this compiler does not support
    """
    if isinstance(source, Path):
        name = name or source.name
        source = source.read_bytes()
    schema = xmlsafe.parse(source, file_name=name)
    sheet = _Compiler(schema, name or "schema").compile()
    return etree.tostring(sheet, encoding="unicode")


# ---------------------------------------------------------------------------
# Running the rules with SaxonC
# ---------------------------------------------------------------------------

_LOCK = threading.RLock()
_STATE = {"processor": None}
_EXECUTABLES = {}


def _processor():
    if _STATE["processor"] is None:
        from saxonche import PySaxonProcessor  # declared external dependency

        _STATE["processor"] = PySaxonProcessor(license=False)
    return _STATE["processor"]


def _rule_file(rule_set):
    if isinstance(rule_set, Path):
        return rule_set
    try:
        return RULE_SETS[rule_set]
    except KeyError:
        raise UnrecognisedDocument(f"unknown Schematron rule set {rule_set!r}", expected=", ".join(RULE_SETS)) from None


def _executable(rule_set):
    """The compiled executable of a rule set (compiled at most once)."""
    path = _rule_file(rule_set)
    key = str(path.resolve())
    with _LOCK:
        executable = _EXECUTABLES.get(key)
        if executable is not None:
            return executable
        processor = _processor()
        compiler = processor.new_xslt30_processor()
        try:
            if path.suffix.lower() == ".sch":
                text = compile_schematron(path)
                executable = compiler.compile_stylesheet(stylesheet_text=text)
            else:
                executable = compiler.compile_stylesheet(stylesheet_file=str(path))
        except LinkFormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - saxonche.PySaxonApiError
            raise MalformedDocument(f"the rules could not be compiled: {exc}", file_name=path.name) from None
        if executable is None:
            raise MalformedDocument("the rules could not be compiled", file_name=path.name)
        _EXECUTABLES[key] = executable
        return executable


def preload(rule_sets=("cen", "peppol")):
    """Compile rule sets ahead of the first validation (e.g. at start-up)."""
    for rule_set in rule_sets:
        _executable(rule_set)


_CEN_ELEMENT_RE = re.compile(r"\*:([^\[/]+)\[namespace-uri\(\)='([^']*)'\]")
_CEN_ATTRIBUTE_RE = re.compile(r"@\*\[local-name\(\)='([^']*)' and namespace-uri\(\)='([^']*)'\]")


def readable_location(location):
    """``/*:Invoice[namespace-uri()='…Invoice-2'][1]/*:ID[namespace-uri()='…CommonBasicComponents-2'][1]``
    -> ``/Invoice[1]/cbc:ID[1]`` (unknown namespaces as ``Q{uri}name``)."""

    def name(local, uri):
        if uri in LOCATION_PREFIXES:
            prefix = LOCATION_PREFIXES[uri]
            return f"{prefix}:{local}" if prefix else local
        return f"Q{{{uri}}}{local}"

    text = _CEN_ATTRIBUTE_RE.sub(lambda m: "@" + name(m.group(1), m.group(2)), location or "")
    return _CEN_ELEMENT_RE.sub(lambda m: name(m.group(1), m.group(2)), text)


def _findings(svrl_text, rule_set):
    root = etree.fromstring(svrl_text.encode("utf-8"))
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
                rule_set=rule_set if isinstance(rule_set, str) else Path(rule_set).name,
                test=element.get("test") or "",
            )
        )
    return findings


def validate_ubl(xml_bytes, rule_sets=("cen", "peppol"), file_name=None):
    """Run business rules on a UBL Invoice or CreditNote.

    :param xml_bytes: the document (bytes or str)
    :param rule_sets: names of shipped rule sets (``'cen'``, ``'peppol'``) or
        paths of other ``.sch`` / compiled ``.xslt`` files
    :returns: every finding, rule set by rule set, in document order
    :raises LinkFormatError: the document is empty, unsafe, malformed or not
        UBL (:mod:`xmlsafe` errors, :class:`UnrecognisedDocument`)
    """
    root = xmlsafe.parse(xml_bytes, file_name=file_name)
    namespace = xmlsafe.namespace(root.tag)
    if namespace not in (UBL_INVOICE, UBL_CREDIT_NOTE):
        raise UnrecognisedDocument(
            f"not a UBL invoice or credit note: root element <{xmlsafe.local(root.tag)}>"
            f" in namespace {namespace or '(none)'}",
            file_name=file_name,
            expected=f"Invoice in {UBL_INVOICE} or CreditNote in {UBL_CREDIT_NOTE}",
        )
    text = etree.tostring(root, encoding="unicode")
    findings = []
    for rule_set in rule_sets:
        executable = _executable(rule_set)
        with _LOCK:
            processor = _processor()
            try:
                node = processor.parse_xml(xml_text=text)
                output = executable.transform_to_string(xdm_node=node)
            except Exception as exc:  # noqa: BLE001 - saxonche.PySaxonApiError: a dynamic error in a rule
                raise SchemaViolation(
                    f"the {rule_set} rules could not be evaluated on this document: {exc}",
                    file_name=file_name,
                    errors=[str(exc)],
                ) from None
        findings.extend(_findings(output, rule_set))
    return findings


def fatal(findings):
    """The findings that make the document invalid."""
    return [f for f in findings if f.flag == "fatal"]


def warnings(findings):
    return [f for f in findings if f.flag == "warning"]


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
