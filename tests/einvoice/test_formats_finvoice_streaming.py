"""The streaming Finvoice reader: every sample reads as its golden file
(written by the reader that built a whole tree), files of many invoices read
invoice by invoice with errors naming the file line, and a large file is
read within a bounded memory."""

import json
import subprocess
import sys

import pytest

from odoo.addons.heeros_link_base.formats.errors import (
    EmptyDocument,
    MalformedDocument,
    RecordError,
    SchemaViolation,
)
from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from odoo.addons.heeros_link_einvoice.formats import xsd
from tests.common import REPO
from tests.einvoice.golden import GOLDEN, SAMPLES, dump, golden_path, sample_files
from tests.einvoice.large_files import finvoice_file, finvoice_invoice

FILES = sample_files()
FRAMED = [
    SAMPLES / "gobl-fi-finvoice/test-data-parse/soap-framed.xml",
    SAMPLES / "maventa/anon_finvoice_20_invoice_with_SOAP.xml",
    SAMPLES / "maventa/anon_finvoice_13_invoice_with_SOAP.xml",
]


def test_every_sample_has_a_golden_file():
    assert len(FILES) == 16
    assert sorted(golden_path(p).name for p in FILES) == sorted(p.name for p in GOLDEN.iterdir())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sample_reads_as_its_golden_file(path):
    expected = golden_path(path).read_text(encoding="utf-8")
    data = path.read_bytes()
    assert dump(fv.parse(data, path.name)) == expected
    (streamed,) = fv.iter_invoices(data, path.name)
    assert dump(streamed) == expected


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_validation_reads_the_same_invoice(path):
    """With validation on, rows are read from the whole invoice after the
    schema check; the invoice is the same as when streamed."""
    data = path.read_bytes()
    try:
        invoice = fv.parse(data, path.name, validate=True)
    except SchemaViolation:
        pytest.skip("the sample does not satisfy the Finvoice 3.0 schema")
    assert dump(invoice) == golden_path(path).read_text(encoding="utf-8")


def _joined(paths):
    return b"\n".join(p.read_bytes().strip() for p in paths) + b"\n"


def test_a_file_of_several_framed_samples_reads_each_one():
    paths = FRAMED + [SAMPLES / "gobl-fi-finvoice/examples-out/invoice.xml"] + FRAMED[:1]
    data = _joined(paths)
    invoices = list(fv.iter_invoices(data, "bank.xml"))
    assert [dump(i) for i in invoices] == [golden_path(p).read_text(encoding="utf-8") for p in paths]
    with pytest.raises(MalformedDocument, match="more than one invoice"):
        fv.parse(data, "bank.xml")


def test_a_soap_body_invoice_among_framed_ones():
    body = REPO / "tests/data/einvoice/finvoice-3.0-soap-body.xml"
    paths = [FRAMED[0], body, FRAMED[1]]
    invoices = list(fv.iter_invoices(_joined(paths), "bank.xml"))
    assert [i.number for i in invoices] == [json.loads(golden_path(p).read_text())["number"] for p in paths]
    assert invoices[1].frame.message_id == json.loads(golden_path(body).read_text())["frame"]["message_id"]


def test_error_in_a_later_invoice_names_its_line_in_the_file():
    data, numbers = finvoice_file(60_000)
    target = numbers[3].encode()
    start = data.index(b"<InvoiceNumber>" + target)
    amount = data.index(b"<RowVatAmount", start)
    value = data.index(b">", amount) + 1
    broken = data[:value] + b"x" + data[value + 1 :]
    line = broken.count(b"\n", 0, value) + 1
    read = []
    with pytest.raises(RecordError) as caught:
        for invoice in fv.iter_invoices(broken, "bank.xml"):
            read.append(invoice.number)
    assert read == numbers[:3]
    assert caught.value.line == line and caught.value.file_name == "bank.xml"
    assert "RowVatAmount" in caught.value.element


def test_malformed_later_invoice_names_its_line():
    data, numbers = finvoice_file(40_000)
    start = data.index(b"<InvoiceNumber>" + numbers[2].encode())
    broken = (
        data[:start]
        + b"<InvoiceNumber>"
        + data[start + len(b"<InvoiceNumber>") :].replace(b"</InvoiceNumber>", b"</Wrong>", 1)
    )
    line = broken.count(b"\n", 0, broken.index(b"</Wrong>")) + 1
    with pytest.raises(MalformedDocument) as caught:
        list(fv.iter_invoices(broken, "bank.xml"))
    assert caught.value.line == line


def test_schema_check_per_invoice():
    data, numbers = finvoice_file(40_000)
    start = data.index(b"<InvoiceNumber>" + numbers[1].encode())
    broken = data[:start] + data[start:].replace(b"<InvoiceDate", b"<InvoiceDatum", 1).replace(
        b"</InvoiceDate>", b"</InvoiceDatum>", 1
    )
    read = []
    with pytest.raises(SchemaViolation) as caught:
        for invoice in fv.iter_invoices(broken, "bank.xml", validate=True):
            read.append(invoice.number)
    assert read == numbers[:1]
    assert any("InvoiceDatum" in error for error in caught.value.errors)


def test_streamed_schema_check_of_one_invoice(monkeypatch):
    """A Finvoice document is checked while it streams; a refused one is
    checked again whole for every finding with its line, or, when larger
    than that second check allows, reported with the streamed findings."""
    data = fv.build(finvoice_invoice("2026-7", 300))
    assert fv.parse(data, validate=True).rows == fv.parse(data).rows
    broken = data.replace(b"<RowVatCode>S</RowVatCode>", b"<RowVatCode>S</RowVatCode><Bogus/>", 2)
    with pytest.raises(SchemaViolation) as caught:
        fv.parse(broken, "one.xml", validate=True)
    rows = [n + 1 for n in _lines_of(broken, b"<InvoiceRow>")]
    bogus = [n + 1 for n in _lines_of(broken, b"<Bogus/>")]
    # each finding names the row that holds the stray element, by its line
    assert len(caught.value.errors) == 2
    for error, line in zip(caught.value.errors, bogus, strict=True):
        assert "Bogus" in error
        assert error.startswith(f"line {max(r for r in rows if r < line)}, /Finvoice/InvoiceRow")
    monkeypatch.setattr(xsd, "WHOLE_CHECK_BYTES", 0)
    with pytest.raises(SchemaViolation) as caught:
        fv.parse(broken, "one.xml", validate=True)
    assert caught.value.file_name == "one.xml"
    assert "Finvoice3.0.xsd" in caught.value.message
    assert caught.value.errors and all("Bogus" in error for error in caught.value.errors)


def _lines_of(data, needle):
    found, start = [], data.find(needle)
    while start >= 0:
        found.append(data.count(b"\n", 0, start))
        start = data.find(needle, start + 1)
    return found


def test_record_error_waits_for_the_schema_check():
    """With validation, what the schema refuses is reported as a schema
    violation even when a row read before the end could not be read."""
    data = fv.build(finvoice_invoice("2026-8", 20))
    start = data.index(b"<RowVatAmount")
    value = data.index(b">", start) + 1
    broken = data[:value] + b"x" + data[value + 1 :]
    with pytest.raises(RecordError):
        fv.parse(broken, "one.xml")
    with pytest.raises(SchemaViolation):
        fv.parse(broken, "one.xml", validate=True)


def test_text_after_the_last_invoice_is_reported():
    data, _numbers = finvoice_file(20_000)
    with pytest.raises(MalformedDocument, match="goes on after its last invoice") as caught:
        list(fv.iter_invoices(data + b"\nnot xml\n", "bank.xml"))
    assert caught.value.line == data.count(b"\n") + 2


def test_blank_file():
    with pytest.raises(EmptyDocument):
        list(fv.iter_invoices(b" \n\t", "empty.xml"))


def test_many_rows_of_one_invoice():
    invoice = finvoice_invoice("2026-500", 2_000)
    parsed = fv.parse(fv.build(invoice))
    assert [r.position for r in parsed.rows] == [str(n) for n in range(1, 2_001)]
    assert sum(r.total_incl_vat for r in parsed.rows) == parsed.total_incl_vat == invoice.total_incl_vat


_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
import odoo.addons
_odoo = Path(next(iter(odoo.addons.__path__))).resolve().parent.parent
odoo.addons.__path__.extend([{repo!r}, str(_odoo / "addons")])
from odoo.addons.heeros_link_einvoice.formats import finvoice
data = Path(sys.argv[1]).read_bytes()
validate = sys.argv[2] == "validate"
finvoice.iter_invoices(b"", validate=validate)  # loaded before measuring
if validate:
    from odoo.addons.heeros_link_einvoice.formats import xsd
    xsd.streaming_schema("finvoice")
def status(key):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))
resident = status("VmRSS:")
numbers = [invoice.number for invoice in finvoice.iter_invoices(data, "large.xml", validate=validate)]
growth = status("VmHWM:") - resident
print(json.dumps({{"size": len(data), "growth": growth, "numbers": numbers}}))
"""


def _read_in_a_fresh_process(path, validate):
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(repo=str(REPO)), str(path), "validate" if validate else "read"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("validate", [False, True], ids=["read", "validate"])
def test_a_large_file_of_framed_invoices_is_read_in_bounded_memory(tmp_path, validate):
    """In a fresh process: the highest resident memory while reading 12 MB
    of framed invoices, above what the process held with the file read,
    stays far below the file's size (one invoice at a time; read as one
    tree, the same bytes take several times their size)."""
    data, numbers = finvoice_file(12_000_000)
    path = tmp_path / "large.xml"
    path.write_bytes(data)
    row = _read_in_a_fresh_process(path, validate)
    assert row["numbers"] == numbers
    assert row["growth"] < 0.5 * row["size"], row


def test_one_large_invoice_is_checked_and_read_in_bounded_memory(tmp_path):
    """One invoice of 8 000 rows (6 MB), checked against the schema and
    read: its rows as dataclasses, not its tree (which takes ten times
    the file), stay within twice the file."""
    path = tmp_path / "one.xml"
    path.write_bytes(fv.build(finvoice_invoice("2026-9", 8_000)))
    row = _read_in_a_fresh_process(path, True)
    assert row["numbers"] == ["2026-9"]
    assert row["growth"] < 2 * row["size"], row


@pytest.mark.parametrize("validate", [False, True], ids=["read", "validate"])
def test_a_truncated_invoice_is_malformed_not_read_in_part(validate):
    data = fv.build(finvoice_invoice("2026-10", 50))
    cut = data[: data.index(b"<InvoiceRow>", len(data) // 2) + 20]
    with pytest.raises(MalformedDocument) as caught:
        list(fv.iter_invoices(cut, "cut.xml", validate=validate))
    assert caught.value.file_name == "cut.xml" and caught.value.line
