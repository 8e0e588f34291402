"""Scanned paper invoices: what can be read from a PDF, and scanning
service deliveries.

A PDF alone (a scanned or printed invoice) is read in three ways:

* its text layer (with `pypdf`_: pure Python, no system library, maintained
  by the py-pdf project, and able to hand out the images of a page);
* the Finnish bank bar code (pankkiviivakoodi): the 54-digit virtual bar code
  printed as text, or the Code 128 symbol printed as an image, decoded with
  `zbar`_ (through ``pyzbar``). A page whose symbol is drawn as vector
  graphics is rendered to a bitmap with poppler's ``pdftoppm`` when that
  program is installed;
* labelled fields of the text: IBAN, reference, amount, due date, invoice
  number and business IDs (Finnish, Swedish and English labels).

What the bar code says wins over what the text says; a disagreement is kept
as a warning. Nothing here raises for a PDF that simply holds nothing
useful: :class:`ScanResult` then has no values and :attr:`ScanResult.useful`
is false. :class:`NotAPdf` and :class:`UnreadablePdf` are for files that
are no PDF or cannot be opened.

A scanning service delivers an e-invoice (Finvoice or UBL) with the page
images or the PDF of the paper invoice, either in one ZIP file or as two
files. :func:`split_delivery` opens the ZIP; :func:`pair_key` and
:func:`image_names_of` give the pairing rule:

* an image or PDF belongs to the e-invoice with the same base name
  (``12345.xml`` and ``12345.pdf``, ``12345_1.tif``, ``12345-2.jpg``);
* or to the e-invoice that names it: Finvoice ``InvoiceUrlNameText`` /
  ``AttachmentMessageIdentifier`` / ``AttachmentName``, UBL
  ``cac:AdditionalDocumentReference/cbc:ID`` or the ``filename`` of its
  embedded object.

.. _pypdf: https://pypi.org/project/pypdf/
.. _zbar: https://github.com/mchehab/zbar
"""

import datetime
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from odoo.addons.heeros_link_base.formats import identifiers, xmlsafe
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError, MalformedDocument

from . import barcode as bank_barcode

#: Bounds on what is read from one PDF (a scan is a few pages).
MAX_PAGES = 50
MAX_IMAGES = 200
#: Resolution of pages rendered with pdftoppm for bar code reading.
RENDER_DPI = 200
RENDER_TIMEOUT = 60

IMAGE_EXTENSIONS = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".gif", ".bmp")
XML_EXTENSIONS = (".xml",)


class ScanError(LinkFormatError):
    """A scanned invoice or a scanning service delivery cannot be read."""


class NotAPdf(ScanError):
    """The file is not a PDF."""


class UnreadablePdf(ScanError):
    """The file claims to be a PDF but cannot be opened (broken, encrypted)."""


class BadDelivery(ScanError):
    """A scanning service's ZIP holds no e-invoice, or is broken."""


@dataclass(frozen=True)
class ScanResult:
    """What was read from one PDF. Every value may be ``None``.

    ``barcode_source`` is ``'text'`` or ``'image'`` when a bank bar code was
    found; ``business_ids`` lists every valid business ID in the order the
    text shows them (the supplier's is usually first, the buyer's may follow);
    ``warnings`` says what was seen but not taken.
    """

    file_name: str | None = None
    page_count: int = 0
    text: str = ""
    barcode: bank_barcode.VirtualBarcode | None = None
    barcode_source: str | None = None
    iban: str | None = None
    reference: str | None = None
    amount: Decimal | None = None
    due_date: datetime.date | None = None
    invoice_number: str | None = None
    business_ids: tuple = ()
    image_count: int = 0
    warnings: tuple = field(default=())

    @property
    def business_id(self):
        return self.business_ids[0] if self.business_ids else None

    @property
    def useful(self):
        """Something a bill can be made of was read."""
        return any(
            (
                self.barcode,
                self.iban,
                self.reference,
                self.amount,
                self.due_date,
                self.invoice_number,
                self.business_ids,
            )
        )

    def summary(self):
        """``[(label, value text)]`` of what was read, for a person."""
        rows = []
        if self.barcode:
            rows.append(("Bank bar code", f"{self.barcode.code} ({self.barcode_source})"))
        for label, value in (
            ("Invoice number", self.invoice_number),
            ("Business ID", ", ".join(self.business_ids)),
            ("IBAN", self.iban),
            ("Reference", self.reference and fi_reference.format(self.reference)),
            ("Amount", self.amount is not None and f"{self.amount:.2f}"),
            ("Due date", self.due_date and self.due_date.isoformat()),
        ):
            if value:
                rows.append((label, str(value)))
        return rows


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def is_pdf(data):
    """The PDF header ``%PDF-`` within the first kilobyte (as readers allow),
    in a file that is no ZIP (whose stored members may be PDFs)."""
    data = data or b""
    return b"%PDF-" in data[:1024] and not is_zip(data)


def _open(data, file_name):
    if not is_pdf(data):
        raise NotAPdf("the file is not a PDF", file_name=file_name, expected="a file starting with %PDF-")
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadablePdf(
                "the PDF is encrypted with a password",
                file_name=file_name,
                expected="a PDF without an opening password",
            )
        if not len(reader.pages):
            raise UnreadablePdf("the PDF has no pages", file_name=file_name, expected="at least one page")
    except UnreadablePdf:
        raise
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise UnreadablePdf(
            f"the PDF cannot be opened: {exc}", file_name=file_name, expected="a well-formed PDF"
        ) from exc
    return reader


def read_pdf(data, file_name=None, render=True):
    """Read a scanned or printed invoice PDF into a :class:`ScanResult`.

    :param render: render pages with ``pdftoppm`` (when installed) to find a
        bar code drawn as vector graphics, if text and images had none
    :raises NotAPdf: the data is not a PDF
    :raises UnreadablePdf: a PDF that cannot be opened
    """
    reader = _open(data, file_name)
    warnings = []
    pages = list(reader.pages)
    if len(pages) > MAX_PAGES:
        warnings.append(f"only the first {MAX_PAGES} of {len(pages)} pages were read")
        pages = pages[:MAX_PAGES]
    texts = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # noqa: BLE001 - one bad page must not hide the others
            warnings.append(f"the text of page {number} could not be read: {exc}")
    text = "\n".join(texts)

    code, source = find_barcode_in_text(text), "text"
    image_count = 0
    if not code:
        images, image_count, image_warnings = _page_images(pages)
        warnings.extend(image_warnings)
        code, source = decode_barcode_images(images, warnings), "image"
    if not code and render:
        code, source = decode_barcode_images(_rendered_pages(data, len(pages), warnings), warnings), "image"
    fields = read_fields(text)
    return _merge(
        file_name, len(pages), text, code if code else None, source if code else None, fields, image_count, warnings
    )


def _page_images(pages):
    images, count, warnings = [], 0, []
    for number, page in enumerate(pages, start=1):
        try:
            page_images = list(page.images)
        except Exception as exc:  # noqa: BLE001 - an image pypdf cannot decode is skipped
            warnings.append(f"the images of page {number} could not be read: {exc}")
            continue
        for image in page_images:
            if count >= MAX_IMAGES:
                warnings.append(f"only the first {MAX_IMAGES} images were read")
                return images, count, warnings
            count += 1
            try:
                images.append(image.image)
            except Exception as exc:  # noqa: BLE001
                warnings.append(f"image {image.name} of page {number} could not be decoded: {exc}")
    return images, count, warnings


def _rendered_pages(data, page_count, warnings):
    """Page bitmaps from poppler's pdftoppm, or nothing when it is missing."""
    program = shutil.which("pdftoppm")
    if not program:
        return []
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="heeros-link-scan-") as folder:
        source = os.path.join(folder, "in.pdf")
        with open(source, "wb") as handle:
            handle.write(data)
        try:
            subprocess.run(
                [
                    program,
                    "-r",
                    str(RENDER_DPI),
                    "-gray",
                    "-l",
                    str(page_count),
                    "-png",
                    source,
                    os.path.join(folder, "page"),
                ],
                check=True,
                capture_output=True,
                timeout=RENDER_TIMEOUT,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            warnings.append(f"the pages could not be rendered for bar code reading: {exc}")
            return []
        images = []
        for name in sorted(os.listdir(folder)):
            if name.endswith(".png"):
                with Image.open(os.path.join(folder, name)) as image:
                    image.load()
                    images.append(image.copy())
        return images


# ---------------------------------------------------------------------------
# bank bar code
# ---------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d[\d \u00a0]{52,}\d")


def find_barcode_in_text(text):
    """The first valid virtual bar code (54 digits, spaces allowed) in
    ``text``, or ``None``."""
    for match in _DIGIT_RUN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        for start in range(len(digits) - bank_barcode.LENGTH + 1):
            candidate = digits[start : start + bank_barcode.LENGTH]
            if candidate[0] not in "45":
                continue
            try:
                return bank_barcode.parse_virtual_barcode(candidate)
            except LinkFormatError:
                continue
    return None


def decode_barcode_images(images, warnings=None):
    """The first valid bank bar code among the Code 128 symbols zbar finds in
    ``images`` (PIL images), or ``None``. A missing zbar library is a
    warning, not an error: the text is still read."""
    images = list(images)
    if not images:
        return None
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:
        if warnings is not None:
            warnings.append(f"bar code images were not read: the zbar library is not available ({exc})")
        return None
    for image in images:
        for symbol in _zbar_decode(pyzbar, image):
            digits = symbol.data.decode("ascii", "replace")
            try:
                return bank_barcode.parse_virtual_barcode(digits)
            except LinkFormatError as exc:
                if warnings is not None:
                    warnings.append(f"a Code 128 symbol was found but is no bank bar code: {exc.message}")
    return None


def _zbar_decode(pyzbar, image):
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    symbols = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.CODE128])
    if symbols:
        return symbols
    # scans are often small: a bar of one pixel is too thin for zbar
    if image.width < 1200:
        scale = max(2, 1200 // max(image.width, 1))
        bigger = image.resize((image.width * scale, image.height * scale))
        return pyzbar.decode(bigger, symbols=[pyzbar.ZBarSymbol.CODE128])
    return []


# ---------------------------------------------------------------------------
# labelled fields of the text
# ---------------------------------------------------------------------------


def _labels(*words):
    return r"(?:" + "|".join(words) + r")"


_SEP = r"[\s:.#]*(?:\(?[A-Za-z€]{0,4}\)?[\s:.]*)?"
_INVOICE_LABEL = _labels(
    r"laskun\s*(?:numero|nro|n:o)",
    r"laskunumero",
    r"lasku\s*nro",
    r"lasku\s*n:o",
    r"invoice\s*(?:number|no|nr|#)",
    r"fakturanummer",
    r"faktura\s*nr",
)
_REFERENCE_LABEL = _labels(
    r"viitenumero", r"viitenro", r"viite", r"reference\s*(?:number|no)?", r"ref\.?\s*no", r"referens(?:nummer)?", r"ref"
)
_DUE_LABEL = _labels(r"eräpäivä", r"erapaiva", r"due\s*date", r"payment\s*due", r"förfallodag(?:en)?", r"förfallodatum")
_AMOUNT_LABEL = _labels(
    r"maksettava(?:\s*yhteensä)?",
    r"yhteensä",
    r"loppusumma",
    r"summa",
    r"amount\s*due",
    r"total\s*due",
    r"total\s*amount",
    r"total",
    r"att\s*betala",
    r"summa\s*att\s*betala",
    r"belopp",
    r"euro",
)
_BUSINESS_ID_LABEL = _labels(r"y-tunnus", r"ytunnus", r"business\s*id", r"fo-nummer", r"fo-nr")

_INVOICE_NUMBER = re.compile(_INVOICE_LABEL + r"[\s:.#]*([A-Za-z0-9][A-Za-z0-9/_-]{0,34})", re.I)
_REFERENCE = re.compile(_REFERENCE_LABEL + r"[\s:.#]*((?:RF\d{2}[\dA-Za-z ]{1,25})|(?:\d[\d ]{2,26}\d))", re.I)
_DUE = re.compile(
    _DUE_LABEL + r"[\s:.]*(\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"\d{1,2}/\d{1,2}/\d{4})",
    re.I,
)
_AMOUNT = re.compile(
    _AMOUNT_LABEL + _SEP + r"(-?\d{1,3}(?:[ \u00a0.]\d{3})*(?:,\d{2})|"
    r"-?\d{1,3}(?:,\d{3})*(?:\.\d{2})|-?\d+(?:[.,]\d{2}))(?!\d)",
    re.I,
)
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)\b")
_BUSINESS_ID = re.compile(r"(?<![\d-])(\d{7}-\d)(?!\d)")
_VAT_FI = re.compile(r"\bFI ?(\d{8})\b")


@dataclass(frozen=True)
class TextFields:
    """Fields read from the text alone (see :func:`read_fields`)."""

    iban: str | None = None
    reference: str | None = None
    amount: Decimal | None = None
    due_date: datetime.date | None = None
    invoice_number: str | None = None
    business_ids: tuple = ()


def read_fields(text):
    """Read IBAN, reference, amount, due date, invoice number and business
    IDs from the text of an invoice. Only values that pass their checks are
    taken (IBAN checksum, reference check digit, business ID check digit, a
    date that exists)."""
    text = text or ""
    return TextFields(
        iban=_first_iban(text),
        reference=_first_reference(text),
        amount=_first_amount(text),
        due_date=_first_date(text),
        invoice_number=_first_invoice_number(text),
        business_ids=_business_ids(text),
    )


def _first_iban(text):
    for match in _IBAN.finditer(text):
        candidate = identifiers.compact(match.group(1))
        # a greedy match may have eaten the start of the next word: shorten to the country's length
        length = identifiers.iban_length(candidate) or len(candidate)
        candidate = candidate[:length]
        try:
            return identifiers.validate_iban(candidate)
        except LinkFormatError:
            continue
    return None


def _first_reference(text):
    for match in _REFERENCE.finditer(text):
        value = match.group(1).strip()
        # stop before a following word or number of the next field ("RF18 5390 0754 7034 Due")
        for candidate in _shrinking(value):
            if fi_reference.kind(candidate):
                return fi_reference.compact(candidate)
    return None


def _shrinking(value):
    """``value``, then without its last space-separated group, ... ."""
    parts = value.split()
    for end in range(len(parts), 0, -1):
        yield "".join(parts[:end])


def _parse_amount(text):
    value = text.replace("\u00a0", " ").strip()
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+\.\d{2}", value):
        value = value.replace(",", "")
    else:
        value = value.replace(" ", "").replace(".", "") if "," in value else value.replace(" ", "")
        value = value.replace(",", ".")
    try:
        return Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _first_amount(text):
    for match in _AMOUNT.finditer(text):
        amount = _parse_amount(match.group(1))
        if amount is not None:
            return amount
    return None


def _parse_date(text):
    value = text.replace(" ", "")
    try:
        if "-" in value:
            return datetime.date.fromisoformat(value)
        sep = "." if "." in value else "/"
        day, month, year = (int(part) for part in value.split(sep))
        if year < 100:
            year += 2000
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _first_date(text):
    for match in _DUE.finditer(text):
        date = _parse_date(match.group(1))
        if date:
            return date
    return None


def _first_invoice_number(text):
    for match in _INVOICE_NUMBER.finditer(text):
        value = match.group(1).strip("-/_")
        if value and any(ch.isdigit() for ch in value):
            return value
    return None


def _business_ids(text):
    found = []
    candidates = [(m.start(), m.group(1)) for m in _BUSINESS_ID.finditer(text)]
    candidates += [(m.start(), identifiers.normalise_business_id(m.group(1))) for m in _VAT_FI.finditer(text)]
    for _pos, value in sorted(candidates):
        if value and not identifiers.check_business_id(value) and value not in found:
            found.append(value)
    return tuple(found)


def _merge(file_name, page_count, text, code, source, fields, image_count, warnings):
    """The bar code's values over the text's, disagreements as warnings."""
    values = {
        "iban": fields.iban,
        "reference": fields.reference,
        "amount": fields.amount,
        "due_date": fields.due_date,
    }
    if code:
        for name, from_code in (
            ("iban", code.iban),
            ("reference", code.reference),
            ("amount", code.amount),
            ("due_date", code.due_date),
        ):
            from_text = values[name]
            if from_code is None:
                continue
            if from_text is not None and from_text != from_code:
                warnings.append(
                    f"the text gives {name.replace('_', ' ')} {from_text}, the bank bar code "
                    f"{from_code}: the bar code's value was taken"
                )
            values[name] = from_code
    return ScanResult(
        file_name=file_name,
        page_count=page_count,
        text=text,
        barcode=code,
        barcode_source=source,
        invoice_number=fields.invoice_number,
        business_ids=fields.business_ids,
        image_count=image_count,
        warnings=tuple(warnings),
        **values,
    )


# ---------------------------------------------------------------------------
# scanning service deliveries
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFile:
    name: str
    data: bytes = field(repr=False)

    @property
    def is_image(self):
        return self.name.lower().endswith(IMAGE_EXTENSIONS)

    @property
    def is_xml(self):
        return self.name.lower().endswith(XML_EXTENSIONS) or self.data.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] == b"<"


@dataclass(frozen=True)
class Delivery:
    """One e-invoice of a scanning service with the images that belong to it."""

    invoice: DeliveryFile
    images: tuple = ()


#: Bounds on a delivery ZIP: members and unpacked size.
MAX_MEMBERS = 500
MAX_UNPACKED = 200 * 1024 * 1024


def is_zip(data):
    return (data or b"")[:4] == b"PK\x03\x04"


def split_delivery(data, file_name=None):
    """The e-invoices of a scanning service's ZIP, each with its images
    (pairing rule in the module docstring).

    :raises BadDelivery: not a readable ZIP, too big, or no e-invoice in it
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadDelivery(f"the ZIP file cannot be opened: {exc}", file_name=file_name) from exc
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
        raise BadDelivery(
            f"the ZIP file holds more than {MAX_MEMBERS} files or {MAX_UNPACKED // (1024 * 1024)} MB",
            file_name=file_name,
        )
    files = []
    for member in members:
        try:
            files.append(DeliveryFile(member.filename, archive.read(member)))
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
            raise BadDelivery(f"{member.filename} cannot be unpacked: {exc}", file_name=file_name) from exc
    invoices = [f for f in files if f.is_xml and not f.is_image]
    if not invoices:
        raise BadDelivery(
            "the ZIP file holds no e-invoice (Finvoice or UBL XML)",
            file_name=file_name,
            expected="an XML e-invoice and its images or PDF",
        )
    images = [f for f in files if f.is_image]
    return pair(invoices, images)


def pair(invoices, images):
    """Give each e-invoice (``DeliveryFile``) the images that belong to it.
    With a single e-invoice, every image belongs to it."""
    if len(invoices) == 1:
        return [Delivery(invoices[0], tuple(images))]
    result = []
    for invoice in invoices:
        named = {pair_key(name) for name in image_names_of(invoice.data)}
        key = pair_key(invoice.name)
        mine = tuple(img for img in images if pair_key(img.name) in (named | {key}))
        result.append(Delivery(invoice, mine))
    return result


_PAGE_SUFFIX = re.compile(r"(?:[_-](?:p(?:age|ag|g)?)?\d{1,3})$", re.I)


def pair_key(name):
    """The base name a file pairs by: no folder, no extension, no page number
    suffix (``_1``, ``-p2``, ``_page3``), lower case."""
    base = os.path.basename(str(name or "").replace("\\", "/"))
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return _PAGE_SUFFIX.sub("", stem).lower()


_NAME_ELEMENTS = ("InvoiceUrlNameText", "AttachmentMessageIdentifier", "AttachmentName")


def image_names_of(xml):
    """The file names or identifiers an e-invoice gives for its image(s)."""
    names = []
    try:
        for _event, element in xmlsafe.iterparse(xml, events=("end",)):
            tag = xmlsafe.local(element.tag)
            if tag in _NAME_ELEMENTS and element.text:
                names.append(element.text.strip())
            elif tag == "EmbeddedDocumentBinaryObject" and element.get("filename"):
                names.append(element.get("filename"))
            elif (
                tag == "ID" and xmlsafe.local(element.getparent().tag) == "AdditionalDocumentReference" and element.text
            ):
                names.append(element.text.strip())
    except (LinkFormatError, MalformedDocument, AttributeError):
        return names
    return names
