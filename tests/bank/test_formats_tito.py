"""TITO parser: the public sample, hand-written files in SFS 4017 and
Latin-1, record layouts without line breaks or with trimmed blanks, errors.

Expected values were read from the files by hand (positions of the TITO
record descriptions) or are computed here by slicing the raw lines.
"""

import copy
from datetime import date, datetime
from decimal import Decimal

import pytest

from odoo.addons.heeros_link_bank.formats import charset, tito
from odoo.addons.heeros_link_base.formats.errors import EmptyDocument, RecordError
from tests.common import SHARED_DATA, TEST_DATA

SAMPLE = SHARED_DATA / "bank" / "samples" / "finnish_legacy" / "corporatejs_tito_1.txt"
SFS = TEST_DATA / "bank" / "tito_sfs4017.txt"
LATIN1 = TEST_DATA / "bank" / "tito_latin1.txt"


def _raw_t10_amounts(path):
    """Sign + 18 digits in cents at positions 88-106 of every T10 line."""
    amounts = []
    for line in path.read_bytes().decode("latin-1").splitlines():
        if line.startswith("T10"):
            cents = Decimal(line[88:106]) / 100
            amounts.append(-cents if line[87] == "-" else cents)
    return amounts


def _without_lines(statements):
    """The statements without their source line numbers."""
    result = copy.deepcopy(statements)
    for st in result:
        st.extra.pop("line", None)
        for entry in st.entries:
            entry.line = None
    return result


# -- public sample ---------------------------------------------------------


def test_public_sample_by_hand():
    doc = tito.parse(SAMPLE.read_bytes(), file_name=SAMPLE.name)
    assert doc.kind == "tito" and doc.file_name == SAMPLE.name
    assert doc.extra["charset"] == "sfs4017"
    assert len(doc.statements) == 2  # the sample repeats the same statement
    first, second = doc.statements
    assert _without_lines([first]) == _without_lines([second])
    assert (first.extra["line"], second.extra["line"]) == (1, 13)
    st = first
    assert st.account_iban == "FI4819503000000010"
    assert st.account_other == "19503000000010"
    assert st.servicer_bic == "NDEAFIHH"
    assert st.statement_id == "044"
    assert (st.from_date, st.to_date) == (date(2006, 3, 6), date(2006, 3, 6))
    assert st.created == datetime(2006, 3, 6, 23, 59)
    assert st.currency == "EUR"
    assert st.account_name == "Shekkitili"
    assert st.owner_name == "POHJANLINNAN RAUTATALO"
    assert st.extra["customer_id"] == "44444444"
    assert st.opening_balance.amount == Decimal("4409.27")
    assert st.opening_balance.date == date(2006, 3, 3)
    assert st.closing_balance.amount == Decimal("17050.24")
    assert st.closing_balance.date == date(2006, 3, 6)
    assert (st.credit_count, st.credit_sum, st.debit_count, st.debit_sum) == (
        11,
        Decimal("42371.30"),
        10,
        Decimal("29730.33"),
    )
    assert [c["period"] for c in st.extra["cumulative"]] == ["1", "1", "3", "4"]

    assert [e.amount for e in st.entries] == _raw_t10_amounts(SAMPLE)[:2]
    paid, fee = st.entries
    assert paid.amount == Decimal("15503.00")
    assert paid.archive_id == "0303A2584SM0700249"
    assert paid.proprietary_code == "710" and paid.fi_code == "710"
    assert paid.additional_info == "Maksumääräys"  # SFS 4017 'Maksum{{r{ys'
    assert (paid.booking_date, paid.value_date) == (date(2006, 3, 6), date(2006, 3, 6))
    (detail,) = paid.details
    assert detail.counterparty_name == "JOKOHAMA LTD"
    assert detail.remittance_info.startswith("2584SMM0829720 MAKSAJAN ILMOITTAMA SAAJAN NIMI:")
    assert detail.additional_info.startswith("LÄHETTÄJÄN OSOITE: JOKOHAMA LTD")
    assert (detail.instructed_amount, detail.instructed_currency) == (Decimal("13029.92"), "EUR")
    assert fee.amount == Decimal("-100.00")
    assert fee.value_date is None  # 000000
    assert fee.entry_reference == "000017"
    (detail,) = fee.details
    assert detail.counterparty_name == "MERISINI OYJ"
    assert detail.counterparty_account == "29501800069357"
    assert detail.creditor_name == "MERISINI OYJ" and detail.debtor_name is None
    assert detail.creditor_reference == "13" and detail.creditor_reference_kind is None
    assert detail.extra["principal_info"] == "123456 7890"


# -- hand-written files ----------------------------------------------------


def test_sfs4017_and_latin1_give_the_same_statements():
    sfs = tito.parse(SFS.read_bytes(), file_name="x")
    latin = tito.parse(LATIN1.read_bytes(), file_name="x")
    assert sfs.extra.pop("charset") == "sfs4017"
    assert latin.extra.pop("charset") == "latin-1"
    assert sfs == latin
    assert b"\xd6" in LATIN1.read_bytes() and max(SFS.read_bytes()) < 0x80


def test_hand_written_statement():
    doc = tito.parse(LATIN1.read_bytes(), file_name=LATIN1.name)
    a, b = doc.statements
    assert a.owner_name == "PÖRSSI ÄIJÄLÄ OY" and a.account_name == "Käyttötili"
    assert a.account_iban == "FI4819503000000010" and a.statement_id == "045"
    assert a.servicer_name == "Nordea Bank Abp"
    opening = a.opening_balance
    assert (opening.amount, opening.date, opening.credit_line) == (
        Decimal("1000.00"),
        date(2024, 3, 1),
        Decimal("500.00"),
    )
    assert [(x.code, x.amount) for x in a.balances] == [
        ("OPBD", Decimal("1000.00")),
        ("CLBD", Decimal("1077.36")),
        ("CLAV", Decimal("1577.36")),
    ]
    booked = [e for e in a.entries if e.status == "BOOK"]
    assert opening.amount + sum(e.amount for e in booked) == a.closing_balance.amount
    # period 2 (statement period) totals
    assert (a.credit_count, a.credit_sum, a.debit_count, a.debit_sum) == (1, Decimal("352.80"), 2, Decimal("275.44"))
    assert a.additional_info == "Pankin tiedote: palvelukatko 9.3. klo 02-04.\nLisätietoja: 0200 3000"

    lump, transfer, correction, notice = a.entries
    # main-level T10 amounts of the file; itemisations are details
    main_amounts = _raw_t10_amounts(LATIN1)
    assert main_amounts[:1] + main_amounts[4:6] == [lump.amount, transfer.amount, correction.amount]
    assert lump.fi_code == "705" and lump.additional_info == "VIITESIIRROT"
    assert lump.batch_count == 3 == len(lump.details)
    assert sum(d.amount for d in lump.details) == lump.amount == Decimal("352.80")
    assert [(d.creditor_reference, d.creditor_reference_kind) for d in lump.details] == [
        ("10003", "fi"),
        ("RF8243216", "rf"),
        ("20230012", "fi"),
    ]
    assert [d.counterparty_name for d in lump.details] == ["VIRTANEN VILLE", "LINDSTRÖM MÄRTA", "OY ASIAKAS AB"]
    assert [d.archive_id for d in lump.details] == ["240304BBBB000001", "240304BBBB000002", "240304BBBB000003"]
    assert lump.details[0].payment_date == date(2024, 3, 3)

    assert transfer.amount == Decimal("-265.44")
    (detail,) = transfer.details
    assert detail.counterparty_name == "SÄHKÖ OY"
    assert detail.counterparty_account == "81234511224450"
    assert detail.counterparty_iban == "FI9881234511224450"
    assert detail.counterparty_bic == "DABAFIHH"
    assert detail.end_to_end_id == "INV-9001"
    assert detail.remittance_info == "Lasku 9001 sähkö helmikuu"

    assert correction.reversal is True and correction.amount == Decimal("-10.00")
    assert correction.value_date is None
    assert correction.details[0].counterparty_name == "ÅKERBLOM ÅSA"
    assert notice.status == "INFO" and notice.extra["notification"] is True
    assert notice.details[0].counterparty_name == "ÖSTERGÅRD ÖRJAN"

    assert b.account_iban == "FI1557169020004185" and b.owner_name == "ÅKE STRÖM"
    assert b.opening_balance.amount == Decimal("-50.00")
    assert b.opening_balance.credit_line is None
    assert b.credit_count is None  # no T50 in this statement
    (rent,) = b.entries
    assert rent.details[0].counterparty_name == "KÄRKKÄINEN KALLE"
    assert rent.details[0].counterparty_iban == "FI2112345600000785"
    assert rent.details[0].remittance_info == "Vuokra maaliskuu"
    assert b.opening_balance.amount + rent.amount == b.closing_balance.amount


def test_records_without_line_breaks_or_with_trimmed_blanks():
    data = LATIN1.read_bytes()
    reference = tito.parse(data).statements
    joined = data.replace(b"\r\n", b"")
    assert _without_lines(tito.parse(joined).statements) == _without_lines(reference)
    trimmed = b"\n".join(line.rstrip() for line in data.splitlines())
    assert tito.parse(trimmed).statements == reference


def test_explicit_charset_overrides_detection():
    doc = tito.parse(SFS.read_bytes(), charset="latin-1")
    assert doc.statements[0].owner_name == "P\\RSSI [IJ[L[ OY"
    assert doc.extra["charset"] == "latin-1"
    utf8 = LATIN1.read_bytes().decode("latin-1").encode("utf-8")
    assert tito.parse(utf8).statements[0].owner_name == "PÖRSSI ÄIJÄLÄ OY"


def test_import_keys():
    doc = tito.parse(LATIN1.read_bytes())
    a = doc.statements[0]
    keys = [e.import_key(a.account) for e in a.entries]
    assert len(set(keys)) == 4
    assert keys == [e.import_key(a.account) for e in tito.parse(SFS.read_bytes()).statements[0].entries]


# -- errors ----------------------------------------------------------------


def _lines():
    return LATIN1.read_bytes().decode("latin-1").split("\r\n")


def _with_line(number, new):
    lines = _lines()
    lines[number - 1] = new
    return "\r\n".join(lines).encode("latin-1")


def test_bad_amount_names_line_and_field():
    line = _lines()[6]  # line 7: T10 000002, the outgoing transfer
    assert line.startswith("T10188000002")
    broken = line[:88] + "00000000000002654X" + line[106:]
    with pytest.raises(RecordError) as info:
        tito.parse(_with_line(7, broken), file_name="bad.txt")
    err = info.value
    assert (err.file_name, err.line, err.element) == ("bad.txt", 7, "record T10 amount")


def test_invalid_date_names_line_and_field():
    line = _lines()[1]
    broken = line[:30] + "240231" + line[36:]
    with pytest.raises(RecordError) as info:
        tito.parse(_with_line(2, broken), file_name="bad.txt")
    assert (info.value.line, info.value.element) == (2, "record T10 booking date")
    assert "240231" in str(info.value)


@pytest.mark.parametrize(
    "number, new, element",
    [
        (7, None, "record T10 transaction type"),
        (12, "T40050240304*000000000000107736+000000000000157736", "record T40 booked balance"),
        (2, "X10188", "record"),
        (7, "T11", "record"),
    ],
)
def test_other_record_errors(number, new, element):
    if new is None:
        line = _lines()[number - 1]
        new = line[:48] + "7" + line[49:]
    with pytest.raises(RecordError) as info:
        tito.parse(_with_line(number, new), file_name="bad.txt")
    assert (info.value.line, info.value.element) == (number, element)


def test_record_shorter_than_its_layout():
    line = _lines()[6]
    short = "T10060" + line[6:60]  # declares 60 characters: no amount
    with pytest.raises(RecordError) as info:
        tito.parse(_with_line(7, short), file_name="short.txt")
    assert (info.value.line, info.value.element) == (7, "record T10 amount")


def test_record_before_basic_record_and_empty_file():
    lines = _lines()
    with pytest.raises(RecordError) as info:
        tito.parse("\r\n".join(lines[1:]).encode("latin-1"))
    assert info.value.line == 1 and "T00" in str(info.value)
    with pytest.raises(EmptyDocument):
        tito.parse(b"\r\n  \r\n")


def test_charset_rule():
    assert charset.detect(b"T00 plain [ascii]") == "sfs4017"
    assert charset.detect("Pörssi".encode("latin-1")) == "latin-1"
    assert charset.detect("Pörssi".encode()) == "utf-8"
    assert charset.decode(b"P{{r|}[\\]")[0] == "PääröåÄÖÅ"
    assert charset.to_sfs4017("Äijälä Åström") == "[ij{l{ ]str|m"
    with pytest.raises(RecordError):
        charset.decode("Pörssi".encode("latin-1"), "sfs4017")
    assert charset.fi_iban("19503000000010") == "FI4819503000000010"
    assert charset.fi_iban("1950300000001") is None
    assert charset.yymmdd("991231") == date(1999, 12, 31)
    assert charset.yymmdd("000000") is None
