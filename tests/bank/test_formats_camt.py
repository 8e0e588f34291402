"""camt.052/053/054 parser: every public sample, hand-written edge cases,
errors, streaming.

Expected values are computed here independently of the parser: with plain
lxml XPath over the sample files (counting ``Ntry``, summing signed
``Ntry/Amt``...), or written by hand from reading the files.
"""

import gc
import re
import resource
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bench.bench_camt_parse import generate_camt053
from odoo.addons.heeros_link_bank.formats import camt
from odoo.addons.heeros_link_base.formats.errors import (
    EmptyDocument,
    LinkFormatError,
    MalformedDocument,
    RecordError,
    UnrecognisedDocument,
    UnsafeDocument,
)
from tests.common import SHARED_DATA, TEST_DATA

SAMPLES = SHARED_DATA / "bank" / "samples"
SAMPLE_DIRS = (
    "finnish_camt",
    "genkgo_camt",
    "hbci4java_de",
    "moov_postfinance",
    "oca_account_payment",
    "oca_bank_statement_import",
)
DATA = TEST_DATA / "bank"
CAMT_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.")
KNOWN_BROKEN = {"camt053.v2.wrong.xml"}  # BkToCstmrStmt without any Stmt


def _root_namespace(path):
    for _event, element in etree.iterparse(str(path), events=("start",)):
        return etree.QName(element).namespace or ""
    return ""


ALL_FILES = sorted(p for d in SAMPLE_DIRS for p in (SAMPLES / d).glob("*.xml"))
CAMT_FILES = [p for p in ALL_FILES if CAMT_NS.match(_root_namespace(p)) and p.name not in KNOWN_BROKEN]
OTHER_FILES = [p for p in ALL_FILES if not CAMT_NS.match(_root_namespace(p))]


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


# -- independent reading with XPath --------------------------------------


def _x(element, path):
    """Children by local names, e.g. ``_x(ntry, 'Amt')``."""
    steps = "/".join(f"*[local-name()='{part}']" for part in path.split("/"))
    return element.xpath(steps)


def _s(element, path):
    found = _x(element, path)
    return (found[0].text or "").strip() if found else ""


def _signed(holder):
    value = Decimal(_s(holder, "Amt"))
    return value if _s(holder, "CdtDbtInd") != "DBIT" else -value


def _expected(path):
    root = etree.parse(str(path)).getroot()
    statements = root.xpath("/*/*/*[local-name()='Stmt' or local-name()='Rpt' or local-name()='Ntfctn']")
    result = []
    for st in statements:
        entries = _x(st, "Ntry")
        result.append(
            {
                "id": _s(st, "Id"),
                "entries": len(entries),
                "sum": sum((_signed(n) for n in entries), Decimal(0)),
                "details": len(_x(st, "Ntry/NtryDtls/TxDtls")),
                "statuses": [(_s(n, "Sts/Cd") or _s(n, "Sts")).upper() for n in entries],
                "archive_ids": [_s(n, "AcctSvcrRef") or None for n in entries],
                "balances": [
                    ((_s(b, "Tp/CdOrPrtry/Cd") or _s(b, "Tp/CdOrPrtry/Prtry")).upper(), _signed(b))
                    for b in _x(st, "Bal")
                ],
                "iban": "".join(_s(st, "Acct/Id/IBAN").split()) or None,
                "references": len(st.xpath(".//*[local-name()='CdtrRefInf']/*[local-name()='Ref']")),
            }
        )
    return result


# -- every public sample ---------------------------------------------------


def test_sample_selection_is_complete():
    # the sample folders really hold camt files of all three kinds and versions
    kinds = {CAMT_NS.match(_root_namespace(p)).group(1) for p in CAMT_FILES}
    assert kinds == {"camt.052", "camt.053", "camt.054"}
    assert len(CAMT_FILES) >= 45
    assert [p.name for p in OTHER_FILES] == ["pain002-sepa-dd-unpaid.xml"]


@pytest.mark.parametrize("path", CAMT_FILES, ids=_ids(CAMT_FILES))
def test_every_sample_matches_independent_xpath(path):
    expected = _expected(path)
    document = camt.parse(path.read_bytes(), file_name=path.name)
    kind = CAMT_NS.match(_root_namespace(path)).group(1)
    assert document.kind == kind
    assert document.file_name == path.name
    assert len(document.statements) == len(expected)
    for statement, want in zip(document.statements, expected):
        assert statement.kind == kind
        assert statement.statement_id == (want["id"] or None)
        assert statement.account_iban == want["iban"]
        assert len(statement.entries) == want["entries"]
        assert sum((e.amount for e in statement.entries), Decimal(0)) == want["sum"]
        assert sum(len(e.details) for e in statement.entries) == want["details"]
        assert [e.status for e in statement.entries] == want["statuses"]
        assert [e.archive_id for e in statement.entries] == want["archive_ids"]
        assert [(b.code, b.amount) for b in statement.balances] == want["balances"]
        refs = sum(len(d.creditor_references) for e in statement.entries for d in e.details)
        assert refs == want["references"]
        for entry in statement.entries:
            assert isinstance(entry.amount, Decimal)
            assert entry.booking_date is None or isinstance(entry.booking_date, date)


@pytest.mark.parametrize("path", CAMT_FILES, ids=_ids(CAMT_FILES))
def test_every_sample_streams_the_same_entries(path):
    data = path.read_bytes()
    document = camt.parse(data, file_name=path.name)
    streamed = list(camt.iter_entries(data, file_name=path.name))
    assert [entry for _header, entry in streamed if entry is not None] == document.entries
    # every statement is seen, those without entries once with None
    assert len({id(header) for header, _entry in streamed}) == len(document.statements)
    for header, _entry in streamed:
        assert header.entries == []
        assert header.account == next(s.account for s in document.statements if s.statement_id == header.statement_id)


def test_known_broken_sample_fails_clearly():
    path = SAMPLES / "genkgo_camt" / "camt053.v2.wrong.xml"
    with pytest.raises(MalformedDocument) as info:
        camt.parse(path.read_bytes(), file_name=path.name)
    assert isinstance(info.value, LinkFormatError)
    assert info.value.file_name == path.name
    assert "Stmt" in str(info.value)


@pytest.mark.parametrize("path", OTHER_FILES, ids=_ids(OTHER_FILES))
def test_non_camt_files_in_sample_folders_are_refused(path):
    with pytest.raises(UnrecognisedDocument) as info:
        camt.parse(path.read_bytes(), file_name=path.name)
    assert "pain.002" in str(info.value)


# -- Finnish samples, checked by hand --------------------------------------


def _load(folder, name):
    path = SAMPLES / folder / name
    return camt.parse(path.read_bytes(), file_name=name)


def test_finnish_camt053_by_hand():
    doc = _load("finnish_camt", "corporatejs_camt053_1.xml")
    assert doc.message_id == "TI0107.122005810"
    assert doc.created == datetime(2014, 1, 3, 22, 1, tzinfo=timezone(timedelta(hours=2)))
    (st,) = doc.statements
    assert st.account_iban == "FI1557169020004185"
    assert st.currency == "EUR"
    assert st.legal_sequence == "003"
    assert st.servicer_bic == "OKOYFIHH"
    assert st.servicer_name == "TURUN SEUDUN OSUUSPANKKI"
    assert (st.from_date, st.to_date) == (date(2014, 1, 3), date(2014, 1, 3))
    assert st.opening_balance.amount == Decimal("1001159.23")
    assert st.opening_balance.date == date(2014, 1, 2)
    assert st.closing_balance.amount == Decimal("1000000.00")
    clav = st.balance("CLAV")
    assert clav.amount == Decimal("2000000.00")
    assert clav.credit_line == Decimal("1000000.00") and clav.credit_line_included is True
    assert (st.credit_count, st.credit_sum, st.debit_count, st.debit_sum) == (1, Decimal("1159.23"), 0, Decimal("0.00"))
    first, second = st.entries
    assert first.amount == Decimal("1159.23")
    assert first.archive_id == "140103578800012359"
    assert first.proprietary_code == "710TILISIIRTO" and first.proprietary_issuer == "FFFS"
    assert first.fi_code == "710"
    assert (first.domain_code, first.family_code, first.subfamily_code) == ("PMNT", "RCDT", "DMCT")
    (detail,) = first.details
    assert detail.creditor_reference == "803628206247"  # 00000000803628206247 compacted
    assert detail.creditor_reference_kind == "fi"
    assert detail.remittance_info == "Message on statement"
    assert detail.creditor_name == "John Doe" and detail.creditor_bic == "NDEAFIHH"
    # money in: the counterparty is the debtor, whom this sample does not name
    assert detail.counterparty_name is None
    assert detail.payment_date == date(2014, 1, 3)
    assert second.amount == Decimal("250.00")
    assert second.booking_date == date(2021, 9, 15)
    assert second.details[0].counterparty_name == "DON DEBITOR"
    assert second.details[0].remittance_info == "Unstructured message"


def test_finnish_camt054_by_hand():
    doc = _load("finnish_camt", "corporatejs_camt054_1.xml")
    (st,) = doc.statements
    assert st.account_iban == "FI9881234511224450"
    assert st.owner_name == "Oy Yritys Ab"
    assert st.account_name == "Maksuliiketili"
    assert st.servicer_bic == "DABAFIHH"
    assert st.net_amount == Decimal("193.00") and st.entry_count == 2
    lump, debit = st.entries
    assert lump.proprietary_code == "705 VIITESIIRROT" and lump.fi_code == "705"
    assert lump.batch_count == 2 == len(lump.details)
    assert sum(d.amount for d in lump.details) == lump.amount == Decimal("183.00")
    assert [d.archive_id for d in lump.details] == ["1109168E0049198529", "1109168E0049198530"]
    assert [(d.creditor_reference, d.creditor_reference_kind) for d in lump.details] == [
        ("123", None),
        ("RF74100978", "rf"),
    ]
    assert debit.details[0].creditor_reference == "6450830029863"
    assert debit.details[0].creditor_reference_kind == "fi"


def test_finnish_camt052_by_hand():
    doc = _load("finnish_camt", "corporatejs_camt052_1.xml")
    (st,) = doc.statements
    assert st.kind == "camt.052"
    assert st.account_iban == "FI4819503000000010"
    assert [(b.code, b.amount) for b in st.balances] == [("ITBD", Decimal("12345.6")), ("ITAV", Decimal("2234.56"))]
    assert [e.amount for e in st.entries] == [Decimal("72.0"), Decimal("-76.14"), Decimal("-1206.29")]
    assert [e.fi_code for e in st.entries] == ["705", "704", "770"]
    foreign = st.entries[2].details[0]
    assert foreign.amount == Decimal("-1206.29") and foreign.currency == "EUR"
    assert (foreign.instructed_amount, foreign.instructed_currency) == (Decimal("1720.66"), "NOK")
    assert st.entries[0].details[0].creditor_reference == "66666666"
    assert st.entries[1].details[0].creditor_name == "MALLILAN ISÄNNÖINTI"


def test_exchange_and_charges_of_the_samples():
    """Read by hand from the files: the Finnish NOK payment converted at
    0.76 (its counter value, EUR to EUR, is no exchange), PostFinance's
    4.40 CHF charge on an entry and its detail, a USD payment of the
    camt.052.001.04 sample with its 0.31 CHF charge."""
    foreign = _load("finnish_camt", "corporatejs_camt052_1.xml").statements[0].entries[2].details[0]
    assert (foreign.exchange.rate, foreign.exchange.source, foreign.exchange.target, foreign.exchange.unit) == (
        Decimal("0.7600000"),
        "NOK",
        "EUR",
        "EUR",
    )
    assert str(foreign.exchange) == "0.7600000 (NOK → EUR, unit EUR)"
    assert foreign.charges == {}
    postfinance = _load(
        "moov_postfinance", "200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml"
    )
    first, second = postfinance.statements[0].entries
    assert first.charges == {} and all(d.charges == {} for d in first.details)
    assert second.charges == {"CHF": Decimal("4.40")}
    assert second.details[0].charges == {"CHF": Decimal("4.40")}, "the total, not total plus record"
    usd = _load("genkgo_camt", "camt052.v4.xml").statements[0].entries[0].details[0]
    assert (usd.instructed_amount, usd.instructed_currency) == (Decimal("4.1"), "USD")
    assert (usd.exchange.rate, usd.exchange.source, usd.exchange.target) == (Decimal("0.9253030601"), "USD", "CHF")
    assert usd.charges == {"CHF": Decimal("0.31")}


def test_charges_of_version_2_and_records():
    head = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr>'
        "<MsgId>C</MsgId><CreDtTm>2024-03-04T10:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id>"
        "<CreDtTm>2024-03-04T10:00:00</CreDtTm><Acct><Id><IBAN>FI4819503000000010</IBAN></Id>"
        "<Ccy>EUR</Ccy></Acct>"
    )
    entry = (
        '<Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2024-03-04</Dt></BookgDt>{charges}</Ntry>"
    )
    tail = "</Stmt></BkToCstmrStmt></Document>"
    repeated = entry.format(charges='<Chrgs><Amt Ccy="EUR">1.50</Amt></Chrgs><Chrgs><Amt>0.25</Amt></Chrgs>')
    records = entry.format(
        charges='<Chrgs><Rcrd><Amt Ccy="EUR">2.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></Rcrd>'
        '<Rcrd><Amt Ccy="EUR">0.50</Amt><CdtDbtInd>CRDT</CdtDbtInd></Rcrd>'
        '<Rcrd><Amt Ccy="USD">1</Amt></Rcrd></Chrgs>'
    )
    broken = entry.format(charges='<Chrgs><Amt Ccy="EUR">1,50</Amt></Chrgs>')
    doc = camt.parse((head + repeated + records + tail).encode(), file_name="charges.xml")
    assert [e.charges for e in doc.statements[0].entries] == [
        {"EUR": Decimal("1.75")},
        {"EUR": Decimal("1.50"), "USD": Decimal("1")},
    ]
    with pytest.raises(RecordError) as err:
        camt.parse((head + broken + tail).encode(), file_name="charges.xml")
    assert "Ntry[1]/Chrgs[1]/Amt" in str(err.value) and "charges.xml" in str(err.value)


def test_versions_and_quirks_of_other_samples():
    v1 = _load("genkgo_camt", "camt052.v1.xml")
    assert v1.version == "camt.052.001.01"
    (entry,) = v1.entries
    assert v1.statements[0].account_other == "CH2801234000123456789"  # PrtryAcct
    assert (entry.batch_count, entry.batch_message_id, entry.batch_payment_info_id) == (
        20,
        "FINP-0055",
        "FINP-0055-001",
    )
    assert entry.booking_timestamp == datetime(2007, 10, 18, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    v8 = _load("genkgo_camt", "camt052.v8.xml")
    assert v8.entries[0].status == "BOOK"  # <Sts><Cd>BOOK</Cd></Sts>
    decimals = _load("genkgo_camt", "camt053.v2.five.decimals.xml")
    # the file's amounts carry three decimals: kept exactly, 18.150 + 8.850 = 27.050
    opening, closing = decimals.statements[0].balances
    assert (str(opening.amount), str(decimals.entries[0].amount), str(closing.amount)) == ("18.150", "8.850", "27.050")
    only_dttm = _load("genkgo_camt", "camt53.only-Dt-with-DtTm.xml")
    (bal,) = only_dttm.statements[0].balances
    assert bal.date == date(2025, 7, 23) and bal.timestamp == datetime(2025, 7, 23)
    assert only_dttm.statements[0].currency == "RON"  # no Acct/Ccy: the balance's currency
    multi = _load("genkgo_camt", "camt053.v2.multi.statement.xml")
    assert len(multi.statements) == 2
    returns = _load("oca_account_payment", "camt054-sepa-dd-unpaid.xml")
    reasons = {d.return_reason for d in returns.entries[0].details}
    assert reasons and None not in reasons


# -- hand-written camt.053.001.08: several statements and accounts ---------


def test_v08_several_statements_and_accounts():
    doc = camt.parse((DATA / "camt053_v08_multi.xml").read_bytes(), "multi.xml")
    assert doc.version == "camt.053.001.08"
    assert doc.message_id == "HLTEST-053-08-0001"
    assert [s.account_iban for s in doc.statements] == [
        "FI4819503000000010",
        "FI1557169020004185",
        "FI4819503000000010",
    ]
    a1, b1, a2 = doc.statements
    # balances: opening + entries = closing, as designed in the file
    assert (a1.opening_balance.amount, a1.closing_balance.amount) == (Decimal("1000.00"), Decimal("1224.56"))
    assert [e.amount for e in a1.entries] == [Decimal("500.00"), Decimal("-265.44"), Decimal("-10.00")]
    assert (b1.opening_balance.amount, b1.closing_balance.amount) == (Decimal("-50.00"), Decimal("30.00"))
    assert (a2.opening_balance.amount, a2.closing_balance.amount) == (Decimal("1224.56"), Decimal("1249.12"))
    for st in doc.statements:
        assert st.opening_balance.amount + sum(e.amount for e in st.entries) == st.closing_balance.amount
    assert a1.owner_name == "Pörssi Äijälä Oy" and b1.owner_name == "Åke Ström"
    assert (a1.electronic_sequence, a1.legal_sequence) == ("61", "43")
    assert a1.from_timestamp == datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=2)))
    assert (a1.entry_count, a1.net_amount, a1.debit_count, a1.debit_sum) == (3, Decimal("224.56"), 2, Decimal("275.44"))
    assert a1.additional_info == "Statement A/1" and b1.additional_info == "Statement B/1"
    assert a1.balance("CLAV").credit_line == Decimal("1000.00")

    lump, payment, reversal = a1.entries
    assert lump.batch_count == 2 and lump.batch_message_id == "BATCH-0301-A"
    assert [d.amount for d in lump.details] == [Decimal("300.00"), Decimal("200.00")]  # two NtryDtls
    first, second = lump.details
    assert first.counterparty_name == "Matti Meikäläinen"  # Dbtr/Pty/Nm
    assert first.counterparty_iban == "FI2112345600000785"  # spaces removed
    assert first.end_to_end_id is None  # NOTPROVIDED
    assert (first.creditor_reference, first.creditor_reference_kind) == ("12328", "fi")
    assert first.payment_date == date(2024, 2, 29)
    assert (second.creditor_reference, second.creditor_reference_kind) == ("RF5212328", "rf")
    assert second.ultimate_debtor == "Öberg Holding Ab"

    assert payment.status == "BOOK"  # " BOOK " in Sts/Cd
    assert payment.booking_date == date(2024, 3, 1)
    assert payment.booking_timestamp.hour == 10
    (out,) = payment.details
    assert out.counterparty_name == "Sähkö Oy" and out.debtor_name == "Pörssi Äijälä Oy"
    assert out.counterparty_bic == "DABAFIHH"  # padded BICFI
    assert out.remittance_info == "Lasku 9001 sähkö helmikuu"
    assert (out.end_to_end_id, out.instruction_id) == ("INV-9001", "PAY-2024-0042")
    assert payment.additional_info == "TILISIIRTO"
    assert reversal.reversal is True and reversal.amount == Decimal("-10.00")
    assert reversal.details == []

    (rent,) = b1.entries
    assert rent.entry_reference is None and rent.archive_id is None
    (detail,) = rent.details
    assert detail.amount == Decimal("80.00")  # no TxDtls amount: the entry's, as the only detail
    assert detail.counterparty_account == "12345600000785" and detail.counterparty_iban is None
    (returned,) = a2.entries[0].details
    assert (returned.return_reason, returned.return_info) == ("AC04", "Account closed")


def test_lump_sum_statement_and_its_notification_share_the_key():
    statement = camt.parse((DATA / "camt053_lumpsum.xml").read_bytes(), "lump053.xml")
    notification = camt.parse((DATA / "camt054_lumpsum.xml").read_bytes(), "lump054.xml")
    (booked,) = statement.entries
    (itemised,) = notification.entries
    assert booked.details == [] and booked.batch_count == 3
    assert booked.archive_id == itemised.archive_id == "240305LUMP00042"
    account = statement.statements[0].account
    assert account == notification.statements[0].account == "FI9881234511224450"
    assert booked.import_key(account) == itemised.import_key(account)
    assert booked.import_key(account) != booked.import_key("FI4819503000000010")
    assert len(itemised.details) == itemised.batch_count == 3
    assert sum(d.amount for d in itemised.details) == booked.amount == Decimal("352.80")
    assert [(d.creditor_reference, d.creditor_reference_kind) for d in itemised.details] == [
        ("10003", "fi"),
        ("RF8243216", "rf"),
        ("20230012", "fi"),
    ]
    keys = {d.import_key(account, itemised) for d in itemised.details}
    assert len(keys) == 3


def test_import_key_without_archive_id_is_stable_and_discriminating():
    doc = camt.parse((DATA / "camt053_v08_multi.xml").read_bytes())
    again = camt.parse((DATA / "camt053_v08_multi.xml").read_bytes())
    rent = doc.statements[1].entries[0]
    assert rent.archive_id is None
    key = rent.import_key("FI1557169020004185")
    assert key == again.statements[1].entries[0].import_key("FI1557169020004185")
    assert key.startswith("h:")
    assert key != rent.import_key("FI1557169020004185", occurrence=1)
    rent.amount = Decimal("80.01")
    assert key != rent.import_key("FI1557169020004185")


def test_unquoted_xml_declaration_is_repaired():
    doc = camt.parse((DATA / "camt054_unquoted_declaration.xml").read_bytes(), "unquoted.xml")
    (entry,) = doc.entries
    assert entry.amount == Decimal("12.34")
    assert doc.statements[0].account_other == "12345600000785"
    assert doc.statements[0].currency is None and entry.currency == "EUR"


# -- errors name file, element path and line ------------------------------


def _line_of(text, needle, after=None):
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def test_invalid_amount_file():
    path = DATA / "camt053_invalid_amount.xml"
    with pytest.raises(RecordError) as info:
        camt.parse(path.read_bytes(), file_name=path.name)
    err = info.value
    assert err.file_name == path.name
    assert err.element == "Stmt[1]/Ntry[1]/Amt"
    assert err.line == _line_of(path.read_text(), "352,80")
    assert "352,80" in str(err)


def test_invalid_date_file():
    path = DATA / "camt053_invalid_date.xml"
    with pytest.raises(RecordError) as info:
        camt.parse(path.read_bytes(), file_name=path.name)
    assert info.value.element == "Stmt[1]/Ntry[1]/BookgDt/Dt"
    assert info.value.line == _line_of(path.read_text(), "2024-02-30")


MULTI = (DATA / "camt053_v08_multi.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "old, new, element, message, needle, after",
    [
        (
            '<Amt Ccy="EUR">24.56</Amt>',
            '<Amt Ccy="EUR">24.5x6</Amt>',
            "Stmt[3]/Ntry[1]/Amt",
            "not a number",
            "24.5x6",
            None,
        ),
        (
            '<Amt Ccy="EUR">24.56</Amt>',
            '<Amt Ccy="EUR">-24.56</Amt>',
            "Stmt[3]/Ntry[1]/Amt",
            "not a number",
            "-24.56",
            None,
        ),
        # a missing element is reported on the line of its parent
        (
            '<Amt Ccy="EUR">80.00</Amt>',
            "",
            "Stmt[2]/Ntry[1]/Amt",
            "entry without amount",
            "<Ntry>",
            "HLTEST-STMT-B-0301",
        ),
        (
            "<Dt>2024-03-04</Dt>\n        </BookgDt>",
            "<Dt>2024-3-4</Dt>\n        </BookgDt>",
            "Stmt[3]/Ntry[1]/BookgDt/Dt",
            "invalid date",
            "2024-3-4",
            None,
        ),
        (
            "<DtTm>2024-03-01T10:15:00+02:00</DtTm>",
            "<DtTm>2024-03-01T25:15:00+02:00</DtTm>",
            "Stmt[1]/Ntry[2]/BookgDt/DtTm",
            "invalid date and time",
            "T25:15",
            None,
        ),
        (
            "<CdtDbtInd>DBIT</CdtDbtInd>\n        <RvslInd>",
            "<CdtDbtInd>DEBIT</CdtDbtInd>\n        <RvslInd>",
            "Stmt[1]/Ntry[3]/CdtDbtInd",
            "neither CRDT nor DBIT",
            "DEBIT",
            None,
        ),
        (
            '<Amt Ccy="EUR">200.00</Amt>',
            '<Amt Ccy="EUR">2OO.00</Amt>',
            "Stmt[1]/Ntry[1]/NtryDtls[2]/TxDtls[1]/Amt",
            "not a number",
            "2OO.00",
            None,
        ),
        (
            '<Amt Ccy="EUR">50.00</Amt>',
            '<Amt Ccy="EUR">fifty</Amt>',
            "Stmt[2]/Bal[1]/Amt",
            "not a number",
            "fifty",
            None,
        ),
        (
            "<NbOfTxs>2</NbOfTxs>",
            "<NbOfTxs>two</NbOfTxs>",
            "Stmt[1]/Ntry[1]/NtryDtls[1]/Btch/NbOfTxs",
            "whole number",
            ">two<",
            None,
        ),
        ("<Cd>BOOK</Cd>", "<Cd> </Cd>", "Stmt[1]/Ntry[1]/Sts", "without status", "<Sts>", None),
    ],
)
def test_record_errors_name_path_and_line(old, new, element, message, needle, after):
    assert old in MULTI
    text = MULTI.replace(old, new, 1)
    with pytest.raises(RecordError) as info:
        camt.parse(text.encode("utf-8"), file_name="broken.xml")
    err = info.value
    assert err.element == element
    assert err.file_name == "broken.xml"
    assert message in err.message
    expected_line = _line_of(text, needle, after)
    assert err.line == expected_line
    assert f"line {expected_line}" in str(err) and element in str(err)


def test_streaming_yields_entries_before_a_later_error():
    text = MULTI.replace('<Amt Ccy="EUR">24.56</Amt>', '<Amt Ccy="EUR">x</Amt>', 1)
    seen = []
    with pytest.raises(RecordError):
        for _header, entry in camt.iter_entries(text.encode("utf-8")):
            seen.append(entry)
    assert len(seen) == 4  # three of account A, one of account B


def test_unrecognised_and_unsafe_documents():
    pain = (SHARED_DATA / "bank" / "samples" / "pain001" / "corporatejs_pain001_1.xml").read_bytes()
    with pytest.raises(UnrecognisedDocument):
        camt.parse(pain, "pain.xml")
    wrong_message = MULTI.replace("BkToCstmrStmt", "BkToCstmrAcctRpt")
    with pytest.raises(UnrecognisedDocument) as info:
        camt.parse(wrong_message.encode("utf-8"), "wrong.xml")
    assert info.value.element == "BkToCstmrAcctRpt"
    with pytest.raises(UnrecognisedDocument):
        camt.parse(b"T00322100...", "tito.txt")
    with pytest.raises(EmptyDocument):
        camt.parse(b"  \n", "empty.xml")
    dtd = MULTI.replace("<Document", '<!DOCTYPE Document [<!ENTITY x "y">]>\n<Document', 1)
    with pytest.raises(UnsafeDocument):
        camt.parse(dtd.encode("utf-8"), "dtd.xml")
    truncated = MULTI[: MULTI.index("<AddtlStmtInf>Statement A/1")]
    with pytest.raises(MalformedDocument) as info:
        camt.parse(truncated.encode("utf-8"), "truncated.xml")
    assert info.value.line is not None


def test_later_version_with_same_structure_is_read():
    text = MULTI.replace("camt.053.001.08", "camt.053.001.13")
    doc = camt.parse(text.encode("utf-8"))
    assert doc.version == "camt.053.001.13"
    assert len(doc.entries) == 5


def _rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_generated_statement_streams_in_flat_memory(tmp_path):
    """8000 entries (about 9 MB of XML): the resident memory of the process
    must not grow while entries stream (without dropping each Ntry, lxml's
    tree alone grows by tens of MB here)."""
    info = generate_camt053(tmp_path / "big.xml", 8000)
    data = info["path"].read_bytes()
    gc.collect()
    rss = {}
    count = details = 0
    total = Decimal(0)
    for _header, entry in camt.iter_entries(data):
        if not count:
            rss["first"] = _rss_mb()
        count += 1
        total += entry.amount
        details += len(entry.details)
    rss["end"] = _rss_mb()
    assert count == 8000 and details == info["details"]
    assert total == info["credit_sum"] - info["debit_sum"]
    assert rss["end"] - rss["first"] < 6, rss
    doc = camt.parse(data)
    st = doc.statements[0]
    assert st.closing_balance.amount == info["closing_balance"]
    assert st.opening_balance.amount + sum(e.amount for e in st.entries) == st.closing_balance.amount
    assert (st.credit_sum, st.debit_sum) == (info["credit_sum"], info["debit_sum"])


def test_party_business_ids_are_read_from_org_id():
    path = SHARED_DATA / "bank" / "samples" / "genkgo_camt" / "camt053.v2.with-party-ids.xml"
    data = path.read_bytes()
    # independent reading: every Cdtr/Dbtr OrgId/Othr/Id in the file
    root = etree.fromstring(data)
    expected = {el.text for el in root.iterfind(".//{*}RltdPties/{*}Cdtr/{*}Id/{*}OrgId/{*}Othr/{*}Id")}
    assert expected
    details = [d for e in camt.parse(data, path.name).entries for d in e.details]
    assert {d.extra.get("creditor_id") for d in details if d.extra.get("creditor_id")} == expected
    for detail in details:
        if detail.amount is not None and detail.amount < 0 and detail.extra.get("creditor_id"):
            assert detail.extra["counterparty_id"] == detail.extra["creditor_id"]


def test_streaming_keeps_statements_without_entries():
    path = SHARED_DATA / "bank" / "samples" / "oca_bank_statement_import" / "test-camt053-no-ntry.xml"
    data = path.read_bytes()
    root = etree.fromstring(data)
    assert not root.findall(".//{*}Ntry")
    pairs = list(camt.iter_entries(data, path.name))
    assert [entry for _st, entry in pairs] == [None] * len(root.findall(".//{*}Stmt"))
    header = pairs[0][0]
    assert header.closing_balance is not None
    assert header.closing_balance.amount == camt.parse(data).statements[0].closing_balance.amount
