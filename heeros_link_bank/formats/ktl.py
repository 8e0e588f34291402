"""KTL: the Finnish incoming reference payment file ("viitesiirtoaineisto",
also called SVM or "saapuvat viitemaksut").

Records are 90 characters (one a line; trailing blanks may be cut off, or a
file may have no line breaks at all). A file holds one or more batches:

* ``0`` batch header: creation date and time, bank id, the biller's service
  id, currency code (``1`` = euro);
* ``3`` reference payment and ``5`` direct debit payment, same layout:
  account (14-digit machine form), booking date, payment date, archive id
  (16), reference (20), payer's name abbreviation (12), currency code, name
  source, amount in cents (10), correction id (``0`` normal, ``1``
  correction), delivery method (``A`` from the payer's bank online, ``K``
  branch, ``J`` the bank's system), feedback code (``0``/blank = paid;
  anything else = the direct debit was not paid);
* ``9`` batch trailer: count and sum of payments, count and sum of
  corrections, count and sum of failed direct debits.

The trailer is checked against the batch (``check_totals=True``): payments
are the records that are neither corrections nor failed, corrections those
with correction id ``1``, failed those with a feedback code other than ``0``
or blank. A mismatch, or a batch without trailer, raises :class:`RecordError`
naming the trailer's line. With ``check_totals=False`` the file is read
anyway and the trailers are only reported in ``document.extra['batches']``.

Result: a :class:`BankDocument` of kind ``'ktl'`` with one :class:`Statement`
per account (in order of first appearance), whose entries are the payments,
each with one :class:`TxDetail` carrying reference, payer and payment date.
A correction is a debit (negative amount, ``reversal=True``); a failed
direct debit has status ``INFO`` (it moved no money). Character set: see
:mod:`.charset`.
"""

from datetime import datetime, time
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import EmptyDocument, RecordError

from . import charset as _charset
from .statement import BOOKED, INFORMATION, BankDocument, Entry, Statement, TxDetail

RECORD_LENGTH = 90
CURRENCIES = {"1": "EUR"}
_PAID = ("0", " ")


def iter_records(text, file_name=None):
    """Yield ``(line number, record)`` for every non-blank record, each
    padded to 90 characters."""
    lines = text.splitlines()
    if len(lines) == 1 and len(lines[0]) > RECORD_LENGTH and len(lines[0]) % RECORD_LENGTH == 0:
        # no line breaks: fixed-length records one after another
        single = lines[0]
        for i in range(0, len(single), RECORD_LENGTH):
            yield 1, single[i:i + RECORD_LENGTH]
        return
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) > RECORD_LENGTH and line[RECORD_LENGTH:].strip():
            raise RecordError(f"record is {len(line)} characters long", file_name=file_name,
                              line=number, element=f"record {line[:1]}",
                              expected=f"{RECORD_LENGTH} characters")
        yield number, line[:RECORD_LENGTH].ljust(RECORD_LENGTH)


def parse(data, file_name=None, charset=None, check_totals=True):
    """Parse a KTL file (bytes) into a :class:`BankDocument` of kind ``'ktl'``."""
    text, used = _charset.decode(data, charset, file_name)
    if not text.strip():
        raise EmptyDocument("the file is empty", file_name=file_name)
    document = BankDocument(kind="ktl", file_name=file_name)
    document.extra["charset"] = used
    batches = document.extra["batches"] = []
    statements = {}
    batch = None
    last_line = 0
    for line, rec in iter_records(text, file_name):
        last_line = line
        kind = rec[0]
        if kind == "0":
            if batch is not None:
                _close(batch, None, file_name, check_totals)
            batch = _header(line, rec, file_name)
            batches.append(batch)
            if document.created is None:
                document.created = batch["created"]
        elif kind in "35":
            if batch is None:
                raise RecordError("payment record before the batch header (record 0)",
                                  file_name=file_name, line=line, element=f"record {kind}",
                                  expected="a record 0 first")
            entry, bban = _payment(line, rec, file_name)
            batch["records"].append(entry)
            statement = statements.get(bban)
            if statement is None:
                statement = statements[bban] = Statement(
                    kind="ktl", account_iban=_charset.fi_iban(bban), account_other=bban,
                    currency="EUR", created=batch["created"])
                statement.extra.update({"service_id": batch["service_id"],
                                        "bank_id": batch["bank_id"]})
            statement.entries.append(entry)
        elif kind == "9":
            if batch is None:
                raise RecordError("batch trailer (record 9) without batch header",
                                  file_name=file_name, line=line, element="record 9",
                                  expected="a record 0 first")
            _close(batch, (line, rec), file_name, check_totals)
            batch = None
        else:
            raise RecordError(f"unknown record type {kind!r}", file_name=file_name, line=line,
                              element="record", expected="0, 3, 5 or 9")
    if batch is not None:
        _close(batch, None, file_name, check_totals, last_line)
    for statement in statements.values():
        dates = [e.booking_date for e in statement.entries if e.booking_date]
        if dates:
            statement.from_date, statement.to_date = min(dates), max(dates)
    for batch in batches:
        del batch["records"]
    document.statements = list(statements.values())
    return document


def _header(line, rec, file_name):
    day = _charset.yymmdd(rec[1:7], file_name=file_name, line=line,
                          element="record 0 creation date", required=True)
    hhmm = rec[7:11]
    if not hhmm.isdecimal() or int(hhmm[:2]) > 23 or int(hhmm[2:]) > 59:
        raise RecordError(f"creation time {hhmm!r} is not HHMM", file_name=file_name, line=line,
                          element="record 0 creation time", expected="HHMM")
    return {
        "line": line,
        "created": datetime.combine(day, time(int(hhmm[:2]), int(hhmm[2:]))),
        "bank_id": rec[11:13].strip() or None,
        "service_id": rec[13:22].strip() or None,
        "currency_code": rec[22].strip() or None,
        "records": [],
    }


def _payment(line, rec, file_name):
    kind = rec[0]
    element = f"record {kind}"

    def fail(message, field, expected):
        return RecordError(message, file_name=file_name, line=line,
                           element=f"{element} {field}", expected=expected)

    bban = rec[1:15].strip()
    if not bban.isdecimal():
        raise fail(f"account {bban!r} is not a 14-digit account number", "account",
                   "the account in machine form, 14 digits")
    booking = _charset.yymmdd(rec[15:21], file_name=file_name, line=line,
                              element=f"{element} booking date", required=True)
    paid = _charset.yymmdd(rec[21:27], file_name=file_name, line=line,
                           element=f"{element} payment date")
    currency = CURRENCIES.get(rec[75])
    if currency is None:
        raise fail(f"currency code {rec[75]!r} is unknown", "currency code", "1 (euro)")
    amount = _charset.cents(rec[77:87], file_name=file_name, line=line,
                            element=f"{element} amount")
    correction = rec[87]
    if correction not in ("0", "1", " "):
        raise fail(f"correction id {correction!r} is unknown", "correction id",
                   "0 (payment) or 1 (correction)")
    feedback = rec[89]
    is_correction = correction == "1"
    failed = not is_correction and feedback not in _PAID
    signed = -amount if is_correction else amount
    archive = rec[27:43].strip() or None
    ref = rec[43:63].strip()
    if ref.isdecimal():
        ref = ref.lstrip("0")
    kind_of_ref = fi_reference.kind(ref) if ref else None
    if kind_of_ref:
        ref = fi_reference.compact(ref)
    name = rec[63:75].strip() or None
    detail = TxDetail(
        amount=signed, currency=currency, archive_id=archive,
        counterparty_name=name, debtor_name=name,
        creditor_reference=ref or None, creditor_reference_kind=kind_of_ref,
        creditor_references=[ref] if ref else [],
        payment_date=paid,
    )
    entry = Entry(
        amount=signed, currency=currency,
        status=INFORMATION if failed else BOOKED,
        booking_date=booking, archive_id=archive, reversal=is_correction,
        details=[detail], line=line,
    )
    entry.extra.update({
        "record_type": kind,
        "name_source": rec[76].strip() or None,
        "delivery_method": rec[88].strip() or None,
        "feedback_code": feedback.strip() or None,
        "direct_debit": kind == "5",
        "failed": failed,
    })
    return entry, bban


def _close(batch, trailer, file_name, check_totals, last_line=None):
    records = batch["records"]
    counted = {
        "count": [e for e in records if not e.reversal and not e.extra["failed"]],
        "correction_count": [e for e in records if e.reversal],
        "failed_count": [e for e in records if e.extra["failed"]],
    }
    actual = {key: (len(items), sum((abs(e.amount) for e in items), Decimal("0.00")))
              for key, items in counted.items()}
    batch["actual"] = actual
    if trailer is None:
        if check_totals:
            raise RecordError(
                "the batch has no trailer (record 9); the file may be truncated",
                file_name=file_name, line=last_line or batch["line"], element="record 9",
                expected="a record 9 with the batch's counts and sums")
        return
    line, rec = trailer
    batch["trailer_line"] = line
    fields = (("count", 1, 7, 18), ("correction_count", 18, 24, 35), ("failed_count", 35, 41, 52))
    problems = []
    for key, start, mid, end in fields:
        count_text, sum_text = rec[start:mid], rec[mid:end]
        if not count_text.strip() and not sum_text.strip():
            continue  # older trailers leave the failed-direct-debit totals blank
        if not count_text.isdecimal() or not sum_text.isdecimal():
            raise RecordError(f"trailer field {count_text!r}/{sum_text!r} is not a number",
                              file_name=file_name, line=line, element="record 9",
                              expected="counts of 6 and sums of 11 digits")
        stated = (int(count_text), _charset.cents(sum_text, file_name=file_name, line=line,
                                                  element="record 9 sum"))
        batch[key] = stated
        if stated != actual[key]:
            label = {"count": "payments", "correction_count": "corrections",
                     "failed_count": "failed direct debits"}[key]
            problems.append(
                f"{label}: trailer says {stated[0]} totalling {stated[1]}, "
                f"batch has {actual[key][0]} totalling {actual[key][1]}")
    if problems and check_totals:
        raise RecordError(
            "batch trailer does not match its records: " + "; ".join(problems),
            file_name=file_name, line=line, element="record 9",
            expected="counts and sums equal to the batch's records")
    batch["mismatch"] = problems
