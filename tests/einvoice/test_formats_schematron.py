"""EN 16931 and Peppol BIS Billing 3.0 business rules run with saxonche.

The CEN rules run as the XSLT CEN publishes; the Peppol rules are compiled
from ISO Schematron by SchXslt. Both are checked against the rule unit tests
OpenPeppol publishes (expected failing / passing rule ids per test document)
and the valid Peppol examples; the CEN rules compiled by SchXslt from their
ISO Schematron source must give exactly the findings of CEN's own XSLT; and
on every UBL document in the shared samples the verdicts must equal those of
an independent Schematron compiler kept with the tests
(``schematron_reference.py``).
"""

import collections
import hashlib
import threading
from pathlib import Path

import pytest
from lxml import etree

from odoo.addons.heeros_link_base.formats.errors import (
    MalformedDocument,
    SchemaViolation,
    UnrecognisedDocument,
    UnsafeDocument,
)
from odoo.addons.heeros_link_einvoice.formats import schematron
from tests.common import SHARED_DATA
from tests.einvoice import schematron_reference
from tests.einvoice.schematron_reference import reference_verdicts, verdicts

EINVOICE = SHARED_DATA / "einvoice"
SAMPLES = EINVOICE / "samples"
UNIT_TESTS = sorted((SAMPLES / "peppol-bis3-unit-tests").glob("*.xml"))
CEN_SCH = schematron_reference.CEN_SCH
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"

pytestmark = pytest.mark.skipif(not EINVOICE.is_dir(), reason="shared e-invoice data missing")

INVOICE_NS = (
    'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


def _invoice(body):
    return f"<Invoice {INVOICE_NS}>{body}</Invoice>".encode()


def _ids(findings, flag=None):
    return sorted({f.rule_id for f in findings if flag is None or f.flag == flag})


# ---------------------------------------------------------------------------
# The compiler on small schemas (expected results follow ISO Schematron)
# ---------------------------------------------------------------------------

SCH_HEAD = (
    '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">'
    '<ns prefix="cbc" uri="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"/>'
    '<ns prefix="cac" uri="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"/>'
    '<ns prefix="inv" uri="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
)


def _run(tmp_path, schema_body, document):
    path = tmp_path / "rules.sch"
    path.write_text(SCH_HEAD + schema_body + "</schema>")
    return schematron.validate_ubl(document, rule_sets=(path,))


DOC = _invoice(
    "<cbc:ID>INV-1</cbc:ID><cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note>"
    '<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">10</cbc:LineExtensionAmount></cac:InvoiceLine>'
    '<cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:LineExtensionAmount currencyID="SEK">20</cbc:LineExtensionAmount></cac:InvoiceLine>'
)


def test_first_matching_rule_per_pattern(tmp_path):
    findings = _run(
        tmp_path,
        """
        <pattern>
          <rule context="cac:InvoiceLine[cbc:ID = '1']"><assert id="A" test="false()">a</assert></rule>
          <rule context="cac:InvoiceLine"><assert id="B" test="false()">b</assert></rule>
        </pattern>
        <pattern>
          <rule context="cac:InvoiceLine"><assert id="C" test="false()">c</assert></rule>
        </pattern>""",
        DOC,
    )
    by_id = collections.Counter(f.rule_id for f in findings)
    # line 1 is taken by A in the first pattern (not B); line 2 falls to B;
    # the second pattern is independent and sees both lines.
    assert by_id == {"A": 1, "B": 1, "C": 2}
    assert [f.location for f in findings if f.rule_id == "B"] == ["/Invoice[1]/cac:InvoiceLine[2]"]


def test_lets_at_every_level_value_of_and_name(tmp_path):
    findings = _run(
        tmp_path,
        """
        <let name="currency" value="'EUR'"/>
        <pattern>
          <let name="noteCount" value="count(/*/cbc:Note)"/>
          <rule context="cac:InvoiceLine">
            <let name="amount" value="cbc:LineExtensionAmount"/>
            <assert id="CUR" flag="warning" test="$amount/@currencyID = $currency"
              >Line <value-of select="cbc:ID"/> (<name/>): <name path="name($amount)"/> in <value-of select="$amount/@currencyID"/>, notes <value-of select="$noteCount"/>.</assert>
          </rule>
        </pattern>""",
        DOC,
    )
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.rule_id, finding.flag) == ("CUR", "warning")
    # name without path: the context node's name; with path: the string the
    # expression gives (ISO/IEC 19757-3: "an expression ... that returns a
    # string that is the name of a node")
    assert finding.text == "Line 2 (cac:InvoiceLine): cbc:LineExtensionAmount in SEK, notes 2."
    assert finding.location == "/Invoice[1]/cac:InvoiceLine[2]"


def test_report_flags_and_inline_markup(tmp_path):
    findings = _run(
        tmp_path,
        """
        <pattern flag="warning">
          <rule context="inv:Invoice" flag="information">
            <report id="R1" test="count(cbc:Note) &gt; 1">Two <emph>notes</emph>.</report>
            <assert id="R2" test="cbc:IssueDate">No date.</assert>
            <assert id="R3" flag="fatal" test="cbc:DueDate">No due date.</assert>
          </rule>
        </pattern>
        <pattern>
          <rule context="cbc:ID"><assert id="R4" test="string-length(.) &gt; 3">Short id</assert></rule>
        </pattern>""",
        DOC,
    )
    flags = {f.rule_id: f.flag for f in findings}
    # flag from the assertion, else the rule, else the pattern; none: fatal
    assert flags == {"R1": "information", "R2": "information", "R3": "fatal", "R4": "fatal"}
    assert [f.text for f in findings if f.rule_id == "R1"] == ["Two notes."]
    assert collections.Counter(f.rule_id for f in findings)["R4"] == 2  # line ids 1 and 2
    assert schematron.fatal(findings) == [f for f in findings if f.rule_id in ("R3", "R4")]


def test_attribute_context_and_location(tmp_path):
    findings = _run(
        tmp_path,
        """
        <pattern>
          <rule context="@currencyID"><assert id="EUR" test=". = 'EUR'">Not euro</assert></rule>
        </pattern>""",
        DOC,
    )
    assert [f.location for f in findings] == ["/Invoice[1]/cac:InvoiceLine[2]/cbc:LineExtensionAmount[1]/@currencyID"]


def test_abstract_rule_and_pattern(tmp_path):
    findings = _run(
        tmp_path,
        """
        <pattern>
          <rule abstract="true" id="has-id"><assert id="X1" test="cbc:Missing">needs Missing</assert></rule>
          <rule context="cac:InvoiceLine[cbc:ID = '2']"><extends rule="has-id"/>
            <assert id="X2" test="false()">own</assert></rule>
        </pattern>
        <pattern abstract="true" id="count-of">
          <rule context="$parent"><assert id="X3" test="count($child) = $n">count</assert></rule>
        </pattern>
        <pattern is-a="count-of" id="notes">
          <param name="parent" value="inv:Invoice"/><param name="child" value="cbc:Note"/>
          <param name="n" value="3"/>
        </pattern>""",
        DOC,
    )
    assert _ids(findings) == ["X1", "X2", "X3"]
    assert [f.location for f in findings if f.rule_id == "X3"] == ["/Invoice[1]"]


def test_compiled_stylesheet_is_xslt2(tmp_path):
    text = schematron.compile_schematron(
        (
            SCH_HEAD + '<pattern><rule context="cbc:ID"><assert id="I" test="true()">x</assert>'
            "</rule></pattern></schema>"
        ).encode()
    )
    sheet = etree.fromstring(text.encode())
    # xsl:transform and xsl:stylesheet are synonyms (XSLT 2.0, 3.1)
    assert sheet.tag in (
        "{http://www.w3.org/1999/XSL/Transform}stylesheet",
        "{http://www.w3.org/1999/XSL/Transform}transform",
    )
    assert sheet.get("version") == "2.0"


@pytest.mark.parametrize(
    "schema",
    [
        SCH_HEAD + '<include href="other.sch"/></schema>',
        SCH_HEAD + '<pattern><rule><assert test="true()">x</assert></rule></pattern></schema>',
        '<schema xmlns="http://example.com/not-schematron"/>',
        SCH_HEAD.replace("xslt2", "exslt") + "</schema>",
    ],
)
def test_unsupported_schemas_refused(schema):
    with pytest.raises(MalformedDocument):
        schematron.compile_schematron(schema.encode())


# ---------------------------------------------------------------------------
# Peppol BIS Billing 3.0 rule unit tests
# ---------------------------------------------------------------------------


def _unit_cases(path):
    root = etree.parse(str(path)).getroot()
    for index, test in enumerate(root.findall(f"{VEFA}test")):
        expectations = []
        for item in test.find(f"{VEFA}assert"):
            if not isinstance(item.tag, str):
                continue
            kind = etree.QName(item).localname
            if kind in ("success", "error", "warning"):
                number = item.get("number")
                expectations.append((kind, item.text.strip(), int(number) if number else None))
        documents = [e for e in test if isinstance(e.tag, str) and e.tag != f"{VEFA}assert"]
        yield index, expectations, etree.tostring(documents[0])


def test_unit_test_files_present():
    assert len(UNIT_TESTS) >= 50


@pytest.mark.parametrize("path", UNIT_TESTS, ids=[p.stem for p in UNIT_TESTS])
def test_peppol_rule_unit_tests(path):
    checked = 0
    for index, expectations, document in _unit_cases(path):
        findings = schematron.validate_ubl(document, rule_sets=("peppol",))
        counts = collections.Counter((f.rule_id, f.flag) for f in findings)
        for kind, rule_id, number in expectations:
            if kind == "success":
                failed = sorted(k for k in counts if k[0] == rule_id)
                assert not failed, f"test {index}: {rule_id} expected to pass, got {failed}"
            else:
                flag = "fatal" if kind == "error" else "warning"
                got = counts[(rule_id, flag)]
                if number is None:
                    assert got > 0, f"test {index}: {rule_id} expected to fail ({flag})"
                else:
                    assert got == number, f"test {index}: {rule_id} {flag} x{number}, got {got}"
            checked += 1
    assert checked


# ---------------------------------------------------------------------------
# Real documents
# ---------------------------------------------------------------------------

VALID_BIS3 = (
    sorted((SAMPLES / "peppol-bis3-examples").glob("*.xml"))
    + sorted((SAMPLES / "peppol-bis3-snippets").glob("*.xml"))
    + [
        SAMPLES / "cen-en16931" / "BIS3_Invoice_positive.XML",
        SAMPLES / "cen-en16931" / "BIS3_Invoice_negativ.XML",
    ]
)


@pytest.mark.parametrize("path", VALID_BIS3, ids=[f"{p.parent.name}/{p.name}" for p in VALID_BIS3])
def test_valid_peppol_documents_have_no_fatal_finding(path):
    findings = schematron.validate_ubl(path.read_bytes(), file_name=path.name)
    assert schematron.fatal(findings) == []
    assert {f.rule_set for f in findings} <= {"cen", "peppol"}


def test_odoo_bill_example_fails_only_empty_element_rule():
    path = SAMPLES / "odoo18-tests" / "account_edi_ubl_cii" / "bis3_bill_example.xml"
    findings = schematron.validate_ubl(path.read_bytes())
    assert [(f.rule_id, f.flag, f.rule_set) for f in findings] == [("PEPPOL-EN16931-R008", "fatal", "peppol")]
    assert findings[0].location.startswith("/Invoice[1]/")
    assert findings[0].text == "Document MUST not contain empty elements."
    with pytest.raises(SchemaViolation) as info:
        schematron.check_ubl(path.read_bytes(), file_name=path.name)
    assert len(info.value.errors) == 1 and "PEPPOL-EN16931-R008" in info.value.errors[0]


def test_odoo_allowance_example_fails_cen_sr43():
    path = (
        SAMPLES
        / "odoo18-tests"
        / "l10n_account_edi_ubl_cii_tests"
        / "from_peppol-bis-invoice-3_doc"
        / "bis3_allowance.xml"
    )
    findings = schematron.validate_ubl(path.read_bytes())
    assert [(f.rule_id, f.rule_set) for f in schematron.fatal(findings)] == [("UBL-SR-43", "cen")]


def test_swedish_organisation_number_check():
    # issue116.xml uses scheme 0007 (Swedish organisation number, Luhn check
    # digit) with 1234567890 and 1234512345: by hand, the Luhn sums of
    # 123456789 and 123451234 are 43 and 31, so the check digits would be 7
    # and 9, not 0 and 5; 5566778899 (supplier endpoint) is valid.
    path = SAMPLES / "cen-en16931" / "issue116.xml"
    findings = schematron.validate_ubl(path.read_bytes())
    failed = [f for f in findings if f.rule_id == "PEPPOL-COMMON-R049"]
    assert len(failed) == 3
    assert _ids(schematron.fatal(findings)) == ["PEPPOL-COMMON-R049"]
    assert not any("AccountingSupplierParty[1]/cac:Party[1]/cbc:EndpointID" in f.location for f in failed)


@pytest.mark.parametrize(
    "name", ["ubl-tc434-example6.xml", "ubl-tc434-example7.xml", "ubl-tc434-example8.xml", "ubl-tc434-example9.xml"]
)
def test_plain_en16931_examples_pass_cen_but_not_peppol(name):
    findings = schematron.validate_ubl((SAMPLES / "cen-en16931" / name).read_bytes())
    fatal = schematron.fatal(findings)
    assert not [f for f in fatal if f.rule_set == "cen"]
    assert {"PEPPOL-EN16931-R001", "PEPPOL-EN16931-R004", "PEPPOL-EN16931-R007"} <= set(_ids(fatal))


def test_cen_rules_catch_a_broken_invoice():
    findings = schematron.validate_ubl(_invoice("<cbc:ID>1</cbc:ID>"), rule_sets=("cen",))
    by_id = {f.rule_id: f for f in findings}
    # no specification id, issue date, type code, currency; the number is there
    assert {"BR-01", "BR-03", "BR-04", "BR-05"} <= set(by_id)
    assert "BR-02" not in by_id
    assert by_id["BR-05"].flag == "fatal"
    assert by_id["BR-05"].location == "/Invoice[1]"
    assert by_id["BR-05"].text.startswith("[BR-05]")


def _cen_equivalence_documents():
    documents = [p.read_bytes() for p in sorted((SAMPLES / "cen-en16931").glob("*"))]
    for path in UNIT_TESTS[::4]:
        documents.extend(doc for _i, _e, doc in _unit_cases(path))
    return documents


def test_compiler_matches_cen_compiled_xslt():
    """The CEN rules compiled from ISO Schematron by our compiler give the
    same findings (id, flag, location, text) as CEN's own XSLT."""
    total = 0
    distinct = set()
    for document in _cen_equivalence_documents():
        official = collections.Counter(
            (f.rule_id, f.flag, f.location, f.text) for f in schematron.validate_ubl(document, rule_sets=("cen",))
        )
        ours = collections.Counter(
            (f.rule_id, f.flag, f.location, f.text) for f in schematron.validate_ubl(document, rule_sets=(CEN_SCH,))
        )
        assert ours == official
        total += sum(official.values())
        distinct.update(k[0] for k in official)
    assert total > 500 and len(distinct) > 40  # a comparison with substance


def _ubl_samples():
    """Every UBL Invoice / CreditNote in the shared samples (unit-test
    wrappers contribute the documents they wrap)."""
    documents = []
    for path in sorted(SAMPLES.rglob("*")):
        if not path.is_file() or path.suffix.lower() != ".xml":
            continue
        try:
            root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        except etree.XMLSyntaxError:
            continue
        if root.tag in (f"{{{schematron.UBL_INVOICE}}}Invoice", f"{{{schematron.UBL_CREDIT_NOTE}}}CreditNote"):
            documents.append((str(path.relative_to(SAMPLES)), path.read_bytes()))
        elif root.tag == f"{VEFA}testSet":
            documents.extend((f"{path.relative_to(SAMPLES)}#{index}", doc) for index, _e, doc in _unit_cases(path))
    return documents


@pytest.fixture(scope="module")
def reference_rules():
    return schematron_reference.reference_rules()


def test_verdicts_equal_the_reference_on_every_ubl_sample(reference_rules):
    documents = _ubl_samples()
    assert len(documents) > 150
    fired = collections.Counter()
    for name, document in documents:
        ours = verdicts(schematron.validate_ubl(document, file_name=name))
        assert ours == reference_verdicts(document, reference_rules), name
        fired.update(key[:2] for key in ours)
    # a comparison with substance: many rules of both sets fire
    assert len({k for k in fired if k[0] == "cen"}) > 40
    assert len({k for k in fired if k[0] == "peppol"}) > 40


def test_reference_comparison_can_fail(reference_rules, tmp_path):
    """One Peppol rule turned into a warning in a copy of the rules: the
    comparison sees the difference."""
    original = '<assert id="PEPPOL-EN16931-R008" test="false()" flag="fatal">'
    source = schematron.RULE_SETS["peppol"].read_text()
    assert source.count(original) == 1
    changed = tmp_path / "peppol-changed.sch"
    changed.write_text(source.replace(original, original.replace("fatal", "warning")))
    document = (SAMPLES / "odoo18-tests" / "account_edi_ubl_cii" / "bis3_bill_example.xml").read_bytes()
    ours = verdicts(schematron.validate_ubl(document, rule_sets=(changed,)), "peppol")
    assert ours != reference_verdicts(document, {"peppol": reference_rules["peppol"]})
    assert ("peppol", "PEPPOL-EN16931-R008", "warning") in {key[:3] for key in ours}


# ---------------------------------------------------------------------------
# Input handling, caching, shipped files
# ---------------------------------------------------------------------------


def test_rejects_non_ubl_unsafe_and_malformed():
    with pytest.raises(UnrecognisedDocument):
        schematron.validate_ubl(b"<Finvoice Version='3.0'/>")
    with pytest.raises(UnsafeDocument):
        schematron.validate_ubl(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>')
    with pytest.raises(MalformedDocument):
        schematron.validate_ubl(_invoice("<cbc:ID>")[:-3])


def test_executables_are_cached_and_thread_safe():
    assert schematron._executable("peppol") is schematron._executable("peppol")
    document = (SAMPLES / "odoo18-tests" / "account_edi_ubl_cii" / "bis3_bill_example.xml").read_bytes()
    results, errors = [], []

    def work():
        try:
            results.append(tuple(f.rule_id for f in schematron.validate_ubl(document)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(results) == {("PEPPOL-EN16931-R008",)}


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_shipped_rules_are_the_official_files():
    data = schematron.DATA_DIR
    assert _sha(data / "EN16931-UBL-validation.xslt") == _sha(
        EINVOICE / "schematron" / "cen" / "EN16931-UBL-validation.xslt"
    )
    assert _sha(data / "PEPPOL-EN16931-UBL.sch") == _sha(EINVOICE / "schematron" / "peppol" / "PEPPOL-EN16931-UBL.sch")
    assert (data / "README.md").is_file()
