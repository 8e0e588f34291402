"""Test PDFs of paper invoices, written by the tests themselves.

reportlab (an Odoo dependency) writes the PDFs; the Code 128 symbol is drawn
pixel by pixel with Pillow from the bar/space widths, or as vector graphics by
reportlab's own Code 128 widget.
"""

import io

from PIL import Image
from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from odoo.addons.heeros_link_einvoice.formats import barcode

# Finance Finland's Bank Bar Code Guide, first example invoice (version 4).
GUIDE_IBAN = "FI7944052020036082"
GUIDE_AMOUNT = "4883.15"
GUIDE_REFERENCE = "868516259619897"
GUIDE_CODE = "479440520200360820048831500000000868516259619897100612"


def code128_image(digits, module_px=3, height_px=120, quiet_modules=12):
    """A black-on-white bitmap of the Code 128 C symbol of ``digits``."""
    pattern = barcode.code128c_pattern(digits)
    width = (sum(pattern) + 2 * quiet_modules) * module_px
    image = Image.new("L", (width, height_px), 255)
    x = quiet_modules * module_px
    for index, modules in enumerate(pattern):
        w = modules * module_px
        if index % 2 == 0:
            image.paste(0, (x, 0, x + w, height_px))
        x += w
    return image


def invoice_pdf(lines=(), image=None, vector_code=None, pages=1):
    """A PDF with ``lines`` of text on its first page, optionally a bitmap
    (PIL image) and a vector Code 128 symbol of ``vector_code``."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        if page == 0:
            y = 800
            for line in lines:
                pdf.drawString(50, y, line)
                y -= 16
            if image is not None:
                pdf.drawImage(ImageReader(image), 50, 150, width=image.width * 0.3, height=image.height * 0.3)
            if vector_code:
                symbol = code128.Code128(vector_code, barWidth=0.9, barHeight=40, quiet=True)
                symbol.drawOn(pdf, 50, 80)
        else:
            pdf.rect(50, 50, 100, 100)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def invoice_lines(barcode_text=None, number="2026-1042", business_id="0112038-9"):
    lines = [
        "Acme Paperi Oy",
        f"Y-tunnus: {business_id}",
        "LASKU",
        f"Laskun numero: {number}",
        "Laskun päivä: 20.11.2026",
        "Eräpäivä: 12.6.2010",
        "Tilinumero (IBAN): FI79 4405 2020 0360 82",
        "Viitenumero: 86851 62596 19897",
        "Maksettava yhteensä EUR 4 883,15",
    ]
    if barcode_text:
        lines.append(f"Virtuaaliviivakoodi: {barcode_text}")
    return lines


def scanned_page_image(code=None):
    """A page as a scanner delivers it: only a bitmap (no text layer), with
    the bar code printed at the bottom."""
    page = Image.new("L", (1654, 2339), 255)
    if code:
        symbol = code128_image(code, module_px=4, height_px=160)
        page.paste(symbol, (100, 2000))
    return page


def image_only_pdf(code=None):
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    image = scanned_page_image(code)
    pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
    pdf.showPage()
    pdf.save()
    return out.getvalue()
