"""pain.001 builder, schema validation and reader.

Built files are checked against the official ISO 20022 schemas and read
back; the samples are read and what the reader returns is compared with
plain lxml XPath over the same files, computed here.
"""

import copy
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from odoo.addons.heeros_link_bank.formats import detect, pain001
from odoo.addons.heeros_link_bank.formats.pain001 import (
    Address,
    Document,
    Party,
    Payment,
    PaymentInfo,
)
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import (
    BuildError,
    EmptyDocument,
    LimitExceeded,
    MalformedDocument,
    RecordError,
    SchemaViolation,
    UnrecognisedDocument,
    UnsafeDocument,
)
from tests.common import SHARED_DATA, TEST_DATA

SAMPLES = sorted((SHARED_DATA / "bank" / "samples" / "pain001").glob("*.xml"))
GOLDEN = TEST_DATA / "bank" / "pain001_golden_v09.xml"
VERSIONS = ("09", "03")

DEBTOR = Party(
    "Heeros Testi Oy",
    iban="FI42 5000 1510 0000 23",
    bic="OKOYFIHH",
    org_id="1234567-8",
    address=Address(street="Maksajankatu", building="1", postcode="00100", town="Helsinki", country="FI"),
)
INITIATOR = Party("Heeros Testi Oy", org_id="SERVICEID01")
FI_CREDITOR = Party("Saaja Oy", iban="FI2112345600000785")
DE_CREDITOR = Party("Empfänger GmbH", iban="DE89370400440532013000", bic="COBADEFFXXX")
US_CREDITOR = Party(
    "Supplier Inc",
    other_account="000123456789",
    bic="CHASUS33XXX",
    address=Address(street="Main Street", building="5", postcode="10001", town="New York", country="US"),
)
CREATED = datetime(2026, 3, 2, 9, 30, 15)
EXECUTION = date(2026, 3, 4)


def _ns(version):
    return {"p": pain001.NAMESPACES[version]}


def _doc(infos, version="09", message_id="MSG-2026-0001"):
    return Document(message_id=message_id, created=CREATED, initiating_party=INITIATOR, infos=infos, version=version)


def _sepa(payments, **kwargs):
    return PaymentInfo("PMTINF-1", EXECUTION, DEBTOR, payments, **kwargs)


def _pay(end_to_end="E2E-1", amount="10.00", creditor=FI_CREDITOR, **kwargs):
    return Payment(end_to_end, Decimal(amount), kwargs.pop("currency", "EUR"), creditor, **kwargs)


def _mixed_document(version="09"):
    """SEPA with Finnish and RF references and a message, structured and
    hybrid addresses, an urgent batch, a salary batch and a foreign one."""
    structured = replace(
        FI_CREDITOR, address=Address(street="Saajantie", building="12 B", postcode="02100", town="Espoo", country="FI")
    )
    hybrid = replace(
        FI_CREDITOR, name="Hybridi Oy", address=Address(town="Tampere", country="FI", lines=("Hämeenkatu 1 A 2",))
    )
    sepa = _sepa(
        [
            _pay("E2E-FI-REF", "1200.50", structured, reference="1232 8"),
            _pay("E2E-RF-REF", "99.99", DE_CREDITOR, reference="RF18 5390 0754 7034"),
            _pay(
                "E2E-MESSAGE",
                "15.00",
                hybrid,
                message="Lasku 2026-17, kiitos",
                ultimate_debtor=Party("Alkuperäinen Maksaja Oy"),
            ),
        ],
        category_purpose="SUPP",
    )
    urgent = PaymentInfo(
        "PMTINF-URGENT",
        EXECUTION,
        DEBTOR,
        [_pay("E2E-URGENT", "5000.00", reference="12328")],
        urgent=True,
        batch_booking=False,
    )
    salary = PaymentInfo(
        "PMTINF-SALARY",
        EXECUTION,
        DEBTOR,
        [
            _pay(
                "E2E-SALA-1",
                "2345.67",
                Party("Matti Meikäläinen", iban="FI2112345600000785"),
                message="Palkka 2/2026",
                purpose="SALA",
            ),
            _pay(
                "E2E-SALA-2",
                "3100.00",
                Party("Maija Meikäläinen", iban="FI2112345600000785"),
                message="Palkka 2/2026",
                purpose="SALA",
            ),
        ],
        category_purpose="SALA",
    )
    foreign = PaymentInfo(
        "PMTINF-FOREIGN",
        EXECUTION,
        DEBTOR,
        [
            _pay("E2E-USD", "750.00", US_CREDITOR, currency="USD", message="Invoice 4711"),
        ],
        service_level=None,
    )
    return _doc([sepa, urgent, salary, foreign], version)


# -- building and validating ------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_build_validate_read_round_trip(version):
    doc = _mixed_document(version)
    data = pain001.build(doc)
    assert pain001.validate(data, "out.xml") == version
    # also valid for lxml reading the schema file directly (no cached object)
    schema = etree.XMLSchema(etree.parse(str(pain001.XSD_FOLDER / f"pain.001.001.{version}.xsd")))
    assert schema.validate(etree.fromstring(data))

    back = pain001.read(data, "out.xml")
    assert back.version == version
    assert back.message_id == doc.message_id
    assert back.created == CREATED
    assert [i.payment_info_id for i in back.infos] == [i.payment_info_id for i in doc.infos]
    assert [p.end_to_end_id for p in back.payments] == [p.end_to_end_id for p in doc.payments]
    assert [p.amount for p in back.payments] == [p.amount for p in doc.payments]
    assert [p.currency for p in back.payments] == ["EUR"] * 6 + ["USD"]
    by_id = {p.end_to_end_id: p for p in back.payments}
    assert by_id["E2E-FI-REF"].reference == "12328"
    assert by_id["E2E-RF-REF"].reference == "RF18539007547034"
    assert by_id["E2E-MESSAGE"].message == "Lasku 2026-17, kiitos"
    assert by_id["E2E-MESSAGE"].ultimate_debtor.name == "Alkuperäinen Maksaja Oy"
    assert by_id["E2E-SALA-1"].purpose == "SALA"
    assert by_id["E2E-FI-REF"].creditor.address == Address(
        street="Saajantie", building="12 B", postcode="02100", town="Espoo", country="FI"
    )
    assert by_id["E2E-MESSAGE"].creditor.address == Address(town="Tampere", country="FI", lines=("Hämeenkatu 1 A 2",))
    assert by_id["E2E-USD"].creditor.other_account == "000123456789"
    assert by_id["E2E-USD"].creditor.bic == "CHASUS33XXX"
    infos = {i.payment_info_id: i for i in back.infos}
    assert infos["PMTINF-1"].service_level == "SEPA" and infos["PMTINF-1"].charge_bearer == "SLEV"
    assert infos["PMTINF-1"].category_purpose == "SUPP"
    assert infos["PMTINF-URGENT"].urgent and infos["PMTINF-URGENT"].service_level == "URGP"
    assert infos["PMTINF-URGENT"].batch_booking is False
    assert infos["PMTINF-SALARY"].category_purpose == "SALA"
    assert infos["PMTINF-FOREIGN"].service_level is None and infos["PMTINF-FOREIGN"].charge_bearer == "SHAR"
    assert infos["PMTINF-1"].debtor.iban == "FI4250001510000023"
    assert infos["PMTINF-1"].debtor.bic == "OKOYFIHH"
    assert infos["PMTINF-1"].execution_date == EXECUTION
    assert back.initiating_party.org_id == "SERVICEID01"


@pytest.mark.parametrize("version", VERSIONS)
def test_finnish_and_rf_references_are_structured_as_finnish_banks_expect(version):
    root = etree.fromstring(pain001.build(_mixed_document(version)))
    ns = _ns(version)

    def reference(e2e):
        tx = root.xpath(f"//p:CdtTrfTxInf[p:PmtId/p:EndToEndId='{e2e}']", namespaces=ns)[0]
        return tx.find("p:RmtInf/p:Strd/p:CdtrRefInf", ns)

    national = reference("E2E-FI-REF")
    assert national.findtext("p:Tp/p:CdOrPrtry/p:Cd", namespaces=ns) == "SCOR"
    assert national.find("p:Tp/p:Issr", ns) is None
    assert national.findtext("p:Ref", namespaces=ns) == "12328"
    rf = reference("E2E-RF-REF")
    assert rf.findtext("p:Tp/p:CdOrPrtry/p:Cd", namespaces=ns) == "SCOR"
    assert rf.findtext("p:Tp/p:Issr", namespaces=ns) == "ISO"
    assert rf.findtext("p:Ref", namespaces=ns) == "RF18539007547034"
    message = root.xpath("//p:CdtTrfTxInf[p:PmtId/p:EndToEndId='E2E-MESSAGE']/p:RmtInf", namespaces=ns)[0]
    assert message.find("p:Strd", ns) is None
    assert message.findtext("p:Ustrd", namespaces=ns) == "Lasku 2026-17, kiitos"


@pytest.mark.parametrize("version", VERSIONS)
def test_service_levels_charges_and_totals_in_the_file(version):
    root = etree.fromstring(pain001.build(_mixed_document(version)))
    ns = _ns(version)
    infos = {i.findtext("p:PmtInfId", namespaces=ns): i for i in root.findall(".//p:PmtInf", ns)}
    assert infos["PMTINF-1"].findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=ns) == "SEPA"
    assert infos["PMTINF-URGENT"].findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=ns) == "URGP"
    assert infos["PMTINF-SALARY"].findtext("p:PmtTpInf/p:CtgyPurp/p:Cd", namespaces=ns) == "SALA"
    assert infos["PMTINF-FOREIGN"].find("p:PmtTpInf", ns) is None
    assert infos["PMTINF-FOREIGN"].findtext("p:ChrgBr", namespaces=ns) == "SHAR"
    assert infos["PMTINF-1"].findtext("p:ChrgBr", namespaces=ns) == "SLEV"
    bic = "p:BICFI" if version == "09" else "p:BIC"
    assert infos["PMTINF-FOREIGN"].findtext(f".//p:CdtrAgt/p:FinInstnId/{bic}", namespaces=ns) == "CHASUS33XXX"
    date_path = "p:ReqdExctnDt/p:Dt" if version == "09" else "p:ReqdExctnDt"
    assert infos["PMTINF-1"].findtext(date_path, namespaces=ns) == "2026-03-04"
    amounts = [Decimal(a) for a in root.xpath("//p:InstdAmt/text()", namespaces=ns)]
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == str(len(amounts)) == "7"
    assert Decimal(root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns)) == sum(amounts)
    for info in infos.values():
        own = [Decimal(a) for a in info.xpath(".//p:InstdAmt/text()", namespaces=ns)]
        assert Decimal(info.findtext("p:CtrlSum", namespaces=ns)) == sum(own)
        assert info.findtext("p:NbOfTxs", namespaces=ns) == str(len(own))


def test_golden_file():
    """One built pain.001.001.09 compared byte for byte with the expected
    file (the creation time comes from the Document, so nothing is volatile)."""
    data = pain001.build(_mixed_document("09"))
    assert data == GOLDEN.read_bytes()
    assert pain001.validate(GOLDEN.read_bytes(), GOLDEN.name) == "09"


# -- build errors ---------------------------------------------------------------


def _build_error(payment=None, info=None, **info_kwargs):
    info = info or _sepa([payment], **info_kwargs)
    with pytest.raises(BuildError) as caught:
        pain001.build(_doc([info]))
    return caught.value


@pytest.mark.parametrize(
    ("payment", "element", "words"),
    [
        (_pay("E2E-BAD-IBAN", creditor=Party("Saaja", iban="FI2112345600000786")), "CdtrAcct/Id/IBAN", "IBAN"),
        (_pay("E2E-BAD-REF", reference="12329"), "CdtrRefInf/Ref", "reference"),
        (_pay("E2E-BAD-RF", reference="RF19539007547034"), "CdtrRefInf/Ref", "RF reference"),
        (_pay("E2E-LONG-NAME", creditor=Party("N" * 71, iban="FI2112345600000785")), "Cdtr/Nm", "71 characters"),
        (_pay("E2E-LONG-MSG", message="m" * 141), "RmtInf/Ustrd", "141 characters"),
        (_pay("E2E-ZERO", amount="0"), "Amt/InstdAmt", "not positive"),
        (_pay("E2E-NEGATIVE", amount="-5.00"), "Amt/InstdAmt", "not positive"),
        (_pay("E2E-DECIMALS", amount="1.005"), "Amt/InstdAmt", "more decimals than EUR"),
        (_pay("E2E-MANY-DIGITS", amount="1" * 40 + ".001"), "Amt/InstdAmt", "too large"),
        (_pay("E2E//SLASH"), "EndToEndId", "'//'"),
        (_pay("E2E-HUGE", amount="1000000000.00"), "Amt/InstdAmt", "too large"),
        (_pay("E2E-USD-SEPA", currency="USD"), "Amt/InstdAmt", "SEPA"),
        (_pay("E2E-BOTH", reference="12328", message="also a message"), "RmtInf", "not both"),
        (_pay("E2E-NO-ACCOUNT", creditor=Party("Saaja")), "CdtrAcct/Id", "account"),
        ("E" * 36, "EndToEndId", "36 characters"),
    ],
)
def test_build_errors_name_the_payment_and_the_field(payment, element, words):
    if isinstance(payment, str):
        payment = _pay(payment)
    error = _build_error(payment)
    assert payment.end_to_end_id in error.message
    assert error.end_to_end_id == payment.end_to_end_id and error.payment_info_id == "PMTINF-1"
    assert element in error.element
    assert words in error.message


def test_foreign_payment_needs_the_creditor_banks_bic():
    payment = _pay("E2E-NO-BIC", creditor=replace(US_CREDITOR, bic=None), currency="USD")
    error = _build_error(payment, service_level=None)
    assert "E2E-NO-BIC" in error.message and "BIC" in error.message
    assert error.element.endswith("CdtrAgt/FinInstnId/BICFI")
    # the same to a non-SEPA IBAN in euros
    payment = _pay("E2E-NO-BIC-2", creditor=Party("Turkish Ltd", iban="TR330006100519786457841326"))
    error = _build_error(payment, service_level=None)
    assert "E2E-NO-BIC-2" in error.message and "BIC" in error.message
    # and a SEPA batch refuses an IBAN outside SEPA
    error = _build_error(payment)
    assert "SEPA" in error.message


def test_foreign_payment_needs_the_creditors_country_and_the_currencys_decimals():
    payment = _pay("E2E-NO-COUNTRY", creditor=replace(US_CREDITOR, address=Address(town="New York")), currency="USD")
    error = _build_error(payment, service_level=None)
    assert "E2E-NO-COUNTRY" in error.message and error.element == "CdtTrfTxInf/Cdtr/PstlAdr/Ctry"
    yen = _pay("E2E-JPY", "1500", replace(US_CREDITOR, address=Address(town="Tokyo", country="JP")), currency="JPY")
    data = pain001.build(_doc([_sepa([yen], service_level=None)]))
    assert b'<InstdAmt Ccy="JPY">1500</InstdAmt>' in data
    assert pain001.validate(data) == "09"
    assert pain001.read(data).payments[0].amount == Decimal(1500)
    error = _build_error(replace(yen, amount=Decimal("1500.50")), service_level=None)
    assert "E2E-JPY" in error.message and "JPY" in error.message


def test_bad_bic_and_payment_information_errors():
    error = _build_error(_pay("E2E-BIC", creditor=replace(DE_CREDITOR, bic="NOTABIC")))
    assert "E2E-BIC" in error.message and "BIC" in error.message
    error = _build_error(info=_sepa([_pay()], charge_bearer="SHAR"))
    assert "PMTINF-1" in error.message and error.element == "PmtInf/ChrgBr"
    error = _build_error(info=PaymentInfo("PI-NO-BIC", EXECUTION, replace(DEBTOR, bic=None), [_pay()]))
    assert "PI-NO-BIC" in error.message and "DbtrAgt" in error.element
    error = _build_error(info=PaymentInfo("PI-EMPTY", EXECUTION, DEBTOR, []))
    assert "PI-EMPTY" in error.message
    with pytest.raises(BuildError, match="version"):
        pain001.build(_doc([_sepa([_pay()])], version="05"))


def test_reference_helpers():
    assert pain001.finnish_reference_is_valid("12328")
    assert pain001.finnish_reference_is_valid("1232 8")
    assert not pain001.finnish_reference_is_valid("12329")
    assert not pain001.finnish_reference_is_valid("RF18539007547034")
    assert pain001.rf_reference_is_valid("RF18539007547034")
    assert pain001.rf_reference_is_valid("RF18 5390 0754 7034")
    assert not pain001.rf_reference_is_valid("RF19539007547034")
    assert not pain001.rf_reference_is_valid("12328")


# -- schema validation --------------------------------------------------------


def test_schema_violation_names_the_element_line_and_payment():
    data = pain001.build(_doc([_sepa([_pay("E2E-OK"), _pay("E2E-TAMPERED", message="x")])]))
    root = etree.fromstring(data)
    ns = _ns("09")
    tx = root.xpath("//p:CdtTrfTxInf[p:PmtId/p:EndToEndId='E2E-TAMPERED']", namespaces=ns)[0]
    tx.find("p:RmtInf/p:Ustrd", ns).text = "y" * 141  # Max140Text
    tampered = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    with pytest.raises(SchemaViolation) as caught:
        pain001.validate(tampered, "tampered.xml")
    error = caught.value
    assert error.element == "Ustrd"
    assert "E2E-TAMPERED" in error.message and error.end_to_end_id == "E2E-TAMPERED"
    assert error.file_name == "tampered.xml"
    line = next(n for n, text in enumerate(tampered.decode().splitlines(), 1) if "y" * 141 in text)
    assert error.line == line
    assert error.errors and "E2E-TAMPERED" in error.errors[0]


def test_schema_violation_outside_a_transaction_and_every_finding_kept():
    root = etree.fromstring(pain001.build(_doc([_sepa([_pay()])])))
    ns = _ns("09")
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", ns)
    header.remove(header.find("p:MsgId", ns))
    info = root.find(".//p:PmtInf", ns)
    info.find("p:PmtMtd", ns).text = "XXX"
    with pytest.raises(SchemaViolation) as caught:
        pain001.validate(etree.tostring(root))
    error = caught.value
    assert error.element == "CreDtTm"  # where MsgId was expected
    assert len(error.errors) == 2
    assert any("PmtMtd" in finding for finding in error.errors)


def test_validate_refuses_what_has_no_schema():
    swiss = SHARED_DATA / "bank" / "samples" / "pain001" / "moov_musterfile_pain.001_Nov2020.xml"
    with pytest.raises(UnrecognisedDocument):
        pain001.validate(swiss.read_bytes(), swiss.name)
    with pytest.raises(UnrecognisedDocument):
        pain001.validate(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>')


# -- reading the samples ----------------------------------------------------------


def _expected(path):
    """What the sample holds, by plain XPath."""
    root = etree.parse(str(path)).getroot()
    ns = {"p": etree.QName(root).namespace}
    if not re.search(r"pain\.001\.", ns["p"]):
        return None
    infos = []
    for info in root.findall(".//p:PmtInf", ns):
        payments = []
        for tx in info.findall("p:CdtTrfTxInf", ns):
            amount = tx.find("p:Amt/p:InstdAmt", ns)
            if amount is None:
                amount = tx.find("p:Amt/p:EqvtAmt/p:Amt", ns)
            payments.append(
                (
                    tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns).strip(),
                    Decimal(amount.text),
                    amount.get("Ccy"),
                    tx.findtext("p:RmtInf/p:Strd/p:CdtrRefInf/p:Ref", namespaces=ns),
                )
            )
        infos.append((info.findtext("p:PmtInfId", namespaces=ns), payments))
    stated = int(root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns))
    return infos, stated


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_is_read(path):
    data = path.read_bytes()
    expected = _expected(path)
    if expected is None:  # pain.008 direct debit: not a credit transfer
        with pytest.raises(UnrecognisedDocument, match="pain.001"):
            pain001.read(data, path.name)
        assert not detect.is_pain001(xmlsafe.sniff(data))
        return
    assert detect.is_pain001(xmlsafe.sniff(data))
    infos, stated = expected
    if stated != sum(len(payments) for _id, payments in infos):
        # the file's own count disagrees with what it holds: refused
        with pytest.raises(RecordError) as caught:
            pain001.read(data, path.name)
        assert caught.value.element == "GrpHdr/NbOfTxs" and caught.value.file_name == path.name
        return
    doc = pain001.read(data, path.name)
    got = [
        (info.payment_info_id, [(p.end_to_end_id, p.amount, p.currency, p.reference) for p in info.payments])
        for info in doc.infos
    ]
    assert got == infos
    assert all(p.creditor is not None for p in doc.payments)


def test_sample_details():
    doc = pain001.read((SHARED_DATA / "bank/samples/pain001/corporatejs_pain001_5.xml").read_bytes())
    assert doc.message_id == "2013-11-01-P1" and doc.version == "03"
    assert doc.created == datetime(2013, 11, 1, 23, 59)
    info = doc.infos[0]
    assert info.execution_date == date(2013, 11, 15)
    assert info.debtor.iban == "FI8529501800030574" and info.debtor.bic == "NDEAFIHH"
    assert info.payments[0].creditor.bic == "BANKFIHH"
    assert info.payments[0].creditor.iban == "FI6329501800020582"
    assert doc.initiating_party.org_id == "87654321"


# -- salary files -------------------------------------------------------------------


def _salary_document():
    salary = PaymentInfo(
        "SALARIES-03",
        EXECUTION,
        DEBTOR,
        [
            _pay("PALKKA-1", "2100.00", message="Palkka maaliskuu"),
            _pay("PALKKA-2", "1900.00", message="Palkka maaliskuu"),
        ],
        category_purpose="SALA",
    )
    return _doc([salary])


def test_salary_only_accepts_salary_batches():
    data = pain001.build(_salary_document())
    doc = pain001.read(data, "payroll.xml", salary_only=True)
    assert [p.amount for p in doc.payments] == [Decimal("2100.00"), Decimal("1900.00")]
    assert doc.infos[0].category_purpose == "SALA"


def test_salary_only_accepts_the_category_purpose_on_every_transaction():
    root = etree.fromstring(
        pain001.build(
            _salary_document(),
        )
    )
    ns = _ns("09")
    info = root.find(".//p:PmtInf", ns)
    kind = info.find("p:PmtTpInf", ns)
    category = kind.find("p:CtgyPurp", ns)
    kind.remove(category)
    for tx in info.findall("p:CdtTrfTxInf", ns):
        tx_kind = etree.Element(f"{{{ns['p']}}}PmtTpInf")
        tx_kind.append(copy.deepcopy(category))
        tx.find("p:PmtId", ns).addnext(tx_kind)
    data = etree.tostring(root)
    assert pain001.validate(data) == "09"
    assert pain001.read(data, salary_only=True).infos[0].category_purpose == "SALA"
    # one transaction without it: the batch is not a salary batch
    info.findall("p:CdtTrfTxInf", ns)[1].remove(info.findall("p:CdtTrfTxInf", ns)[1].find("p:PmtTpInf", ns))
    with pytest.raises(pain001.NotSalaryPayment, match="SALARIES-03"):
        pain001.read(etree.tostring(root), "payroll.xml", salary_only=True)


def test_salary_only_refuses_other_payments_naming_the_payment_information():
    doc = _mixed_document()
    with pytest.raises(pain001.NotSalaryPayment) as caught:
        pain001.read(pain001.build(doc), "mixed.xml", salary_only=True)
    assert "PMTINF-1" in caught.value.message
    assert caught.value.file_name == "mixed.xml"
    assert isinstance(caught.value, RecordError)
    sample = SHARED_DATA / "bank/samples/pain001/corporatejs_pain001_1.xml"
    with pytest.raises(pain001.NotSalaryPayment):
        pain001.read(sample.read_bytes(), sample.name, salary_only=True)


# -- damaged and hostile input -----------------------------------------------------


def _built(version="09"):
    return pain001.build(_doc([_sepa([_pay("E2E-1", "10.00")])], version))


def test_totals_that_disagree_are_refused():
    data = _built().replace(b"<CtrlSum>10.00</CtrlSum>", b"<CtrlSum>11.00</CtrlSum>", 1)
    with pytest.raises(RecordError) as caught:
        pain001.read(data, "sum.xml")
    assert caught.value.element == "GrpHdr/CtrlSum"


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (b"1" * 40, RecordError),
        (b"1e400", RecordError),
        (b"12,50", RecordError),
        (b"NaN", RecordError),
        (b"99999999999999.99", RecordError),
    ],
)
def test_bad_and_huge_amounts_are_refused(amount, error):
    data = _built().replace(b">10.00</InstdAmt>", b">" + amount + b"</InstdAmt>")
    with pytest.raises(error) as caught:
        pain001.read(data, "amount.xml")
    assert "InstdAmt" in caught.value.element
    assert "E2E-1" in caught.value.message or "out of range" in caught.value.message


@pytest.mark.parametrize("reader", [pain001.read, pain001.validate])
def test_hostile_xml_is_refused(tmp_path, reader):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = _built()
    xxe = data.replace(
        b"<Document", f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]>\n<Document'.encode(), 1
    ).replace(b"<Nm>Saaja Oy</Nm>", b"<Nm>&x;</Nm>")
    with pytest.raises(UnsafeDocument) as caught:
        reader(xxe, "xxe.xml")
    assert "TOP SECRET" not in str(caught.value)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">&lol2;</Document>'
    )
    with pytest.raises(UnsafeDocument):
        reader(laughs, "laughs.xml")
    with pytest.raises(EmptyDocument):
        reader(b"  \n", "empty.xml")
    with pytest.raises(MalformedDocument):
        reader(data[: len(data) // 2], "cut.xml")
    deep = (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>'
        + b"<a>" * 300
        + b"</a>" * 300
        + b"</CstmrCdtTrfInitn></Document>"
    )
    with pytest.raises(LimitExceeded):
        reader(deep, "deep.xml")


def test_missing_mandatory_parts_name_the_element():
    data = _built().replace(b"<EndToEndId>E2E-1</EndToEndId>", b"")
    with pytest.raises(RecordError) as caught:
        pain001.read(data, "e2e.xml")
    assert caught.value.element == "PmtInf[1]/CdtTrfTxInf[1]/PmtId/EndToEndId"
    data = re.sub(
        rb"<ReqdExctnDt>.*?</ReqdExctnDt>", b"<ReqdExctnDt><Dt>2026-02-30</Dt></ReqdExctnDt>", _built(), flags=re.S
    )
    with pytest.raises(RecordError, match="invalid date"):
        pain001.read(data)
    with pytest.raises(UnrecognisedDocument):
        pain001.read(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><Other/></Document>')


def test_ids_are_unique_in_a_file():
    error = _build_error(info=_sepa([_pay("E2E-SAME"), _pay("E2E-SAME")]))
    assert "E2E-SAME" in error.message and "twice" in error.message
    with pytest.raises(BuildError, match="PMTINF-1"):
        pain001.build(_doc([_sepa([_pay("A")]), _sepa([_pay("B")])]))


def test_many_schema_findings_are_capped():
    payments = [_pay(f"E2E-{n}", message="x") for n in range(150)]
    data = pain001.build(_doc([_sepa(payments)]))
    tampered = data.replace(b"<Ustrd>x</Ustrd>", b"<Ustrd>" + b"y" * 141 + b"</Ustrd>")
    with pytest.raises(SchemaViolation) as caught:
        pain001.validate(tampered)
    assert len(caught.value.errors) == 101 and caught.value.errors[-1] == "... and 50 more"
    assert "E2E-0" in caught.value.message
    assert all(f"'E2E-{n}'" in caught.value.errors[n] for n in range(100))


def test_execution_time_and_float_amounts_are_taken_as_meant():
    info = _sepa(
        [_pay("E2E-FLOAT", amount="0")],
    )
    info.payments[0].amount = 10.1  # a float from a caller
    info.execution_date = datetime(2026, 3, 4, 15, 0)
    data = pain001.build(_doc([info]))
    assert b"<Dt>2026-03-04</Dt>" in data and b">10.10</InstdAmt>" in data
    assert pain001.validate(data) == "09"
