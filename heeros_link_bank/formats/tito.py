"""TITO: the Finnish fixed-width account statement ("konekielinen tiliote").

A TITO file is a sequence of records; each starts with ``T``, a two-digit
record type and its own length (positions 4-6), so records are read by that
length whether the file has one record per line, lines whose trailing
blanks were cut off, or no line breaks at all. Records used:

* ``T00`` basic record: account (14-digit machine form), statement number,
  period, creation time, customer id, opening balance and its date, currency,
  account name, credit limit, owner, bank contact, IBAN and BIC. Each ``T00``
  starts a new :class:`Statement`.
* ``T10`` transaction (``T80`` notification transaction, not booked: its
  entry gets status ``INFO``): number, archive id, booking/value/payment
  dates, type (1 credit, 2 debit, 3 and 4 their corrections, 9 rejected),
  Finnish transaction code (``705``, ``710``...) and explanation text, signed
  amount, counterparty name and account, reference, form number, level.
  A ``T10`` with level ``' '`` or ``'0'`` is an entry; one with level
  ``'1'``-``'9'`` and the same transaction number as the entry before it
  itemises that entry (it becomes one of its details; otherwise, with
  another number, it is read as an entry of its own).
* ``T11`` (``T81``) additional information of the ``T10``/``T80`` before it,
  by type: 00 free message, 01 number of items, 02 invoice, 03 card, 04
  correction, 05 foreign currency, 06 principal's information, 07 bank's
  information, 08 payment purpose, 09 name detail, 11 SEPA information
  (end-to-end id, IBAN, BIC, ultimate parties, payer id, archive id). Other
  types are kept as raw text in the detail's ``extra`` (``T11_nn``).
* ``T40`` balance: booking date, booked and available balance. The last one
  of a statement gives ``CLBD``/``CLAV``, earlier ones ``ITBD``/``ITAV``.
* ``T50`` cumulative totals (period 1 day, 2 statement period, 3 month,
  4 year) and ``T51`` cumulative corrections: all are kept in
  ``statement.extra['cumulative']``; the statement's ``credit_count``/
  ``credit_sum``/``debit_count``/``debit_sum`` come from the period-2 record,
  or from the day record of a one-day statement.
* ``T60`` special and ``T70`` bank's notice: the notice text goes to
  ``statement.additional_info``; any other record is kept raw in
  ``statement.extra['other_records']``.

Character set: see :mod:`.charset` (SFS 4017 7-bit unless the file has
8-bit bytes). Amounts are in cents with an explicit sign; ``000000`` dates
are absent. Errors are :class:`RecordError` naming the file, the line, the
record (``record T10``) and the field.

:func:`iter_entries` reads a file entry by entry, in memory that does not
grow with the number of entries; :func:`parse` collects what it yields, so
both give the same statements and the same errors.
"""

from datetime import datetime, time

from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import EmptyDocument, RecordError

from . import charset as _charset
from .statement import BOOKED, INFORMATION, Balance, BankDocument, Entry, Statement, TxDetail

_MAIN_LEVELS = (" ", "0", "")
#: Length of each record's standard layout: a record that declares itself
#: shorter is read as if blank-padded to it, so a missing mandatory field is
#: reported as such.
_LAYOUT_LENGTH = {"00": 322, "10": 188, "80": 188, "11": 8, "81": 8, "40": 50, "50": 67, "51": 67, "70": 9}
_NOT_PROVIDED = {"NOTPROVIDED", "NOT PROVIDED"}


def parse(data, file_name=None, charset=None):
    """Parse a TITO file (bytes) into a :class:`BankDocument` of kind
    ``'tito'``, one statement per ``T00``: the entries of
    :func:`iter_entries` collected into their statements."""
    reader = _Reader(file_name)
    statements = []
    for statement, entry in reader.read(data, charset):
        if not statements or statements[-1] is not statement:
            statements.append(statement)
        if entry is not None:
            statement.entries.append(entry)
    document = BankDocument(kind="tito", file_name=file_name, statements=statements)
    document.extra["charset"] = reader.charset
    if document.statements:
        first = document.statements[0]
        document.created = first.created
    return document


def iter_entries(data, file_name=None, charset=None):
    """Yield ``(statement_header, entry)`` for every entry of a TITO file,
    in file order, with memory that does not grow with the number of
    entries (the file's text is held once; records are read one by one).

    The header of a statement is one :class:`Statement` object (its
    ``entries`` stay empty) shared by all its entries; a statement without
    any entry is yielded once as ``(statement, None)``. An entry is yielded
    when it is complete (its ``T11`` records and itemisations read), and the
    header is complete (closing balances, ``T50`` totals, ``T70`` notices)
    by the time its last entry has been yielded. Errors are those of
    :func:`parse`, raised when the reading reaches them.
    """
    yield from _Reader(file_name).read(data, charset)


def iter_records(text, file_name=None, table=None):
    """Yield ``(line number, record text)`` for every record of a TITO file,
    each padded with blanks to the length it declares (``table``: a
    :meth:`str.translate` table applied to each record)."""
    for number, (start, end) in enumerate(_charset.iter_line_spans(text), 1):
        pos = start
        while not _charset.is_blank(text, pos, end):
            head = text[pos : min(pos + 6, end)]
            if table is not None:
                head = head.translate(table)
            if len(head) < 6 or head[0] != "T" or not head[1:3].isdecimal() or not head[3:6].isdecimal():
                raise RecordError(
                    f"record {head!r} does not start with T, a record type and a length",
                    file_name=file_name,
                    line=number,
                    element="record",
                    expected="Tnnlll, e.g. T00322 or T10188",
                )
            length = int(head[3:6])
            if length < 6:
                raise RecordError(
                    f"record length {length} is too short",
                    file_name=file_name,
                    line=number,
                    element=f"record T{head[1:3]}",
                    expected="the record's length in positions 4-6",
                )
            stop = min(pos + length, end)
            record = text[pos:stop]
            if table is not None:
                record = record.translate(table)
            pos = stop
            yield number, record.ljust(length)


class _Reader:
    """Reads the records of one TITO file into statements and entries."""

    def __init__(self, file_name):
        self.file_name = file_name
        self.charset = None
        self.statement = None
        self.t40 = []
        self.entry = None  # the current main-level entry, yielded when complete
        self.target = None  # (entry, detail, is_item) that T11 records add to
        self.itemised = False  # current entry has T10 itemisations
        self.entry_texts = {}  # texts of the current entry, joined when it is complete
        self.statement_texts = {}  # texts of the statement, joined when it closes
        self.entries = 0  # entries of the current statement
        self.ready = []  # (statement, entry) pairs complete, to be yielded

    def read(self, data, charset=None):
        """Yield ``(statement, entry)`` pairs (see :func:`iter_entries`)."""
        text, self.charset, table = _charset.decode_lazily(data, charset, self.file_name)
        if _charset.is_blank(text):
            raise EmptyDocument("the file is empty", file_name=self.file_name)
        ready = self.ready
        for line, record in iter_records(text, self.file_name, table):
            self.record(line, record)
            if ready:
                yield from ready
                ready.clear()
        self.close_statement()
        yield from ready
        ready.clear()

    def append(self, obj, key, value, sep=" "):
        """Add ``value`` to the text ``key`` of ``obj`` (an attribute, or a
        key when ``obj`` is a dict). The parts are joined once, when the
        entry is complete (the statement's own texts when it closes), so
        that many records adding to one text take time linear in their
        number."""
        if not value:
            return
        texts = self.statement_texts if obj is self.statement else self.entry_texts
        slot = texts.get((id(obj), key))
        if slot is None:
            old = obj.get(key) if isinstance(obj, dict) else getattr(obj, key)
            slot = texts[(id(obj), key)] = (obj, key, sep, [old] if old else [])
        slot[3].append(value)

    @staticmethod
    def join_texts(texts):
        for obj, key, sep, parts in texts.values():
            value = sep.join(parts) or None
            if isinstance(obj, dict):
                obj[key] = value
            else:
                setattr(obj, key, value)
        texts.clear()

    def finish_entry(self):
        """The current entry is complete: queue it with its texts joined."""
        if self.entry is not None:
            self.join_texts(self.entry_texts)
            self.ready.append((self.statement, self.entry))
            self.entry = None

    def error(self, message, line, record, field=None, expected=None):
        element = f"record {record[:3]}" + (f" {field}" if field else "")
        return RecordError(message, file_name=self.file_name, line=line, element=element, expected=expected)

    def date(self, value, line, record, field, required=False):
        return _charset.yymmdd(
            value, file_name=self.file_name, line=line, element=f"record {record[:3]} {field}", required=required
        )

    def amount(self, sign, digits, line, record, field):
        return _charset.cents(
            digits, sign=sign, file_name=self.file_name, line=line, element=f"record {record[:3]} {field}"
        )

    def count(self, digits, line, record, field):
        if not digits.strip().isdecimal():
            raise self.error(f"count {digits!r} is not a number", line, record, field, expected="digits")
        return int(digits)

    # -- records ----------------------------------------------------------

    def record(self, line, rec):
        kind = rec[1:3]
        rec = rec.ljust(_LAYOUT_LENGTH.get(kind, 0))
        if kind == "00":
            self.start_statement(line, rec)
            return
        if self.statement is None:
            raise self.error("record before the first T00 basic record", line, rec, expected="a T00 record first")
        if kind in ("10", "80"):
            self.transaction(line, rec, notification=kind == "80")
        elif kind in ("11", "81"):
            self.additional(line, rec)
        elif kind == "40":
            self.t40.append(self.balance_record(line, rec))
        elif kind in ("50", "51"):
            self.cumulative(line, rec)
        elif kind == "70":
            lines = [rec[i : i + 80].strip() for i in range(9, len(rec), 80)]
            notice = "\n".join(part for part in lines if part)
            self.append(self.statement, "additional_info", notice, sep="\n")
            self.statement.extra.setdefault("bank_group", rec[6:9].strip() or None)
        else:
            self.statement.extra.setdefault("other_records", []).append({"line": line, "record": rec.rstrip()})

    def start_statement(self, line, rec):
        self.close_statement()
        bban = rec[9:23].strip()
        created_day = self.date(rec[38:44], line, rec, "creation date")
        hhmm = rec[44:48]
        created = None
        if created_day:
            if not hhmm.isdecimal() or int(hhmm[:2]) > 23 or int(hhmm[2:]) > 59:
                raise self.error(f"creation time {hhmm!r} is not HHMM", line, rec, "creation time", expected="HHMM")
            created = datetime.combine(created_day, time(int(hhmm[:2]), int(hhmm[2:])))
        currency = rec[96:99].strip() or None
        iban_bic = rec[292:322].split()
        iban = next((p for p in iban_bic if p[:2].isalpha() and p[2:4].isdecimal() and len(p) > 14), None)
        bic = next((p for p in iban_bic if p is not iban), None)
        self.statement = Statement(
            kind="tito",
            statement_id=rec[23:26].strip() or None,
            legal_sequence=rec[23:26].strip() or None,
            created=created,
            from_date=self.date(rec[26:32], line, rec, "period start"),
            to_date=self.date(rec[32:38], line, rec, "period end"),
            account_iban=iban or _charset.fi_iban(bban),
            account_other=bban or None,
            currency=currency,
            account_name=rec[99:129].strip() or None,
            owner_name=rec[147:182].strip() or None,
            servicer_bic=bic,
            servicer_name=rec[182:222].strip() or None,
        )
        st = self.statement
        st.extra.update(
            {
                "version": rec[6:9].strip(),
                "customer_id": rec[48:65].strip() or None,
                "record_count": int(rec[90:96]) if rec[90:96].isdecimal() else None,
                "bank_contact": rec[222:262].strip() or None,
                "bank_info": rec[262:292].strip() or None,
                "line": line,
            }
        )
        opening_date = self.date(rec[65:71], line, rec, "opening balance date")
        opening = self.amount(rec[71], rec[72:90], line, rec, "opening balance")
        limit_digits = rec[129:147]
        limit = None
        if limit_digits.strip():
            limit = self.amount("+", limit_digits.strip(), line, rec, "credit limit")
        st.balances.append(
            Balance(code="OPBD", amount=opening, currency=currency, date=opening_date, credit_line=limit or None)
        )
        self.t40 = []
        self.entry = self.target = None
        self.entries = 0

    def transaction(self, line, rec, notification):
        number = rec[6:12].strip()
        level = rec[187:188]
        amount = self.amount(rec[87], rec[88:106], line, rec, "amount")
        kind = rec[48]
        if kind not in "12349" or not kind.strip():
            raise self.error(
                f"transaction type {kind!r} is unknown", line, rec, "transaction type", expected="1, 2, 3, 4 or 9"
            )
        booking = self.date(rec[30:36], line, rec, "booking date", required=True)
        detail = self.detail_of(line, rec, amount)
        if level not in _MAIN_LEVELS and self.entry is not None and self.entry.entry_reference == number:
            # an itemisation of the entry just read
            if not self.itemised:
                self.entry.details = []
                self.itemised = True
            detail.archive_id = rec[12:30].strip() or None
            detail.extra["level"] = level
            self.entry.details.append(detail)
            self.target = (self.entry, detail, True)
            return
        st = self.statement
        entry = Entry(
            amount=amount,
            currency=st.currency,
            status=INFORMATION if notification or kind == "9" else BOOKED,
            booking_date=booking,
            value_date=self.date(rec[36:42], line, rec, "value date"),
            entry_reference=number or None,
            archive_id=rec[12:30].strip() or None,
            reversal=kind in "34",
            proprietary_code=rec[49:52].strip() or None,
            additional_info=rec[52:87].strip() or None,
            details=[detail],
            line=line,
        )
        entry.extra.update(
            {
                "transaction_type": kind,
                "receipt_code": rec[106].strip() or None,
                "delivery_method": rec[107].strip() or None,
                "form_number": rec[179:187].strip() or None,
                "level": level.strip() or None,
            }
        )
        if notification:
            entry.extra["notification"] = True
        self.finish_entry()
        self.entries += 1
        self.entry = entry
        self.itemised = False
        self.target = (entry, detail, False)

    def detail_of(self, line, rec, amount):
        detail = TxDetail(amount=amount, currency=self.statement.currency)
        name = rec[108:143].strip() or None
        account = rec[144:158].strip() or None
        detail.counterparty_name = name
        detail.counterparty_account = account
        detail.counterparty_iban = _charset.fi_iban(account)
        if amount >= 0:
            detail.debtor_name, detail.debtor_account = name, account
            detail.debtor_iban = detail.counterparty_iban
        else:
            detail.creditor_name, detail.creditor_account = name, account
            detail.creditor_iban = detail.counterparty_iban
        ref = rec[159:179].strip()
        if ref.isdecimal():
            ref = ref.lstrip("0")
        if ref:
            kind = fi_reference.kind(ref)
            ref = fi_reference.compact(ref) if kind else ref
            detail.creditor_reference = ref
            detail.creditor_reference_kind = kind
            detail.creditor_references = [ref]
        detail.payment_date = self.date(rec[42:48], line, rec, "payment date")
        detail.proprietary_code = rec[49:52].strip() or None
        detail.extra.update(
            {
                "name_source": rec[143].strip() or None,
                "account_changed": rec[158].strip() or None,
            }
        )
        return detail

    def additional(self, line, rec):
        if self.target is None:
            raise self.error(
                "additional information record without a transaction before it",
                line,
                rec,
                expected="a T10 or T80 record first",
            )
        entry, detail, is_item = self.target
        subtype = rec[6:8]
        data = rec[8:]

        def chunks(size=35):
            parts = [data[i : i + size].strip() for i in range(0, len(data), size)]
            return " ".join(p for p in parts if p) or None

        def add(attr, value, obj=detail):
            self.append(obj, attr, value)

        if subtype == "00":
            add("remittance_info", chunks())
        elif subtype == "01":
            count = self.count(data[:8], line, rec, "number of items")
            if not is_item:
                entry.batch_count = count
            detail.extra["item_count"] = count
        elif subtype == "02":
            detail.extra["invoice"] = {
                "customer_number": data[0:10].strip() or None,
                "invoice_number": data[11:26].strip() or None,
                "invoice_date": data[27:33].strip() or None,
            }
        elif subtype == "03":
            detail.extra["card"] = {
                "card_number": data[0:19].strip() or None,
                "merchant_reference": data[20:34].strip() or None,
            }
        elif subtype == "04":
            detail.extra["original_archive_id"] = data[0:18].strip() or None
        elif subtype == "05":
            value = self.amount(data[0], data[1:19], line, rec, "foreign amount")
            detail.instructed_amount = abs(value)
            detail.instructed_currency = data[20:23].strip() or None
            detail.extra["exchange_rate"] = data[24:35].strip() or None
            detail.extra["rate_reference"] = data[35:41].strip() or None
        elif subtype in ("06", "07"):
            text = chunks()
            add("additional_info", text)
            if subtype == "07":
                entry.extra.setdefault("bank_info", None)
                self.append(entry.extra, "bank_info", text)
            else:
                detail.extra["principal_info"] = text
        elif subtype == "08":
            detail.extra["purpose_code"] = data[0:3].strip() or None
            detail.extra["purpose_text"] = data[4:35].strip() or None
        elif subtype == "09":
            detail.extra["name_detail"] = data[0:35].strip() or None
        elif subtype == "11":
            e2e = data[0:35].strip()
            detail.end_to_end_id = None if not e2e or e2e.upper() in _NOT_PROVIDED else e2e
            iban = "".join(data[35:70].split()).upper() or None
            bic = "".join(data[70:105].split()).upper() or None
            # the other party: the creditor of money out, the debtor of money in
            side = "creditor" if detail.amount is not None and detail.amount < 0 else "debtor"
            if iban:
                detail.counterparty_iban = iban
                setattr(detail, f"{side}_iban", iban)
            if bic:
                detail.counterparty_bic = bic
                setattr(detail, f"{side}_bic", bic)
            detail.ultimate_creditor = data[105:175].strip() or None
            detail.ultimate_debtor = data[175:245].strip() or None
            payer_id = data[245:280].strip()
            if payer_id:
                detail.extra["payer_id"] = payer_id
            sepa_archive = data[280:315].strip()
            if sepa_archive:
                detail.extra["sepa_archive_id"] = sepa_archive
        else:
            detail.extra[f"T11_{subtype}"] = data.rstrip()

    def balance_record(self, line, rec):
        return (
            self.date(rec[6:12], line, rec, "booking date", required=True),
            self.amount(rec[12], rec[13:31], line, rec, "booked balance"),
            self.amount(rec[31], rec[32:50], line, rec, "available balance") if rec[31:50].strip() else None,
        )

    def cumulative(self, line, rec):
        record = {
            "record": rec[:3],
            "period": rec[6],
            "date": self.date(rec[7:13], line, rec, "period date"),
            "credit_count": self.count(rec[13:21], line, rec, "credit count"),
            "credit_sum": self.amount(rec[21], rec[22:40], line, rec, "credit sum"),
            "debit_count": self.count(rec[40:48], line, rec, "debit count"),
            "debit_sum": self.amount(rec[48], rec[49:67], line, rec, "debit sum"),
        }
        self.statement.extra.setdefault("cumulative", []).append(record)

    def close_statement(self):
        """Complete the statement's header, then queue its last entry (or
        the statement alone when it has none)."""
        st = self.statement
        if st is None:
            return
        self.join_texts(self.statement_texts)
        for i, (day, booked, available) in enumerate(self.t40, 1):
            last = i == len(self.t40)
            st.balances.append(Balance(code="CLBD" if last else "ITBD", amount=booked, currency=st.currency, date=day))
            if available is not None:
                st.balances.append(
                    Balance(code="CLAV" if last else "ITAV", amount=available, currency=st.currency, date=day)
                )
        totals = [c for c in st.extra.get("cumulative", []) if c["record"] == "T50"]
        chosen = next((c for c in totals if c["period"] == "2"), None)
        if chosen is None and st.from_date and st.from_date == st.to_date:
            chosen = next((c for c in totals if c["period"] == "1"), None)
        if chosen is not None:
            st.credit_count = chosen["credit_count"]
            st.credit_sum = abs(chosen["credit_sum"])
            st.debit_count = chosen["debit_count"]
            st.debit_sum = abs(chosen["debit_sum"])
        if self.entries:
            self.finish_entry()
        else:
            self.ready.append((st, None))
        self.statement = None
        self.entry = self.target = None
