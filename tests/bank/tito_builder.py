"""TITO statements for tests, record by record in the fixed-width layout
of the Finnish banks' machine-readable statement (T00 basic record, T10
transactions and their level-1 itemisations, T11 additional information of
types 00 (message) and 11 (SEPA: end-to-end id, account, BIC), T40 balance,
T50 totals of the day and of the statement period), in Latin-1 with CRLF
line ends as the banks deliver them. The header is that of the public
sample ``tests/data/bank/tito_latin1.txt`` with the statement's own number,
dates and balances."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .large_files import SAMPLES


def _cents(value, digits=18):
    cents = int((Decimal(str(value)) * 100).to_integral_value())
    return f"{'-' if cents < 0 else '+'}{abs(cents):0{digits}d}"


def _day(value):
    return value.strftime("%y%m%d")


def _fixed(text, width):
    text = str(text or "")
    if len(text) > width:
        raise ValueError(f"{text!r} is longer than its field ({width})")
    return text.ljust(width)


@dataclass
class Payment:
    """One payment of a debit: its amount (positive), creditor name and
    account, and the end-to-end id the bank reports back (T11 type 11)."""

    amount: Decimal
    name: str = ""
    iban: str = ""
    end_to_end_id: str = ""


@dataclass
class Debit:
    """A booked debit (T10 type 2, code 710): ``amount`` positive;
    ``message`` a T11 type 00 free message of the entry; ``payments``
    itemise the entry as level-1 T10s with their own T11 type 11 (when
    ``itemised``) or, for a single payment, give the entry its T11 type 11."""

    amount: Decimal
    archive_id: str
    name: str = ""
    message: str = ""
    payments: list = field(default_factory=list)
    itemised: bool = False


def t11(subtype, data):
    return f"T11{8 + len(data):03d}{subtype}{data}"


def t11_sepa(end_to_end_id, iban="", bic=""):
    return t11("11", _fixed(end_to_end_id, 35) + _fixed(iban, 35) + _fixed(bic, 35))


def t10(number, archive_id, day, amount, name="", level=" ", text="Tilisiirto", code="710", kind="2"):
    record = (
        "T10188"
        + f"{number:06d}"
        + _fixed(archive_id, 18)
        + _day(day)
        + _day(day)
        + _day(day)
        + kind
        + code
        + _fixed(text, 35)
        + _cents(amount)
        + " "  # receipt code
        + "J"  # delivery method (file)
        + _fixed(name, 35)
        + " "  # name source
        + _fixed("", 14)  # account (the SEPA account comes in T11 type 11)
        + " "
        + _fixed("", 20)  # reference
        + _fixed("", 8)  # form number
        + level
    )
    assert len(record) == 188, len(record)
    return record


def statement(debits, day=date(2024, 3, 5), number=1, opening=Decimal("10000")):
    """The bytes of a one-day TITO statement of the account of the sample
    (``FI4819503000000010``) with ``debits``; balances and totals agree."""
    header = (SAMPLES / "tito_latin1.txt").read_bytes().decode("latin-1").splitlines()[0].ljust(322)
    header = (
        header[:23]
        + f"{number:03d}"
        + _day(day)
        + _day(day)
        + _day(day)
        + "2230"
        + header[48:65]
        + _day(day)
        + _cents(opening)
        + header[90:]
    )
    out = [header]
    total = Decimal(0)
    for n, debit in enumerate(debits, 1):
        amount = Decimal(str(debit.amount))
        total += amount
        out.append(t10(n, debit.archive_id, day, -amount, name=debit.name))
        if debit.message:
            out.append(t11("00", _fixed(debit.message, 35)))
        if debit.itemised:
            for m, payment in enumerate(debit.payments, 1):
                out.append(
                    t10(n, f"{debit.archive_id[:14]}{m:04d}", day, -Decimal(str(payment.amount)), payment.name, "1")
                )
                out.append(t11_sepa(payment.end_to_end_id, payment.iban))
        elif len(debit.payments) == 1:
            out.append(t11_sepa(debit.payments[0].end_to_end_id, debit.payments[0].iban))
    closing = Decimal(str(opening)) - total
    out.append(f"T40050{_day(day)}{_cents(closing)}{_cents(closing)}")
    for period in "12":
        out.append(f"T50067{period}{_day(day)}{0:08d}{_cents(0)}{len(debits):08d}{_cents(-total)}")
    return ("\r\n".join(out) + "\r\n").encode("latin-1")
