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
per account (in order of first appearance), whose entries are the payments
(``statement.extra['booked_by_day']``: ``{booking day: (count, sum)}`` of
its booked payments),
each with one :class:`TxDetail` carrying reference, payer and payment date.
A correction is a debit (negative amount, ``reversal=True``); a failed
direct debit has status ``INFO`` (it moved no money). Character set: see
:mod:`.charset`.

:func:`iter_entries` reads a file payment by payment, in memory that does
not grow with the number of payments; :func:`parse` collects what it yields,
so both give the same statements and the same errors. :func:`iter_by_account`
gives the same payments account by account and, within an account, booking
day by booking day, still one payment at a time (the reader the import uses).
"""

import itertools
from datetime import datetime, time
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import EmptyDocument, RecordError

from . import charset as _charset
from .statement import BOOKED, INFORMATION, BankDocument, Entry, Statement, TxDetail

RECORD_LENGTH = 90
CURRENCIES = {"1": "EUR"}
_PAID = ("0", " ")


def iter_records(text, file_name=None, table=None):
    """Yield ``(line number, record)`` for every non-blank record, each
    padded to 90 characters (``table``: a :meth:`str.translate` table
    applied to each record). Lines are read one by one."""
    spans = _charset.iter_line_spans(text)
    first = next(spans, None)
    second = next(spans, None)
    if first is not None and second is None:
        start, end = first
        size = end - start
        if size > RECORD_LENGTH and size % RECORD_LENGTH == 0:
            # no line breaks: fixed-length records one after another
            for i in range(start, end, RECORD_LENGTH):
                record = text[i : i + RECORD_LENGTH]
                yield 1, record.translate(table) if table is not None else record
            return
    lines = itertools.chain([span for span in (first, second) if span is not None], spans)
    for number, (start, end) in enumerate(lines, 1):
        if _charset.is_blank(text, start, end):
            continue
        if end - start > RECORD_LENGTH and not _charset.is_blank(text, start + RECORD_LENGTH, end):
            head = text[start : start + 1]
            raise RecordError(
                f"record is {end - start} characters long",
                file_name=file_name,
                line=number,
                element=f"record {head.translate(table) if table is not None else head}",
                expected=f"{RECORD_LENGTH} characters",
            )
        record = text[start : min(end, start + RECORD_LENGTH)]
        if table is not None:
            record = record.translate(table)
        yield number, record.ljust(RECORD_LENGTH)


def parse(data, file_name=None, charset=None, check_totals=True):
    """Parse a KTL file (bytes) into a :class:`BankDocument` of kind
    ``'ktl'``: the entries of :func:`iter_entries` collected into their
    statements (one per account, in order of first appearance)."""
    reader = _Reader(file_name, check_totals)
    statements = {}
    for statement, entry in reader.read(data, charset):
        statements.setdefault(id(statement), statement).entries.append(entry)
    document = BankDocument(kind="ktl", file_name=file_name, created=reader.created)
    document.extra["charset"] = reader.charset
    document.extra["batches"] = reader.batches
    document.statements = list(statements.values())
    return document


def iter_entries(data, file_name=None, charset=None, check_totals=True):
    """Yield ``(statement_header, entry)`` for every payment of a KTL file,
    in file order, with memory that does not grow with the number of
    payments (the file's text is held once; records are read one by one).

    The header is one :class:`Statement` object per account (its
    ``entries`` stay empty) shared by all its payments; its period
    (``from_date``/``to_date``) covers the payments yielded so far, so it is
    complete once its last payment has been yielded. A file whose batches
    alternate between accounts gives an account's payments in more than one
    run, with the same header each time. A batch trailer is checked when it
    is read, after its payments have been yielded: a mismatch, or a missing
    trailer at the end, raises :class:`RecordError` naming the trailer's
    line then (with ``check_totals=False`` nothing is checked).
    """
    yield from _Reader(file_name, check_totals).read(data, charset)


#: Above this many account and day groups that are not each in one piece,
#: :func:`iter_by_account` sorts the payments in memory instead of reading
#: the file once per group.
MAX_PASSES = 32


def iter_by_account(data, file_name=None, charset=None, check_totals=True):
    """Yield ``(statement_header, entry)`` for every payment of a KTL file,
    account by account (in order of first appearance) and, within an
    account, booking day by booking day (likewise), each day's payments in
    file order: the pairs of an account come together even when its batches
    alternate with other accounts', and so do the payments of one day.

    The file is read once to check it whole (every error :func:`parse`
    raises is raised before anything is yielded) and to learn its accounts
    and days; then once more when every account and day is in one piece, as
    is usual, else once per account and day (:data:`MAX_PASSES` at most;
    beyond that the payments are sorted in memory). Memory holds the file's
    text and one payment, not the file's payments. Each header is the
    complete one :func:`parse` returns (without entries): its period covers
    all of the account's payments from the first pair on.
    """
    headers = {}
    keys = []  # (account, day) groups in order of first appearance
    seen = set()
    broken = False  # some group is not in one piece
    previous = None
    for statement, entry in _Reader(file_name, check_totals).read(data, charset):
        headers.setdefault(statement.account_other, statement)
        key = (statement.account_other, entry.booking_date)
        if key != previous:
            if key in seen:
                broken = True
            else:
                seen.add(key)
                keys.append(key)
            previous = key
    order = {account: i for i, account in enumerate(headers)}
    in_file = list(keys)
    keys.sort(key=lambda key: order[key[0]])  # stable: days keep their order
    if not broken and keys == in_file:
        for statement, entry in _Reader(file_name, False).read(data, charset):
            yield headers[statement.account_other], entry
        return
    if len(keys) > MAX_PASSES:
        rank = {key: i for i, key in enumerate(keys)}
        pairs = [(headers[st.account_other], entry) for st, entry in _Reader(file_name, False).read(data, charset)]
        pairs.sort(key=lambda pair: rank[(pair[0].account_other, pair[1].booking_date)])
        yield from pairs
        return
    for account, day in keys:
        for statement, entry in _Reader(file_name, False).read(data, charset):
            if statement.account_other == account and entry.booking_date == day:
                yield headers[account], entry


class _Reader:
    """Reads the records of one KTL file, batch by batch."""

    def __init__(self, file_name, check_totals=True):
        self.file_name = file_name
        self.check_totals = check_totals
        self.charset = None
        self.created = None
        self.batches = []

    def read(self, data, charset=None):
        file_name = self.file_name
        text, self.charset, table = _charset.decode_lazily(data, charset, file_name)
        if _charset.is_blank(text):
            raise EmptyDocument("the file is empty", file_name=file_name)
        statements = {}
        batch = totals = None
        last_line = 0
        for line, rec in iter_records(text, file_name, table):
            last_line = line
            kind = rec[0]
            if kind == "0":
                if batch is not None:
                    _close(batch, totals, None, file_name, self.check_totals)
                batch = _header(line, rec, file_name)
                totals = _totals()
                self.batches.append(batch)
                if self.created is None:
                    self.created = batch["created"]
            elif kind in "35":
                if batch is None:
                    raise RecordError(
                        "payment record before the batch header (record 0)",
                        file_name=file_name,
                        line=line,
                        element=f"record {kind}",
                        expected="a record 0 first",
                    )
                entry, bban = _payment(line, rec, file_name)
                _count(totals, entry)
                statement = statements.get(bban)
                if statement is None:
                    statement = statements[bban] = Statement(
                        kind="ktl",
                        account_iban=_charset.fi_iban(bban),
                        account_other=bban,
                        currency="EUR",
                        created=batch["created"],
                    )
                    statement.extra.update({"service_id": batch["service_id"], "bank_id": batch["bank_id"]})
                day = entry.booking_date
                if entry.status == BOOKED:
                    # the import knows a day's total before reading its payments
                    days = statement.extra.setdefault("booked_by_day", {})
                    count, total = days.get(day, (0, Decimal("0.00")))
                    days[day] = (count + 1, total + entry.amount)
                if day:
                    if statement.from_date is None or day < statement.from_date:
                        statement.from_date = day
                    if statement.to_date is None or day > statement.to_date:
                        statement.to_date = day
                yield statement, entry
            elif kind == "9":
                if batch is None:
                    raise RecordError(
                        "batch trailer (record 9) without batch header",
                        file_name=file_name,
                        line=line,
                        element="record 9",
                        expected="a record 0 first",
                    )
                _close(batch, totals, (line, rec), file_name, self.check_totals)
                batch = totals = None
            else:
                raise RecordError(
                    f"unknown record type {kind!r}",
                    file_name=file_name,
                    line=line,
                    element="record",
                    expected="0, 3, 5 or 9",
                )
        if batch is not None:
            _close(batch, totals, None, file_name, self.check_totals, last_line)


def _totals():
    """Running counts and sums of one batch, by trailer field."""
    zero = Decimal("0.00")
    return {"count": [0, zero], "correction_count": [0, zero], "failed_count": [0, zero]}


def _count(totals, entry):
    if entry.reversal:
        key = "correction_count"
    elif entry.extra["failed"]:
        key = "failed_count"
    else:
        key = "count"
    slot = totals[key]
    slot[0] += 1
    slot[1] += abs(entry.amount)


def _header(line, rec, file_name):
    day = _charset.yymmdd(rec[1:7], file_name=file_name, line=line, element="record 0 creation date", required=True)
    hhmm = rec[7:11]
    if not hhmm.isdecimal() or int(hhmm[:2]) > 23 or int(hhmm[2:]) > 59:
        raise RecordError(
            f"creation time {hhmm!r} is not HHMM",
            file_name=file_name,
            line=line,
            element="record 0 creation time",
            expected="HHMM",
        )
    return {
        "line": line,
        "created": datetime.combine(day, time(int(hhmm[:2]), int(hhmm[2:]))),
        "bank_id": rec[11:13].strip() or None,
        "service_id": rec[13:22].strip() or None,
        "currency_code": rec[22].strip() or None,
    }


def _payment(line, rec, file_name):
    kind = rec[0]
    element = f"record {kind}"

    def fail(message, field, expected):
        return RecordError(message, file_name=file_name, line=line, element=f"{element} {field}", expected=expected)

    bban = rec[1:15].strip()
    if not bban.isdecimal():
        raise fail(
            f"account {bban!r} is not a 14-digit account number", "account", "the account in machine form, 14 digits"
        )
    booking = _charset.yymmdd(
        rec[15:21], file_name=file_name, line=line, element=f"{element} booking date", required=True
    )
    paid = _charset.yymmdd(rec[21:27], file_name=file_name, line=line, element=f"{element} payment date")
    currency = CURRENCIES.get(rec[75])
    if currency is None:
        raise fail(f"currency code {rec[75]!r} is unknown", "currency code", "1 (euro)")
    amount = _charset.cents(rec[77:87], file_name=file_name, line=line, element=f"{element} amount")
    correction = rec[87]
    if correction not in ("0", "1", " "):
        raise fail(f"correction id {correction!r} is unknown", "correction id", "0 (payment) or 1 (correction)")
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
        amount=signed,
        currency=currency,
        archive_id=archive,
        counterparty_name=name,
        debtor_name=name,
        creditor_reference=ref or None,
        creditor_reference_kind=kind_of_ref,
        creditor_references=[ref] if ref else [],
        payment_date=paid,
    )
    entry = Entry(
        amount=signed,
        currency=currency,
        status=INFORMATION if failed else BOOKED,
        booking_date=booking,
        archive_id=archive,
        reversal=is_correction,
        details=[detail],
        line=line,
    )
    entry.extra.update(
        {
            "record_type": kind,
            "name_source": rec[76].strip() or None,
            "delivery_method": rec[88].strip() or None,
            "feedback_code": feedback.strip() or None,
            "direct_debit": kind == "5",
            "failed": failed,
        }
    )
    return entry, bban


def _close(batch, totals, trailer, file_name, check_totals, last_line=None):
    actual = {key: (count, total) for key, (count, total) in totals.items()}
    batch["actual"] = actual
    if trailer is None:
        if check_totals:
            raise RecordError(
                "the batch has no trailer (record 9); the file may be truncated",
                file_name=file_name,
                line=last_line or batch["line"],
                element="record 9",
                expected="a record 9 with the batch's counts and sums",
            )
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
            raise RecordError(
                f"trailer field {count_text!r}/{sum_text!r} is not a number",
                file_name=file_name,
                line=line,
                element="record 9",
                expected="counts of 6 and sums of 11 digits",
            )
        stated = (int(count_text), _charset.cents(sum_text, file_name=file_name, line=line, element="record 9 sum"))
        batch[key] = stated
        if stated != actual[key]:
            label = {"count": "payments", "correction_count": "corrections", "failed_count": "failed direct debits"}[
                key
            ]
            problems.append(
                f"{label}: trailer says {stated[0]} totalling {stated[1]}, "
                f"batch has {actual[key][0]} totalling {actual[key][1]}"
            )
    if problems and check_totals:
        raise RecordError(
            "batch trailer does not match its records: " + "; ".join(problems),
            file_name=file_name,
            line=line,
            element="record 9",
            expected="counts and sums equal to the batch's records",
        )
    batch["mismatch"] = problems
