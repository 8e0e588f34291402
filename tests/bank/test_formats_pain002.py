"""pain.002 payment status reports: every public sample, every version,
streaming, damaged and hostile input.

The expected statuses, counts of rejected transactions and reason codes of
each sample were written by hand from reading the files; the counts are
cross-checked with plain XPath over the same files.
"""

import dataclasses
import json
import re
from decimal import Decimal

import pytest
from lxml import etree

from odoo.addons.heeros_link_bank.formats import detect, pain002
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import (
    EmptyDocument,
    LinkFormatError,
    MalformedDocument,
    RecordError,
    UnrecognisedDocument,
    UnsafeDocument,
)
from tests.common import SHARED_DATA, TEST_DATA

SAMPLE_DIR = SHARED_DATA / "bank" / "samples" / "pain002"

# file -> (group status, payment infos, transactions, rejected transactions,
#          group reason codes, reason codes of payment infos, of transactions)
EXPECTED = {
    "bankingws_payment_status_received_xml_encoded.xml": ("ACTC", 0, 0, 0, [], [], []),
    "bankingws_payment_status_report_content_approved.xml": ("ACCP", 0, 0, 0, [], [], []),
    "bankingws_payment_status_report_partially_accepted.xml": ("PART", 0, 0, 0, [], [], []),
    "bankingws_payment_status_report_single_rejected.xml": (None, 1, 1, 1, [], [], ["AC01"]),
    "bankingws_payment_status_report_structure_approved.xml": ("ACTC", 0, 0, 0, [], [], []),
    "bankingws_payment_status_report_structure_rejected.xml": ("RJCT", 0, 0, 0, [], [], []),
    "corporatejs_pain002_1.xml": ("ACTC", 0, 0, 0, [], [], []),
    "corporatejs_pain002_2.xml": ("RJCT", 0, 0, 0, ["NARR"], [], []),
    "corporatejs_pain002_3.xml": ("ACCP", 1, 1, 0, [], [], []),
    # one transaction rejected itself, one inside a rejected payment information
    "corporatejs_pain002_4.xml": ("PART", 4, 4, 2, [], ["DT01"], ["NARR"]),
    "corporatejs_pain002_5.xml": ("RJCT", 1, 1, 1, [], ["DT01"], []),
    # the group's reason names only its originator; the batch's has only a text
    "corporatejs_pain002_6.xml": ("RJCT", 1, 1, 1, [], [None], ["AM01"]),
    "moov_valid_pain002_001_11.xml": (None, 0, 0, 0, [], [], []),
    "postfinance_pain002-chdd-cor1_p_ch2909000000250094239_1110097483_0_2018031317221082.xml": (
        None,
        1,
        0,
        0,
        [],
        [],
        [],
    ),
    "postfinance_pain002-epo_p_0_0_0_2018031510491259.xml": ("ACTC", 0, 0, 0, [], [], []),
    "postfinance_pain002-epo_p_0_0_0_2018032614401842.xml": ("RJCT", 0, 0, 0, ["AM10"], [], []),
    "postfinance_pain002-epo_p_ch2909000000250094239_1109800799_0_2018032612092784.xml": (
        None,
        1,
        1,
        1,
        [],
        ["NARR"],
        ["AC01"],
    ),
    "postfinance_pain002-epo_p_ch5109000000250092291_1110097605_0_2018031511252307.xml": (
        None,
        1,
        1,
        1,
        [],
        [],
        ["AC01"],
    ),
}
SAMPLES = sorted(SAMPLE_DIR.glob("*.xml"))
NS10 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"


def test_the_table_covers_every_sample():
    assert {p.name for p in SAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_is_parsed_with_the_right_statuses(path):
    data = path.read_bytes()
    group, n_infos, n_tx, n_rejected, group_codes, info_codes, tx_codes = EXPECTED[path.name]
    report = pain002.parse(data, path.name)
    assert report.group_status == group
    assert len(report.infos) == n_infos
    assert len(report.transactions) == n_tx
    assert len(report.rejected) == n_rejected
    assert [r.code for r in report.group_reasons] == group_codes
    assert [r.code for i in report.infos for r in i.reasons] == info_codes
    assert [r.code for t in report.transactions for r in t.reasons] == tx_codes
    assert report.message_id and report.original_message_id
    # cross-check with XPath: explicit TxSts RJCT are among the rejected
    text = data.decode("utf-8", errors="replace")
    assert text.count("<TxSts>RJCT</TxSts>") <= n_rejected
    assert text.count("<TxInfAndSts>") == n_tx
    assert text.count("<OrgnlPmtInfAndSts>") == n_infos
    for reason in [
        *report.group_reasons,
        *(r for i in report.infos for r in i.reasons),
        *(r for t in report.transactions for r in t.reasons),
    ]:
        assert reason.text_en and reason.text_fi
    assert pain002.is_pain002(data)
    assert detect.is_pain002(xmlsafe.sniff(pain002._strip_trailing_junk(data)))
    assert not detect.is_pain001(xmlsafe.sniff(pain002._strip_trailing_junk(data)))


def test_sample_details():
    report = pain002.parse((SAMPLE_DIR / "corporatejs_pain002_4.xml").read_bytes())
    assert report.version == "03"
    assert report.original_message_id == "MsgId_110610"
    assert report.original_message_type == "pain.001.001.03"
    assert report.created.isoformat() == "2014-01-11T16:31:48+02:00"
    first = report.infos[0]
    assert first.payment_info_id == "20140102-123456-01" and first.status == "PART"
    tx = first.transactions[0]
    assert (tx.end_to_end_id, tx.status, tx.amount, tx.currency) == ("TEST PMT", "RJCT", Decimal("22.11"), "EUR")
    assert tx.reasons[0].additional == ("Viite virheellinen",)
    assert tx.reasons[0].text_fi == pain002.REASONS["NARR"][1]
    rejected_info = report.infos[1]
    assert rejected_info.status == "RJCT" and rejected_info.reasons[0].code == "DT01"
    assert rejected_info.reasons[0].additional == ("Eräpäivä virheellinen",)
    # a transaction without a status of its own has its batch's
    assert rejected_info.transactions[0].status == "RJCT"
    assert rejected_info.transactions[0].end_to_end_id is None
    assert [i.status for i in report.infos[2:]] == ["ACCP", "ACCP"]

    grouped = pain002.parse((SAMPLE_DIR / "corporatejs_pain002_2.xml").read_bytes())
    assert grouped.infos == []
    assert len(grouped.group_reasons[0].additional) == 3
    assert "CtrlSum" in " ".join(grouped.group_reasons[0].additional)

    batch = pain002.parse((SAMPLE_DIR / "corporatejs_pain002_6.xml").read_bytes())
    assert batch.infos[0].reasons[0].code is None
    assert batch.infos[0].reasons[0].additional == ("Koko erä hylätty.",)
    assert batch.transactions[0].amount == Decimal("0.00000")

    later = pain002.parse((SAMPLE_DIR / "moov_valid_pain002_001_11.xml").read_bytes())
    assert later.version == "11" and later.group_status is None


def test_trailing_stray_byte_is_ignored_but_not_trailing_markup():
    path = SAMPLE_DIR / "bankingws_payment_status_report_content_approved.xml"
    data = path.read_bytes()
    assert not data.rstrip().endswith(b">")  # the sample really ends with a stray byte
    assert pain002.parse(data).group_status == "ACCP"
    with pytest.raises(MalformedDocument):
        pain002.parse(data + b"<Document/>")


def test_statuses_and_reasons_have_english_and_finnish_texts():
    for code in ("ACTC", "ACCP", "ACSP", "ACSC", "ACWC", "PART", "PDNG", "RJCT"):
        english, finnish = pain002.STATUSES[code]
        assert english and finnish and english != finnish
        assert pain002.status_text(code, "fi") == finnish
    assert pain002.status_text("ZZZZ") == "Status ZZZZ"
    assert len(pain002.REASONS) >= 30
    for code in ("AC01", "AC04", "AC06", "AG01", "AM04", "AM05", "BE04", "MS03", "NARR", "RC01", "FF01", "DU01"):
        english, finnish = pain002.REASONS[code]
        assert english and finnish and english != finnish
    unknown = pain002.reason("XY99", ["pankin oma selitys"])
    assert unknown.code == "XY99" and "XY99" in unknown.text_en and "XY99" in unknown.text_fi
    assert unknown.additional == ("pankin oma selitys",)


def _report_v10(transactions, prtry=False):
    """A pain.002.001.10 report on ``transactions`` (end-to-end id, status,
    reason), valid against the official schema (checked in the tests)."""
    reason = "<Prtry>{code}</Prtry>" if prtry else "<Cd>{code}</Cd>"
    rows = "".join(
        f"<TxInfAndSts><OrgnlInstrId>I-{e2e}</OrgnlInstrId><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId>"
        f"<TxSts>{status}</TxSts>"
        + (
            f"<StsRsnInf><Rsn>{reason.format(code=code)}</Rsn><AddtlInf>Tilillä ei katetta</AddtlInf></StsRsnInf>"
            if code
            else ""
        )
        + f'<OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>'
        for e2e, status, code, amount in transactions
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{NS10}"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>STATUS-1</MsgId><CreDtTm>2026-03-04T10:00:00+02:00</CreDtTm></GrpHdr>"
        "<OrgnlGrpInfAndSts><OrgnlMsgId>MSG-2026-0001</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>"
        "<GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>"
        "<OrgnlPmtInfAndSts><OrgnlPmtInfId>PMTINF-1</OrgnlPmtInfId><PmtInfSts>PART</PmtInfSts>"
        f"{rows}</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()


@pytest.fixture(scope="module")
def schema_v10():
    from odoo.addons.heeros_link_bank.formats import pain001

    return etree.XMLSchema(etree.parse(str(pain001.XSD_FOLDER / "pain.002.001.10.xsd")))


def test_version_10_report(schema_v10):
    data = _report_v10([("E2E-1", "ACSC", None, "10.00"), ("E2E-2", "RJCT", "AM04", "20.50")])
    assert schema_v10.validate(etree.fromstring(data)), schema_v10.error_log
    report = pain002.parse(data, "status.xml")
    assert report.version == "10" and report.group_status == "PART"
    assert [(t.end_to_end_id, t.status) for t in report.transactions] == [("E2E-1", "ACSC"), ("E2E-2", "RJCT")]
    rejected = report.rejected[0]
    assert rejected.original_instruction_id == "I-E2E-2" and rejected.amount == Decimal("20.50")
    assert rejected.reasons[0].code == "AM04"
    assert rejected.reasons[0].text_fi == pain002.REASONS["AM04"][1]
    proprietary = pain002.parse(_report_v10([("E2E-3", "RJCT", "OWN1", "1.00")], prtry=True))
    assert proprietary.transactions[0].reasons[0].code == "OWN1"


@pytest.mark.parametrize("version", ["03", "05", "09", "12"])
def test_any_version_from_03_to_12(version):
    data = _report_v10([("E2E-1", "RJCT", "AC04", "1.00")]).replace(
        b"pain.002.001.10", f"pain.002.001.{version}".encode()
    )
    report = pain002.parse(data)
    assert report.version == version and report.rejected[0].reasons[0].code == "AC04"


def test_other_versions_and_documents_are_not_pain002():
    for data in (
        _report_v10([]).replace(b"pain.002.001.10", b"pain.002.001.02"),
        _report_v10([]).replace(b"pain.002.001.10", b"pain.002.001.13"),
        (SHARED_DATA / "bank/samples/pain001/corporatejs_pain001_1.xml").read_bytes(),
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>',
    ):
        with pytest.raises(UnrecognisedDocument):
            pain002.parse(data, "other.xml")
        assert not pain002.is_pain002(data)
    wrong_message = _report_v10([]).replace(b"CstmrPmtStsRpt", b"FIToFIPmtStsRpt")
    with pytest.raises(UnrecognisedDocument, match="CstmrPmtStsRpt"):
        pain002.parse(wrong_message)
    assert not pain002.is_pain002(b"")
    assert pain002.is_pain002(etree.fromstring(_report_v10([])))
    assert not pain002.is_pain002(etree.fromstring(wrong_message))


def test_large_report_is_streamed():
    rows = [
        (f"E2E-{n}", "RJCT" if n % 10 == 0 else "ACSC", "AM04" if n % 10 == 0 else None, "1.00") for n in range(20000)
    ]
    report = pain002.parse(_report_v10(rows))
    assert len(report.transactions) == 20000
    assert len(report.rejected) == 2000
    assert all(t.reasons[0].code == "AM04" for t in report.rejected)


def test_missing_mandatory_elements_and_bad_values_name_the_element():
    data = _report_v10([("E2E-1", "RJCT", "AM04", "1.00")])
    with pytest.raises(RecordError) as caught:
        pain002.parse(data.replace(b"<OrgnlMsgId>MSG-2026-0001</OrgnlMsgId>", b""), "s.xml")
    assert caught.value.element == "OrgnlGrpInfAndSts/OrgnlMsgId" and caught.value.file_name == "s.xml"
    assert caught.value.line == 1
    with pytest.raises(RecordError) as caught:
        pain002.parse(data.replace(b"<TxSts>RJCT</TxSts>", b"<TxSts>REJECTED!</TxSts>"))
    assert caught.value.element == "OrgnlPmtInfAndSts[1]/TxInfAndSts[1]/TxSts"
    with pytest.raises(RecordError) as caught:
        pain002.parse(data.replace(b">1.00<", b">" + b"9" * 30 + b"<"))
    assert "InstdAmt" in caught.value.element
    with pytest.raises(RecordError):
        pain002.parse(data.replace(b">1.00<", b">1e999<"))
    with pytest.raises(RecordError) as caught:
        pain002.parse(data.replace(b"<OrgnlPmtInfId>PMTINF-1</OrgnlPmtInfId>", b""))
    assert caught.value.element == "OrgnlPmtInfAndSts[1]/OrgnlPmtInfId"
    with pytest.raises(RecordError, match="date and time"):
        pain002.parse(data.replace(b"2026-03-04T10:00:00+02:00", b"yesterday"))
    with pytest.raises(MalformedDocument):
        pain002.parse(
            data.replace(b"<GrpHdr><MsgId>STATUS-1</MsgId>", b"<GrpHdr><MsgId>S</MsgId>")
            .replace(b"<OrgnlGrpInfAndSts>", b"<X>")
            .replace(b"</OrgnlGrpInfAndSts>", b"</X>")
        )


def test_hostile_input_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = _report_v10([("E2E-1", "RJCT", "AM04", "1.00")])
    xxe = data.replace(
        b"<Document", f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]><Document'.encode(), 1
    ).replace(b"STATUS-1", b"&x;")
    with pytest.raises(UnsafeDocument) as caught:
        pain002.parse(xxe, "xxe.xml")
    assert "TOP SECRET" not in str(caught.value) and caught.value.file_name == "xxe.xml"
    assert not pain002.is_pain002(xxe)
    with pytest.raises(UnsafeDocument):
        pain002.parse(b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + data[data.index(b"<Doc") :])
    with pytest.raises(EmptyDocument):
        pain002.parse(b"")
    with pytest.raises(MalformedDocument):
        pain002.parse(data[:200])
    with pytest.raises(LinkFormatError):
        pain002.parse(b"\x00\x01binary junk")


def test_payment_detectors_on_every_bank_sample():
    pain = re.compile(rb'xmlns="[^"]*(pain\.00[12])\.001\.(\d\d)')
    for path in sorted((SHARED_DATA / "bank" / "samples").glob("*/*.xml")):
        data = path.read_bytes()
        match = pain.search(data[:2048])
        kind = match.group(1).decode() if match else None
        sniff = xmlsafe.sniff(pain002._strip_trailing_junk(data), path.name)
        assert detect.is_pain002(sniff) == (kind == "pain.002"), path.name
        assert detect.is_pain001(sniff) == (kind == "pain.001"), path.name


def test_golden_parse_of_a_report():
    """The whole parsed report of one sample, as checked by hand against the
    file, kept as the expected data (dates and amounts as text)."""
    report = pain002.parse((SAMPLE_DIR / "corporatejs_pain002_4.xml").read_bytes())
    got = json.loads(json.dumps(dataclasses.asdict(report), default=str))
    assert got == json.loads((TEST_DATA / "bank" / "pain002_corporatejs_4.json").read_text(encoding="utf-8"))
