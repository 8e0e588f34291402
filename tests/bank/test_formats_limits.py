"""Bounds every parser keeps (see ``heeros_link_base/formats/limits.py``):
amounts below 10^13, at most 64 attributes per element, at most 256 nested
elements, one message element per camt document; each refused with a
typed error that names the file and the element or line, in time linear in
the input."""

import time
from decimal import Decimal

import pytest

from odoo.addons.heeros_link_bank.formats import camt, charset, ktl, tito
from odoo.addons.heeros_link_base.formats import limits, xmlsafe
from odoo.addons.heeros_link_base.formats.errors import (
    LimitExceeded,
    LinkFormatError,
    MalformedDocument,
    RecordError,
)
from odoo.addons.heeros_link_einvoice.formats import finvoice
from tests.common import SHARED_DATA, TEST_DATA

HUGE = "123456789012345678901234567890"  # the 30-digit amount once posted silently

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-31T10:00:00</CreDtTm></GrpHdr>
<Stmt>
<Id>S1</Id>
<CreDtTm>2026-01-31T10:00:00</CreDtTm>
<Acct><Id><IBAN>FI4819503000000010</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{bal}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-31</Dt></Dt></Bal>
<TxsSummry><TtlNtries><NbOfNtries>{count}</NbOfNtries></TtlNtries>
<TtlCdtNtries><NbOfNtries>1</NbOfNtries><Sum>{sum}</Sum></TtlCdtNtries></TxsSummry>
<Ntry>
<Amt Ccy="EUR">{entry}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>2026-01-31</Dt></ValDt>
<Chrgs><Amt Ccy="EUR">{charge}</Amt></Chrgs>
<NtryDtls>
<Btch><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="EUR">{batch}</TtlAmt></Btch>
<TxDtls><Amt Ccy="EUR">{detail}</Amt>
<AmtDtls><InstdAmt><Amt Ccy="USD">{instructed}</Amt></InstdAmt></AmtDtls></TxDtls>
<TxDtls><Amt Ccy="EUR">50.00</Amt></TxDtls>
</NtryDtls>
</Ntry>
</Stmt>
</BkToCstmrStmt>
</Document>
"""
FIELDS = {
    "bal": "100.00",
    "count": "1",
    "sum": "100.00",
    "entry": "100.00",
    "date": "2026-01-31",
    "charge": "1.50",
    "batch": "100.00",
    "detail": "50.00",
    "instructed": "55.00",
}


def _camt(**values):
    return CAMT.format(**{**FIELDS, **values}).encode()


def _both(data, name):
    """camt.parse and iter_entries, which must agree."""
    with pytest.raises(LinkFormatError) as parsed:
        camt.parse(data, name)
    with pytest.raises(LinkFormatError) as streamed:
        list(camt.iter_entries(data, name))
    assert str(parsed.value) == str(streamed.value)
    return parsed.value


def test_the_template_is_read():
    document = camt.parse(_camt(), "fine.xml")
    entry = document.statements[0].entries[0]
    assert entry.amount == Decimal("100.00") and entry.charges == {"EUR": Decimal("1.50")}
    assert entry.details[0].instructed_amount == Decimal("55.00")


@pytest.mark.parametrize(
    ("field", "element"),
    [
        ("bal", "Stmt[1]/Bal[1]/Amt"),
        ("sum", "Stmt[1]/TxsSummry/TtlCdtNtries/Sum"),
        ("entry", "Stmt[1]/Ntry[1]/Amt"),
        ("charge", "Stmt[1]/Ntry[1]/Chrgs[1]/Amt"),
        ("batch", "Stmt[1]/Ntry[1]/NtryDtls[1]/Btch/TtlAmt"),
        ("detail", "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]/Amt"),
        ("instructed", "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]/AmtDtls/InstdAmt/Amt"),
    ],
)
def test_camt_amount_beyond_the_bound_is_refused_naming_the_element(field, element):
    error = _both(_camt(**{field: HUGE}), "huge.xml")
    assert isinstance(error, RecordError)
    assert error.element == element and error.file_name == "huge.xml" and error.line
    assert "out of range" in str(error) and "10^13" in str(error)


def test_camt_amount_just_below_the_bound_is_read_exactly():
    document = camt.parse(_camt(entry="9999999999999.99"), "edge.xml")
    assert document.statements[0].entries[0].amount == Decimal("9999999999999.99")
    error = _both(_camt(entry="10000000000000.00"), "edge.xml")
    assert error.element == "Stmt[1]/Ntry[1]/Amt"


def test_camt_count_of_thousands_of_digits_is_a_record_error():
    error = _both(_camt(count="9" * 5000), "count.xml")
    assert isinstance(error, RecordError)
    assert error.element == "Stmt[1]/TxsSummry/TtlNtries/NbOfNtries"


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "0000-00-00", "2026-01-31" + "9" * 100])
def test_camt_impossible_date_is_a_record_error(day):
    error = _both(_camt(date=day), "date.xml")
    assert isinstance(error, RecordError) and error.element == "Stmt[1]/Ntry[1]/BookgDt/Dt"


def test_duplicated_message_element_is_refused_naming_it():
    data = _camt()
    start = data.index(b"<BkToCstmrStmt>")
    end = data.index(b"</BkToCstmrStmt>") + len(b"</BkToCstmrStmt>")
    doubled = data[:end] + b"\n" + data[start:end] + data[end:]
    error = _both(doubled, "twice.xml")
    assert isinstance(error, MalformedDocument)
    assert error.element == "Document/BkToCstmrStmt[2]" and error.line == 26


def test_streamed_header_ends_with_what_parse_reads():
    late = _camt().replace(
        b"</Ntry>\n</Stmt>",
        b"</Ntry>\n<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd>"
        b'</CdOrPrtry></Tp><Amt Ccy="EUR">200.00</Amt><CdtDbtInd>CRDT'
        b"</CdtDbtInd><Dt><Dt>2026-01-31</Dt></Dt></Bal>\n</Stmt>",
    )
    whole = camt.parse(late, "late.xml").statements[0]
    pairs = list(camt.iter_entries(late, "late.xml"))
    header = pairs[0][0]
    assert [b.code for b in header.balances] == ["OPBD", "CLBD"] == [b.code for b in whole.balances]
    assert header.closing_balance.amount == whole.closing_balance.amount == Decimal("200.00")


def _many_attributes(data, tag, count):
    at = data.index(tag) + len(tag)
    attributes = b"".join(b' a%d="x"' % i for i in range(count))
    return data[:at] + attributes + data[at:]


@pytest.mark.parametrize("count", [20_000, 100_000])
def test_many_attributes_are_refused_at_once(count):
    data = _many_attributes(_camt(), b"<Document", count)
    start = time.perf_counter()
    error = _both(data, "attributes.xml")
    elapsed = time.perf_counter() - start
    assert isinstance(error, LimitExceeded)
    assert error.element == "Document" and error.line == 2 and "64 attributes" in str(error)
    # the XML parser needed 1.4 s for 20 000 and minutes for 100 000
    assert elapsed < 0.5


def test_attribute_bound_counts_every_attribute_and_namespace_declaration():
    data = _camt().replace(b"<Ntry>", b"<Ntry" + b"".join(b' a%d="x"' % i for i in range(64)) + b">")
    assert camt.parse(data, "sixty-four.xml").statements[0].entries
    error = _both(data.replace(b' a0="x"', b' a0="x" xmlns:p="urn:p"'), "sixty-five.xml")
    assert error.element == "Ntry" and error.line == 13


def test_attribute_values_holding_a_closing_bracket_still_count():
    data = _camt().replace(b"<Stmt>", b"<Stmt" + b"".join(b' a%d=">"' % i for i in range(100)) + b">")
    assert _both(data, "brackets.xml").element == "Stmt"


def test_many_attributes_in_a_finvoice_and_in_detection_are_refused():
    sample = (SHARED_DATA / "einvoice" / "samples" / "gobl-fi-finvoice" / "examples-out" / "invoice.xml").read_bytes()
    data = _many_attributes(sample, b"<InvoiceDetails", 50_000)
    with pytest.raises(LimitExceeded) as error:
        finvoice.parse(data, "attributes.xml")
    assert error.value.element == "InvoiceDetails" and "attributes.xml" in str(error.value)
    with pytest.raises(LimitExceeded):
        xmlsafe.parse(_many_attributes(sample, b"<Finvoice", 50_000), "root.xml")
    sniff = xmlsafe.sniff(_many_attributes(sample, b"<Finvoice", 50_000), "root.xml")
    assert not sniff.root and "more than 64 attributes" in sniff.error


def test_deep_nesting_is_refused_naming_the_element():
    data = _camt().replace(b"<Ntry>", b"<Ntry>" + b"<Deep>" * 300 + b"</Deep>" * 300)
    error = _both(data, "deep.xml")
    assert isinstance(error, LimitExceeded)
    assert error.element == "Deep" and error.line == 13 and f"{limits.MAX_DEPTH} deep" in str(error)


def test_utf16_document_is_read_like_utf8():
    data = _camt()
    wide = data.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert camt.parse(wide, "wide.xml") == camt.parse(data, "wide.xml")
    # the attribute bound sees through the wide encoding
    crowded = _many_attributes(data, b"<Stmt", 100).decode()
    error = _both(crowded.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), "wide.xml")
    assert error.element == "Stmt"


# -- fixed-width formats ------------------------------------------------------


def _tito_with_amount(digits):
    data = (TEST_DATA / "bank" / "tito_latin1.txt").read_bytes()
    lines = data.split(b"\n")
    i = next(i for i, line in enumerate(lines) if line.startswith(b"T10"))
    lines[i] = lines[i][:88] + digits + lines[i][106:]
    return b"\n".join(lines), i + 1


def test_tito_amount_beyond_the_bound_is_refused_naming_line_and_field():
    data, line = _tito_with_amount(b"9" * 18)
    with pytest.raises(RecordError) as error:
        tito.parse(data, "huge.tito")
    assert error.value.line == line and error.value.element == "record T10 amount"
    assert "huge.tito" in str(error.value) and "out of range" in str(error.value)
    data, _line = _tito_with_amount(b"000999999999999999")  # 9 999 999 999 999.99
    amounts = [e.amount for e in tito.parse(data, "edge.tito").statements[0].entries]
    assert Decimal("9999999999999.99") in amounts


def _best_of_two(function, *args):
    times = []
    for _ in range(2):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def test_tito_many_additional_records_take_linear_time():
    lines = (TEST_DATA / "bank" / "tito_latin1.txt").read_bytes().split(b"\n")
    transaction = next(line for line in lines if line.startswith(b"T10"))
    message = b"T11044" + b"00" + b"Viesti " * 5 + b"x"
    notice = b"T70089001" + b"N" * 80

    def tito_with(count):
        return b"\n".join([lines[0], transaction] + [message, notice] * count)

    document = tito.parse(tito_with(3), "three.tito")
    entry = document.statements[0].entries[0]
    assert entry.details[0].remittance_info == " ".join(["Viesti Viesti Viesti Viesti Viesti x"] * 3)
    assert document.statements[0].additional_info == "\n".join(["N" * 80] * 3)
    small = _best_of_two(tito.parse, tito_with(5_000), "small.tito")
    large = _best_of_two(tito.parse, tito_with(20_000), "large.tito")
    # four times the records: about four times the time (sixteen when each
    # record copied the text gathered so far)
    assert large < 9 * small + 0.05


def test_tito_opening_balance_beyond_the_bound_is_refused():
    data = (TEST_DATA / "bank" / "tito_latin1.txt").read_bytes()
    data = data[:72] + b"9" * 18 + data[90:]
    with pytest.raises(RecordError) as error:
        tito.parse(data, "opening.tito")
    assert error.value.line == 1 and error.value.element == "record T00 opening balance"


def test_ktl_fields_stay_within_the_bound_and_the_shared_check_names_the_field():
    # a KTL amount has ten digits in cents, so its largest amount is read exactly
    data = (TEST_DATA / "bank" / "ktl_latin1.txt").read_bytes()
    lines = data.split(b"\n")
    lines[1] = lines[1][:77] + b"9" * 10 + lines[1][87:]
    document = ktl.parse(b"\n".join(lines), "max.ktl", check_totals=False)
    assert document.statements[0].entries[0].amount == Decimal("99999999.99")
    # TITO and KTL read every amount through the same bounded helper
    with pytest.raises(RecordError) as error:
        charset.cents("9" * 16, file_name="x.ktl", line=3, element="record 3 amount")
    assert str(error.value).startswith("x.ktl, line 3, element record 3 amount: amount")
    with pytest.raises(RecordError):
        charset.cents("\u0663" * 4, file_name="x.ktl", line=3, element="record 3 amount")


# -- Finvoice -------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, "1" + "0" * 13 + ",00", "1E+15", "-99999999999999"])
def test_finvoice_amount_beyond_the_bound_is_refused_naming_the_element(value):
    sample = (SHARED_DATA / "einvoice" / "samples" / "gobl-fi-finvoice" / "examples-out" / "invoice.xml").read_bytes()
    data = sample.replace(
        b">1088,36</InvoiceTotalVatIncludedAmount>", f">{value}</InvoiceTotalVatIncludedAmount>".encode()
    )
    assert data != sample
    with pytest.raises(RecordError) as error:
        finvoice.parse(data, "huge-invoice.xml")
    assert error.value.element == "Finvoice/InvoiceDetails/InvoiceTotalVatIncludedAmount"
    assert error.value.line and "huge-invoice.xml" in str(error.value)


def test_leading_blank_lines_and_unquoted_declaration_are_read_without_copying():
    data = b"\r\n  \n" + _camt().replace(
        b'<?xml version="1.0" encoding="UTF-8"?>', b"<?xml version=1.0 encoding=UTF-8?>"
    )
    assert camt.parse(data, "quirks.xml") == camt.parse(_camt(), "quirks.xml")
    assert xmlsafe.prepare(data).startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document')
