"""Reading scanned and printed paper invoices (PDF) and scanning service
deliveries. Every PDF is written by the test; bar codes are decoded for real
by zbar (embedded bitmaps) and by pdftoppm + zbar (vector symbols)."""

import datetime
import io
import shutil
import zipfile
from decimal import Decimal

import pytest

from odoo.addons.heeros_link_einvoice.formats import scan

from . import scan_pdfs

D = datetime.date
EXPECTED = {
    "iban": scan_pdfs.GUIDE_IBAN,
    "reference": scan_pdfs.GUIDE_REFERENCE,
    "amount": Decimal(scan_pdfs.GUIDE_AMOUNT),
    "due_date": D(2010, 6, 12),
}


def _values(result):
    return {name: getattr(result, name) for name in EXPECTED}


def test_text_without_barcode():
    result = scan.read_pdf(scan_pdfs.invoice_pdf(scan_pdfs.invoice_lines()), "lasku.pdf")
    assert result.barcode is None
    assert _values(result) == EXPECTED
    assert result.invoice_number == "2026-1042"
    assert result.business_ids == ("0112038-9",)
    assert result.useful
    assert result.page_count == 1


def test_virtual_barcode_printed_as_text():
    spaced = " ".join(scan_pdfs.GUIDE_CODE[i : i + 6] for i in range(0, 54, 6))
    result = scan.read_pdf(scan_pdfs.invoice_pdf(["Lasku", f"Virtuaaliviivakoodi: {spaced}"]))
    assert result.barcode_source == "text"
    assert result.barcode.code == scan_pdfs.GUIDE_CODE
    assert _values(result) == EXPECTED


def test_code128_bitmap_decoded_with_zbar():
    image = scan_pdfs.code128_image(scan_pdfs.GUIDE_CODE)
    result = scan.read_pdf(scan_pdfs.invoice_pdf(["Lasku"], image=image), render=False)
    assert result.barcode_source == "image"
    assert result.image_count == 1
    assert result.barcode.code == scan_pdfs.GUIDE_CODE
    assert _values(result) == EXPECTED


def test_image_only_scan():
    result = scan.read_pdf(scan_pdfs.image_only_pdf(scan_pdfs.GUIDE_CODE), render=False)
    assert result.text.strip() == ""
    assert result.barcode.code == scan_pdfs.GUIDE_CODE
    assert _values(result) == EXPECTED


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (pdftoppm) is not installed")
def test_vector_code128_rendered_with_pdftoppm():
    data = scan_pdfs.invoice_pdf(["Lasku"], vector_code=scan_pdfs.GUIDE_CODE)
    assert scan.read_pdf(data, render=False).barcode is None  # no text, no bitmap
    result = scan.read_pdf(data)
    assert result.barcode.code == scan_pdfs.GUIDE_CODE


def test_barcode_wins_over_text_with_a_warning():
    lines = scan_pdfs.invoice_lines(scan_pdfs.GUIDE_CODE)
    lines[-2] = "Maksettava yhteensä EUR 4 800,00"
    result = scan.read_pdf(scan_pdfs.invoice_pdf(lines))
    assert result.amount == Decimal("4883.15")
    assert any("4800.00" in w and "4883.15" in w for w in result.warnings)


def test_nothing_readable():
    result = scan.read_pdf(scan_pdfs.image_only_pdf(), "blank.pdf")
    assert not result.useful
    assert result.barcode is None and result.amount is None and result.business_ids == ()
    assert result.summary() == []


def test_invalid_values_are_not_taken():
    lines = [
        "Y-tunnus: 0112038-8",
        "Viitenumero: 86851 62596 19898",
        "IBAN FI79 4405 2020 0360 83",
        "Eräpäivä: 31.2.2026",
    ]
    result = scan.read_pdf(scan_pdfs.invoice_pdf(lines), render=False)
    assert (result.business_ids, result.reference, result.iban, result.due_date) == ((), None, None, None)


@pytest.mark.parametrize(
    "text,amount",
    [
        ("Yhteensä 1 234,50 EUR", "1234.50"),
        ("Total due: 1,234.50", "1234.50"),
        ("Att betala 99,90", "99.90"),
        ("Maksettava 1.234,56", "1234.56"),
    ],
)
def test_amount_forms(text, amount):
    assert scan.read_fields(text).amount == Decimal(amount)


def test_english_and_swedish_labels():
    fields = scan.read_fields(
        "Invoice number: INV-77\nDue date: 2026-12-31\nReference RF18 5390 0754 7034\n"
        "Business ID 0112038-9 Buyer VAT FI20774740"
    )
    assert fields.invoice_number == "INV-77"
    assert fields.due_date == D(2026, 12, 31)
    assert fields.reference == "RF18539007547034"
    assert fields.business_ids == ("0112038-9", "2077474-0")


def test_not_a_pdf_and_broken_pdf():
    with pytest.raises(scan.NotAPdf, match="x.txt"):
        scan.read_pdf(b"hello", "x.txt")
    with pytest.raises(scan.UnreadablePdf, match="bad.pdf"):
        scan.read_pdf(b"%PDF-1.4\nnot really\n%%EOF", "bad.pdf")


# --- scanning service deliveries --------------------------------------------


def _zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


FINVOICE = b'<Finvoice Version="3.0"><InvoiceDetails><InvoiceNumber>%s</InvoiceNumber></InvoiceDetails>%s</Finvoice>'


def test_delivery_zip_pairs_by_base_name_and_reference():
    pdf = scan_pdfs.invoice_pdf(["Lasku"])
    data = _zip(
        {
            "out/1001.xml": FINVOICE % (b"1001", b""),
            "out/1002.xml": FINVOICE
            % (
                b"1002",
                b"<AttachmentMessageDetails><AttachmentMessageIdentifier>"
                b"scan-77</AttachmentMessageIdentifier></AttachmentMessageDetails>",
            ),
            "out/1001_1.tif": b"II*\x00page1",
            "out/1001_2.tif": b"II*\x00page2",
            "out/scan-77.pdf": pdf,
            "out/other.pdf": pdf,
        }
    )
    deliveries = {d.invoice.name: sorted(i.name for i in d.images) for d in scan.split_delivery(data, "d.zip")}
    assert deliveries == {"out/1001.xml": ["out/1001_1.tif", "out/1001_2.tif"], "out/1002.xml": ["out/scan-77.pdf"]}


def test_delivery_with_one_invoice_takes_every_image():
    data = _zip({"a.xml": FINVOICE % (b"1", b""), "page.png": b"\x89PNG"})
    [delivery] = scan.split_delivery(data)
    assert [i.name for i in delivery.images] == ["page.png"]


def test_bad_delivery():
    with pytest.raises(scan.BadDelivery, match="no e-invoice"):
        scan.split_delivery(_zip({"a.pdf": b"%PDF-1.4"}), "only.zip")
    with pytest.raises(scan.BadDelivery, match="cannot be opened"):
        scan.split_delivery(b"PK\x03\x04broken", "broken.zip")


def test_pair_key():
    assert scan.pair_key("x/INV-12_page2.TIF") == "inv-12"
    assert scan.pair_key("12345-2.jpg") == scan.pair_key("12345.xml") == "12345"
