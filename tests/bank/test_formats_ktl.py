"""KTL parser: the public sample (whose trailer does not match its records),
hand-written files in SFS 4017 and Latin-1, trailer checks, errors.

Expected counts and sums are computed here by slicing the raw 90-character
records (amount in cents at positions 78-87) or were read by hand.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from stdnum import iban as stdnum_iban

from odoo.addons.heeros_link_bank.formats import ktl
from odoo.addons.heeros_link_base.formats.errors import EmptyDocument, RecordError
from tests.common import SHARED_DATA, TEST_DATA

SAMPLE = SHARED_DATA / "bank" / "samples" / "finnish_legacy" / "corporatejs_ktl_1.txt"
SFS = TEST_DATA / "bank" / "ktl_sfs4017.txt"
LATIN1 = TEST_DATA / "bank" / "ktl_latin1.txt"
WRONG = TEST_DATA / "bank" / "ktl_wrong_trailer.txt"


def _records(path):
    return [line for line in path.read_bytes().decode("latin-1").splitlines() if line.strip()]


def _cents(record):
    return Decimal(record[77:87]) / 100


# -- public sample ---------------------------------------------------------


def test_public_sample_trailer_does_not_match():
    # The sample has a 2017 record for another account pasted into a 2006
    # batch: the trailer counts 11 payments (8602.89), the batch holds 12.
    with pytest.raises(RecordError) as info:
        ktl.parse(SAMPLE.read_bytes(), file_name=SAMPLE.name)
    err = info.value
    assert (err.file_name, err.line, err.element) == (SAMPLE.name, 16, "record 9")
    assert "11" in err.message and "12" in err.message and "8602.89" in err.message


def test_public_sample_without_the_pasted_record_is_consistent():
    lines = SAMPLE.read_bytes().split(b"\n")
    kept = [line for line in lines if not line.startswith(b"356121120011066")]
    assert len(kept) == len(lines) - 1
    doc = ktl.parse(b"\n".join(kept), file_name="fixed.txt")  # trailer checked
    assert len(doc.statements) == 1


def test_public_sample_read_without_totals_check():
    doc = ktl.parse(SAMPLE.read_bytes(), file_name=SAMPLE.name, check_totals=False)
    assert doc.kind == "ktl" and doc.extra["charset"] == "sfs4017"
    (batch,) = doc.extra["batches"]
    assert batch["created"] == datetime(2006, 3, 3, 23, 59)
    assert batch["service_id"] == "011111111"
    assert batch["count"] == (11, Decimal("8602.89"))
    assert batch["failed_count"] == (2, Decimal("291.36"))
    assert batch["mismatch"]
    records = _records(SAMPLE)
    payments = [r for r in records if r[0] in "35"]
    first, second = doc.statements
    assert first.account_other == "19503000000010"
    assert first.account_iban == "FI4819503000000010"
    assert second.account_other == "56121120011066"
    assert second.account_iban.endswith("56121120011066") and stdnum_iban.is_valid(second.account_iban)
    assert len(first.entries) + len(second.entries) == len(payments) == 14
    mine = [r for r in payments if r[1:15] == "19503000000010"]
    assert sum(e.amount for e in first.entries) == sum(_cents(r) for r in mine)
    assert [e.archive_id for e in first.entries] == [r[27:43].strip() for r in mine]
    lopen = first.entries[0]
    assert lopen.amount == Decimal("323.24")
    assert lopen.booking_date == date(2006, 3, 3)
    (detail,) = lopen.details
    assert detail.payment_date == date(2006, 3, 2)
    assert detail.counterparty_name == "LOPEN PERUNA"
    assert detail.creditor_reference == "13"
    assert first.entries[1].details[0].creditor_reference == "455435"
    assert first.entries[1].details[0].creditor_reference_kind == "fi"
    # the two direct debits with feedback codes 7 and 4 were not paid
    failed = [e for e in first.entries if e.status == "INFO"]
    assert [e.extra["feedback_code"] for e in failed] == ["7", "4"]
    assert sum(e.amount for e in failed) == Decimal("291.36")
    (kuisma,) = second.entries
    assert kuisma.details[0].creditor_reference == "10000118530000711"
    assert kuisma.booking_date == date(2017, 9, 15)


# -- hand-written files ----------------------------------------------------


def test_sfs4017_and_latin1_give_the_same_result():
    sfs = ktl.parse(SFS.read_bytes())
    latin = ktl.parse(LATIN1.read_bytes())
    assert (sfs.extra.pop("charset"), latin.extra.pop("charset")) == ("sfs4017", "latin-1")
    assert sfs == latin


def test_hand_written_batches():
    doc = ktl.parse(LATIN1.read_bytes(), file_name=LATIN1.name)
    assert doc.created == datetime(2024, 3, 5, 7, 15)
    assert [b["created"] for b in doc.extra["batches"]] == [datetime(2024, 3, 5, 7, 15), datetime(2024, 3, 6, 7, 0)]
    assert doc.extra["batches"][0]["correction_count"] == (1, Decimal("50.00"))
    a, b = doc.statements
    assert a.account_iban == "FI4819503000000010" and b.account_iban == "FI1557169020004185"
    assert (a.from_date, a.to_date) == (date(2024, 3, 5), date(2024, 3, 6))
    assert a.currency == b.currency == "EUR"
    assert [e.details[0].counterparty_name for e in a.entries] == [
        "VIRTANEN VIL",
        "LINDSTRÖM MÄ",
        "ÅKERBLOM ÅSA",
        "ÄIJÄLÄ ÖRJAN",
        "SÖDERBERG S",
    ]
    assert [e.amount for e in a.entries] == [
        Decimal("100.00"),
        Decimal("152.80"),
        Decimal("100.00"),
        Decimal("-50.00"),
        Decimal("55.55"),
    ]
    correction = a.entries[3]
    assert correction.reversal is True and correction.status == "BOOK"
    assert [(d.creditor_reference, d.creditor_reference_kind) for e in a.entries for d in e.details] == [
        ("10003", "fi"),
        ("RF8243216", "rf"),
        ("20230012", "fi"),
        ("12328", "fi"),
        ("555018", "fi"),
    ]
    assert a.entries[1].extra["delivery_method"] == "K"
    assert a.entries[2].extra["name_source"] == "J"
    debit, failed = b.entries
    assert debit.extra["direct_debit"] is True and debit.status == "BOOK"
    assert failed.status == "INFO" and failed.extra["feedback_code"] == "1"
    # independent: records of the file, sliced
    records = [r for r in _records(LATIN1) if r[0] in "35"]
    assert sum(abs(e.amount) for st in doc.statements for e in st.entries) == sum(_cents(r) for r in records)
    keys = {e.import_key(st.account) for st in doc.statements for e in st.entries}
    assert len(keys) == len(records)


def test_wrong_trailer_names_its_line():
    with pytest.raises(RecordError) as info:
        ktl.parse(WRONG.read_bytes(), file_name=WRONG.name)
    err = info.value
    trailer_line = next(
        i for i, r in enumerate(WRONG.read_bytes().decode("latin-1").splitlines(), 1) if r.startswith("9")
    )
    assert (err.file_name, err.line, err.element) == (WRONG.name, trailer_line, "record 9")
    assert "427.81" in err.message and "427.80" in err.message
    doc = ktl.parse(WRONG.read_bytes(), check_totals=False)
    assert doc.extra["batches"][0]["mismatch"]


def test_missing_trailer():
    lines = LATIN1.read_bytes().split(b"\r\n")
    truncated = b"\r\n".join(lines[:-2])  # drops the last trailer
    with pytest.raises(RecordError) as info:
        ktl.parse(truncated)
    assert info.value.element == "record 9" and "no trailer" in info.value.message
    assert len(ktl.parse(truncated, check_totals=False).statements) == 2


def test_layout_variants():
    data = LATIN1.read_bytes()
    reference = ktl.parse(data)
    trimmed = ktl.parse(b"\n".join(line.rstrip() for line in data.split(b"\r\n")))
    assert trimmed.statements == reference.statements
    joined = ktl.parse(data.replace(b"\r\n", b""))
    assert [e.amount for e in joined.entries] == [e.amount for e in reference.entries]
    assert all(e.line == 1 for e in joined.entries)


def _with_record(number, new):
    lines = LATIN1.read_bytes().decode("latin-1").split("\r\n")
    lines[number - 1] = new
    return "\r\n".join(lines).encode("latin-1")


@pytest.mark.parametrize(
    "number, change, element",
    [
        (2, lambda r: r[:15] + "240231" + r[21:], "record 3 booking date"),
        (2, lambda r: r[:75] + "2" + r[76:], "record 3 currency code"),
        (2, lambda r: r[:77] + "00000A0000" + r[87:], "record 3 amount"),
        (2, lambda r: r[:87] + "X" + r[88:], "record 3 correction id"),
        (2, lambda r: "7" + r[1:], "record"),
        (1, lambda r: r[:7] + "2561" + r[11:], "record 0 creation time"),
        (8, lambda r: r[:7] + "0000004278O" + r[18:], "record 9"),
    ],
)
def test_record_errors(number, change, element):
    original = LATIN1.read_bytes().decode("latin-1").split("\r\n")[number - 1]
    with pytest.raises(RecordError) as info:
        ktl.parse(_with_record(number, change(original)), file_name="bad.txt")
    assert (info.value.file_name, info.value.line, info.value.element) == ("bad.txt", number, element)


def test_payment_before_header_and_empty():
    lines = LATIN1.read_bytes().split(b"\r\n")
    with pytest.raises(RecordError) as info:
        ktl.parse(b"\r\n".join(lines[1:]))
    assert info.value.line == 1 and "record 0" in info.value.message
    with pytest.raises(EmptyDocument):
        ktl.parse(b"")
