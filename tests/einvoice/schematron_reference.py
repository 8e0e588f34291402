"""An independent reading of ISO Schematron, used only as a second opinion.

The product runs its rules with SchXslt and the XSLT CEN publishes (see
``heeros_link_einvoice/formats/schematron.py``). This small compiler from ISO
Schematron to XSLT 2.0 was written separately from SchXslt; the rule tests
run the Peppol rules through both and require the same findings, so a change
of either implementation (or of the rule files) that alters a verdict shows.

It covers what the shipped rule files use: ``ns``, ``let`` at every level,
embedded XSLT functions and keys, ``pattern`` / ``rule`` / ``assert`` /
``report`` with ``id``, ``flag`` and ``subject``, message content with
``value-of`` and ``name``, abstract rules and patterns. Phases are ignored.
"""

import collections
import functools
import re
import tempfile
from pathlib import Path

from lxml import etree

from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import MalformedDocument
from odoo.addons.heeros_link_einvoice.formats import schematron
from tests.common import SHARED_DATA

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
XS = "http://www.w3.org/2001/XMLSchema"
HELPER_NS = "urn:heeros-link:schematron-reference"
#: The CEN rules as ISO Schematron, the source of CEN's compiled XSLT.
CEN_SCH = SHARED_DATA / "einvoice" / "schematron" / "cen" / "EN16931-UBL-validation-preprocessed.sch"


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


def compile_reference(path):
    """Compile the ISO Schematron file at ``path`` to XSLT 2.0 text."""
    schema = xmlsafe.parse(path.read_bytes(), file_name=path.name)
    sheet = _Compiler(schema, path.name).compile()
    return etree.tostring(sheet, encoding="unicode")


@functools.cache
def reference_rules():
    """The CEN and Peppol ISO Schematron compiled by this compiler, as
    stylesheet files (once per test process)."""
    folder = Path(tempfile.mkdtemp(prefix="reference-rules-"))
    rules = {}
    for name, source in (("cen", CEN_SCH), ("peppol", schematron.RULE_SETS["peppol"])):
        path = folder / f"{name}.xslt"
        path.write_text(compile_reference(source))
        rules[name] = path
    return rules


def verdicts(findings, rule_set=None):
    """What decides a document's fate: which rules fired, how, and where."""
    return collections.Counter((rule_set or f.rule_set, f.rule_id, f.flag, f.location) for f in findings)


def reference_verdicts(document, rules=None):
    """The verdicts of the reference compiler's rules on ``document``."""
    counter = collections.Counter()
    for name, path in (rules or reference_rules()).items():
        counter += verdicts(schematron.validate_ubl(document, rule_sets=(path,)), name)
    return counter
