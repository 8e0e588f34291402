"""Salary lists as CSV: what a payroll system without pain.001 export gives.

The file has a header row and one salary a row. Columns, in any order, by
their English or Finnish name (case does not matter)::

    name;iban;amount;date;message
    Maija Meikäläinen;FI2112345600000785;2450,00;2026-12-15;Palkka 12/2026

* ``name`` (``nimi``): the employee, as the bank shows it (at most 70 characters)
* ``iban`` (``tilinumero``, ``tili``): the employee's IBAN
* ``amount`` (``summa``, ``määrä``): net pay, ``2450,00``, ``2450.00`` or ``2 450,00``
* ``date`` (``päivä``, ``maksupäivä``, ``eräpäivä``): the pay day, ``2026-12-15`` or ``15.12.2026``
* ``message`` (``viesti``): optional text to the employee (at most 140 characters)
* ``bic`` (optional): the BIC of the employee's bank, for accounts outside Finland

The separator is ``;``, ``,`` or a tab (the header row tells which); the
text is UTF-8 (with or without a byte order mark), or Windows-1252 as
spreadsheets on Windows save it. Every problem raises
:class:`~odoo.addons.heeros_link_base.formats.errors.RecordError` naming the
file, the line and the column.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from odoo.addons.heeros_link_base.formats.errors import EmptyDocument, RecordError

COLUMNS = {
    "name": ("name", "nimi"),
    "iban": ("iban", "tilinumero", "tili"),
    "amount": ("amount", "summa", "määrä"),
    "date": ("date", "päivä", "maksupäivä", "eräpäivä"),
    "message": ("message", "viesti"),
    "bic": ("bic",),
}
REQUIRED = ("name", "iban", "amount", "date")
MAX_ROWS = 100_000
_AMOUNT_RE = re.compile(r"\d+(\.\d{1,2})?")


@dataclass(frozen=True)
class Salary:
    """One row: a net salary to pay."""

    line: int
    name: str
    iban: str
    amount: Decimal
    pay_date: date
    message: str | None = None
    bic: str | None = None


def _text(data, file_name):
    if not data or not data.strip():
        raise EmptyDocument("the salary list is empty", file_name=file_name)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _columns(header, file_name):
    found = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for column, names in COLUMNS.items():
            if key in names:
                if column in found:
                    raise RecordError(
                        f"column {title.strip()!r} appears twice", file_name=file_name, line=1, element=title.strip()
                    )
                found[column] = index
    missing = [column for column in REQUIRED if column not in found]
    if missing:
        raise RecordError(
            f"the header row has no column {', '.join(missing)}",
            file_name=file_name,
            line=1,
            expected="a header row: name;iban;amount;date;message",
        )
    return found


def _amount(value, line, file_name):
    text = value.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not _AMOUNT_RE.fullmatch(text):
        raise RecordError(
            f"amount {value!r} is not a sum of money",
            file_name=file_name,
            line=line,
            element="amount",
            expected="e.g. 2450,00 with at most two decimals",
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RecordError(
            f"amount {value!r} is not a number", file_name=file_name, line=line, element="amount"
        ) from None
    if amount <= 0:
        raise RecordError(
            f"amount {value} is not positive",
            file_name=file_name,
            line=line,
            element="amount",
            expected="an amount greater than zero",
        )
    return amount


def _date(value, line, file_name):
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RecordError(
        f"date {value!r} is not a date",
        file_name=file_name,
        line=line,
        element="date",
        expected="2026-12-15 or 15.12.2026",
    )


def parse(data, file_name=None):
    """The :class:`Salary` rows of a salary list (bytes)."""
    text = _text(data, file_name)
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None) or []
    columns = _columns(header, file_name)
    salaries = []
    for number, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(salaries) >= MAX_ROWS:
            raise RecordError(f"more than {MAX_ROWS} salaries", file_name=file_name, line=number)

        def cell(column, row=row):
            index = columns.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        for column in REQUIRED:
            if not cell(column):
                raise RecordError(f"{column} is empty", file_name=file_name, line=number, element=column)
        name = cell("name")
        if len(name) > 70:
            raise RecordError(
                f"name is {len(name)} characters long",
                file_name=file_name,
                line=number,
                element="name",
                expected="at most 70 characters",
            )
        try:
            iban = stdnum_iban.validate(cell("iban"))
        except ValidationError as exc:
            raise RecordError(
                f"IBAN {cell('iban')!r} of {name} is not valid: {exc}",
                file_name=file_name,
                line=number,
                element="iban",
                expected="an IBAN with valid check digits",
            ) from None
        bic = cell("bic") or None
        if bic:
            try:
                bic = stdnum_bic.validate(bic)
            except ValidationError as exc:
                raise RecordError(
                    f"BIC {bic!r} of {name} is not valid: {exc}", file_name=file_name, line=number, element="bic"
                ) from None
        message = cell("message") or None
        if message and len(message) > 140:
            raise RecordError(
                f"message is {len(message)} characters long",
                file_name=file_name,
                line=number,
                element="message",
                expected="at most 140 characters",
            )
        salaries.append(
            Salary(
                line=number,
                name=name,
                iban=iban,
                amount=_amount(cell("amount"), number, file_name),
                pay_date=_date(cell("date"), number, file_name),
                message=message,
                bic=bic,
            )
        )
    if not salaries:
        raise EmptyDocument("the salary list has a header but no salaries", file_name=file_name)
    return salaries
