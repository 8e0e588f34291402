"""Large Finvoice and UBL files for memory tests and benchmarks.

A bank's e-invoice file is a series of SOAP frames, each followed by its
Finvoice. :func:`finvoice_file` writes such a file from one invoice built
(and checked against the schema) by the suite's own builder, repeated with
distinct invoice numbers and message ids; :func:`finvoice_invoice` makes
that invoice, with totals that add up. :func:`ubl_file` repeats the lines of
the Peppol BIS 3 base example.
"""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import reference
from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from tests.common import SHARED_DATA

_PLACEHOLDER = "7777777777"
_SELLER = fv.EInvoiceAddress("003723456780", "003721291126", "0037")
_BUYER = fv.EInvoiceAddress("003701120389", "NDEAFIHH", "0037")


def finvoice_invoice(number, n_rows):
    """A domestic invoice of ``n_rows`` rows of 10.00 € at 25.5 % VAT."""
    price, vat = Decimal("10.00"), Decimal("2.55")
    rows = [
        fv.InvoiceRow(
            name=f"Tuote {index}",
            article_id=f"A-{index}",
            quantity=Decimal("1"),
            unit_code="kpl",
            unit_code_un="C62",
            unit_price=price,
            vat_rate=Decimal("25.5"),
            vat_code="S",
            vat_amount=vat,
            total_excl_vat=price,
            total_incl_vat=price + vat,
            position=str(index),
            free_text=[f"Toimitus {index} – erä {number}"],
        )
        for index in range(1, n_rows + 1)
    ]
    excl, vat_total = price * n_rows, vat * n_rows
    return fv.FinvoiceInvoice(
        number=number,
        date=date(2026, 3, 2),
        type_code="INV01",
        type_code_un="380",
        type_text="LASKU",
        seller=fv.Party(
            name="Myyjä Oy",
            business_id="2345678-0",
            vat_number="FI23456780",
            address=fv.Address(streets=["Esimerkkikatu 1"], town="Helsinki", post_code="00100", country_code="FI"),
            einvoice_address=_SELLER,
            bank_accounts=[fv.BankAccount("FI4950009420028730", "OKOYFIHH")],
        ),
        buyer=fv.Party(
            name="Ostaja Oy",
            business_id="0112038-9",
            vat_number="FI01120389",
            address=fv.Address(streets=["Testitie 2"], town="Espoo", post_code="02100", country_code="FI"),
            einvoice_address=_BUYER,
        ),
        rows_total_excl_vat=excl,
        total_excl_vat=excl,
        total_vat=vat_total,
        total_incl_vat=excl + vat_total,
        vat_breakdown=[fv.VatLine(Decimal("25.5"), excl, vat_total, "S")],
        due_date=date(2026, 3, 16),
        rows=rows,
        payment=fv.Payment(
            accounts=[fv.BankAccount("FI4950009420028730", "OKOYFIHH")],
            reference=reference.fi_make("2026100"),
            due_date=date(2026, 3, 16),
            amount=excl + vat_total,
        ),
        transmission=fv.Transmission(
            message_id=f"MSG-{number}",
            timestamp=datetime(2026, 3, 2, 8, 30, tzinfo=timezone(timedelta(hours=2))),
            sender=_SELLER,
            receiver=_BUYER,
        ),
    )


def finvoice_file(size, *, rows=5, framed=True):
    """``(bytes, invoice numbers)``: about ``size`` bytes of invoices of
    ``rows`` rows each, every one behind its SOAP frame (``framed``) or
    the Finvoices one after the other."""
    invoice = finvoice_invoice(_PLACEHOLDER, rows)
    model = fv.build_framed(invoice) if framed else fv.build(invoice)
    count = max(size // len(model), 1)
    numbers = [f"{index:010d}" for index in range(1, count + 1)]
    data = b"\n".join(model.replace(_PLACEHOLDER.encode(), number.encode()) for number in numbers)
    return data, numbers


UBL_SAMPLE = SHARED_DATA / "einvoice" / "samples" / "peppol-bis3-examples" / "base-example.xml"
_UBL_LINE = re.compile(rb"<cac:InvoiceLine>.*?</cac:InvoiceLine>\s*", re.DOTALL)


def ubl_file(size):
    """The Peppol BIS 3 base example with its first invoice line repeated
    (distinct line ids) to about ``size`` bytes; valid against the UBL 2.1
    schema (its totals no longer add up)."""
    data = UBL_SAMPLE.read_bytes()
    lines = list(_UBL_LINE.finditer(data))
    line = lines[0].group(0)
    count = max(size // len(line), 1)
    body = b"".join(
        re.sub(rb"<cbc:ID>[^<]*</cbc:ID>", f"<cbc:ID>{n}</cbc:ID>".encode(), line, count=1) for n in range(1, count + 1)
    )
    return data[: lines[0].start()] + body + data[lines[-1].end() :]
