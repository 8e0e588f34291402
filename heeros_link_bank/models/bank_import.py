"""Bank files into Odoo: the handlers of the camt.052/053/054, TITO and KTL
document types.

What each type produces:

* camt.053 and TITO (statements): an ``account.bank.statement`` per account
  and period with a line per booked entry, and the account's latest balances;
* camt.054 and KTL (reference payments): a statement line per payment. When
  the day's statement already holds the lump sum these payments make up,
  the lump-sum line is replaced by them inside its statement; when the
  statement comes later, its lump-sum entry is not imported and the payments
  join the statement instead. Either way every payment is in the books once;
* camt.052 (intraday account report): the account's latest balances only;
  its entries are booked by the day's statement.

Every file is routed to the company and bank journal whose account has the
statement's IBAN. Every line carries an import id built from the bank's own
archive reference, so importing a file again, or one that overlaps it,
creates only what is new; a file with nothing new is a duplicate. Incoming
payments with a Finnish or RF reference are reconciled with the open
customer invoice carrying that reference.
"""

import itertools
from collections import Counter, defaultdict
from decimal import Decimal

from odoo import _, models
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import DuplicateDocument, RecordError, RoutingError
from odoo.tools import SQL, float_compare, format_amount

from ..formats import camt, charset, ktl, tito
from ..formats.statement import BOOKED

#: Statement lines created per ``create`` call.
CHUNK = 2000
#: camt files larger than this are read entry by entry (flat memory).
STREAM_ABOVE = 8 * 1024 * 1024
STATEMENT_KINDS = ("camt.053", "tito")
ITEM_KINDS = ("camt.054", "ktl")
#: Finnish transaction code of incoming reference payments (viitesiirrot).
REFERENCE_PAYMENTS = "705"


def _iban(text):
    return "".join((text or "").split()).upper() or None


class _Same:
    """Group key comparing by identity (two equal statements stay apart)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return self.obj is other.obj


class _Row:
    """One statement line to be: an entry, or one payment of an entry."""

    __slots__ = (
        "amount",
        "batch_key",
        "date",
        "detail",
        "entry",
        "invoices",
        "key",
        "kind",
        "lump",
        "match",
        "partner_id",
        "reference",
        "reference_kind",
    )

    def __init__(self, key, amount, date, entry, detail, kind, batch_key=None, lump=False):
        self.key = key
        self.amount = amount
        self.date = date
        self.entry = entry
        self.detail = detail
        self.kind = kind
        self.batch_key = batch_key
        self.lump = lump
        ref_kind = fi_reference.kind(detail.creditor_reference) if detail and detail.creditor_reference \
            else None
        self.reference = fi_reference.compact(detail.creditor_reference) if ref_kind else None
        self.reference_kind = ref_kind
        self.partner_id = False
        self.invoices = None
        self.match = "none"


class _Lines:
    """The lines of one statement being imported: ids, total, last date."""

    __slots__ = ("ids", "last_date", "total")

    def __init__(self):
        self.ids = []
        self.total = Decimal(0)
        self.last_date = None

    def add(self, ids, total, dates):
        self.ids.extend(ids)
        self.total += total
        for date in dates:
            if not self.last_date or date > self.last_date:
                self.last_date = date


class HeerosLinkBankImport(models.AbstractModel):
    _name = "heeros.link.bank.import"
    _description = "Link bank file import"

    def _link_handle_camt053(self, message):
        return _Import(self, message, "camt.053").run()

    def _link_handle_camt054(self, message):
        return _Import(self, message, "camt.054").run()

    def _link_handle_camt052(self, message):
        return _Import(self, message, "camt.052").run()

    def _link_handle_tito(self, message):
        return _Import(self, message, "tito").run()

    def _link_handle_ktl(self, message):
        return _Import(self, message, "ktl").run()


class _Import:
    """The import of one bank file (one message)."""

    def __init__(self, model, message, kind):
        self.env = model.env
        self.message = message
        self.kind = kind
        self.file_name = message.file_name
        self.company = None
        self.journals = {}
        self.routed = []            # (iban, company) of the accounts seen, for error texts
        self.warnings = []
        self.notes = []
        self.statements = self.env["account.bank.statement"]
        self.line_ids = []
        self.balances = self.env["heeros.link.bank.balance"]
        self.booked = 0             # booked entries in the file
        self.changed = 0            # lines created, replaced or attached
        self.matches = Counter()
        self.line_cache = {}        # what the batch line creation works out once per file

    # ------------------------------------------------------------------
    # driver
    # ------------------------------------------------------------------
    def run(self):
        message = self.message
        message.bank_warning = False
        data = message._payload()
        for statement, entries in self._read(data):
            account, journal = self._journal(statement)
            if not message.external_ref:
                message.external_ref = statement.message_id or statement.statement_id
            if self.kind in STATEMENT_KINDS:
                self._statement(statement, entries, account, journal)
            elif self.kind in ITEM_KINDS:
                self._items(statement, entries, account, journal)
            else:
                for _entry in entries:
                    pass
            self.balances |= self.env["heeros.link.bank.balance"]._link_update(
                journal, statement, self.kind, message)
        if self.booked and not self.changed and not self.warnings:
            raise DuplicateDocument(_(
                "all %(count)s booked entries of the file are already imported", count=self.booked),
                file_name=self.file_name)
        self._forward(data)
        self._report()
        # Lines are linked to the message as they are created; statements and
        # balances here (the handler returns one recordset).
        message._link_records(self.balances)
        return self.statements or self.balances

    def _read(self, data):
        """``(statement, entries iterator)`` for every statement of the file."""
        name = self.file_name
        if self.kind.startswith("camt") and len(data) > STREAM_ABOVE:
            pairs = camt.iter_entries(data, name)
            for _key, group in itertools.groupby(pairs, key=lambda pair: _Same(pair[0])):
                first = next(group)
                entries = itertools.chain((first[1],), (entry for _st, entry in group))
                # a statement without entries comes as (statement, None)
                yield first[0], (entry for entry in entries if entry is not None)
            return
        if self.kind.startswith("camt"):
            document = camt.parse(data, name)
        elif self.kind == "tito":
            document = tito.parse(data, name)
        else:
            document = ktl.parse(data, name)
        for statement in document.statements:
            yield statement, iter(statement.entries)

    # ------------------------------------------------------------------
    # routing
    # ------------------------------------------------------------------
    def _journal(self, statement):
        iban = _iban(statement.account_iban) or charset.fi_iban(statement.account_other)
        if not iban:
            raise RecordError(_("the statement names no account IBAN (account %s)",
                                statement.account_other or "-"), file_name=self.file_name,
                              element="Acct")
        if iban in self.journals:
            return iban, self.journals[iban]
        Journal = self.env["account.journal"].sudo().with_context(active_test=True)
        journals = Journal.search([
            ("type", "=", "bank"), ("bank_account_id.sanitized_acc_number", "=", iban)],
            order="sequence, id")
        if not journals:
            raise RoutingError(_(
                "no bank journal has the account IBAN %(iban)s: add the account to the company's "
                "bank journal (Accounting > Configuration > Journals), then reprocess the message",
                iban=iban), file_name=self.file_name)
        if self.company:
            if self.company not in journals.company_id:
                raise RoutingError(_(
                    "the file holds statements of accounts of different companies: %(seen)s and "
                    "%(iban)s (%(other)s); the Link imports a file into one company, so ask the "
                    "bank for one file per company",
                    seen=", ".join(f"{i} ({c.name})" for i, c in self.routed),
                    iban=iban, other=", ".join(journals.company_id.mapped("name"))),
                    file_name=self.file_name)
        else:
            company = self.message._link_route(journals.company_id, _("account IBAN %s", iban))
            self.company = company
            self.env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
        journal = journals.filtered(lambda j: j.company_id == self.company)[:1].with_env(self.env)
        self.routed.append((iban, self.company))
        currency = journal.currency_id or journal.company_id.currency_id
        if statement.currency and statement.currency != currency.name:
            raise RecordError(_(
                "account %(iban)s is in %(file)s in the file, but its journal %(journal)s is in "
                "%(journal_currency)s", iban=iban, file=statement.currency, journal=journal.name,
                journal_currency=currency.name), file_name=self.file_name)
        self.journals[iban] = journal
        return iban, journal

    # ------------------------------------------------------------------
    # statements (camt.053, TITO)
    # ------------------------------------------------------------------
    def _statement(self, statement, entries, account, journal):
        occurrences = Counter()
        file_sum = Decimal(0)
        acc = _Lines()
        rows = []
        # The statement exists from the start so that new lines go straight
        # into it; its computed fields (balances, date, index) are left alone
        # meanwhile, else every reconciliation would recompute them over all
        # its lines, and are computed once by _link_attach at the end.
        record, computed = self.env["account.bank.statement"]._link_open(journal, self.file_name, self.message)
        with self.env.protecting(computed, record):
            for entry in entries:
                if entry.status != BOOKED:
                    continue
                self.booked += 1
                file_sum += entry.amount
                rows.extend(self._entry_rows(entry, statement, account, occurrences, items=False))
                if len(rows) >= CHUNK:
                    self._flush_statement_rows(journal, rows, acc, record)
                    rows = []
                    self._release()
            self._flush_statement_rows(journal, rows, acc, record)
            if not acc.ids:
                record.unlink()
                return
            currency = journal.currency_id or journal.company_id.currency_id
            lines_sum = float(acc.total)
            opening, closing = statement.opening_balance, statement.closing_balance
            if closing is not None:
                end = float(closing.amount)
                start = currency.round(end - lines_sum)
            elif opening is not None:
                start = float(opening.amount)
                end = currency.round(start + lines_sum)
            else:
                start, end = 0.0, lines_sum
            number = statement.legal_sequence or statement.electronic_sequence or statement.statement_id
            day = statement.to_date or acc.last_date
            name = " ".join(p for p in (journal.code, str(day), number and f"#{number}") if p)
            record.write({"name": name, "balance_start": start, "balance_end_real": end})
        record._link_attach(acc.ids)
        self.statements |= record
        self._check_balances(record, statement, journal, currency, file_sum, opening, closing)

    def _flush_statement_rows(self, journal, rows, acc, into=None):
        if not rows:
            return
        rows = self._without_existing(rows)
        keep = []
        # entries itemised by a reference payment notification imported earlier
        by_batch = self._itemised(journal, {f"a:{r.entry.archive_id}" for r in rows
                                            if r.kind == "entry" and r.entry.archive_id})
        for row in rows:
            items = by_batch.get(f"a:{row.entry.archive_id}") if row.kind == "entry" else None
            if items is None and row.lump:
                items = self._ktl_items(journal, row)
            if items is not None:
                self._use_items(row, items, acc)
                continue
            keep.append(row)
        lines = self._create(journal, keep, into=into)
        self.line_ids.extend(lines.ids)
        acc.add(lines.ids, sum((r.amount for r in keep), Decimal(0)), [r.date for r in keep])

    def _use_items(self, row, items, acc):
        """A lump-sum entry whose payments are already imported: those stand
        for it (they join this statement unless already in one)."""
        total = sum(items.mapped("amount"))
        currency = items[:1].currency_id
        if currency.compare_amounts(total, float(row.amount)) != 0:
            self.warnings.append(_(
                "Entry %(archive)s of %(date)s: its itemised payments total %(items)s but the statement "
                "says %(amount)s; the statement's entry was not imported, check the payments.",
                archive=row.entry.archive_id or "-", date=row.date,
                items=self._fmt(total, currency), amount=self._fmt(row.amount, currency)))
        free = items.filtered(lambda line: not line.statement_id)
        acc.add(free.ids, Decimal(str(sum(free.mapped("amount")))), free.mapped("date"))
        self.changed += len(free)
        self.notes.append(_(
            "Lump sum %(archive)s (%(amount)s) is represented by its %(count)s itemised payments.",
            archive=row.entry.archive_id or row.date, amount=self._fmt(row.amount, currency),
            count=len(items)))

    def _release(self):
        """Write what is pending and empty the record cache: the memory a
        large file needs stays that of one chunk of lines."""
        self.env.flush_all()
        self.env.invalidate_all()

    def _check_balances(self, record, statement, journal, currency, file_sum, opening, closing):
        problems = []
        label = _("Statement %(name)s (%(iban)s)", name=record.name,
                  iban=journal.bank_account_id.acc_number)
        if opening is not None and closing is not None:
            computed = float(opening.amount + file_sum)
            if currency.compare_amounts(computed, float(closing.amount)) != 0:
                problems.append(_(
                    "%(label)s: opening balance %(opening)s plus the entries %(entries)s makes "
                    "%(computed)s, but the bank states a closing balance of %(closing)s "
                    "(difference %(diff)s).",
                    label=label, opening=self._fmt(opening.amount, currency),
                    entries=self._fmt(file_sum, currency), computed=self._fmt(computed, currency),
                    closing=self._fmt(closing.amount, currency),
                    diff=self._fmt(float(closing.amount) - computed, currency)))
        record.flush_recordset()
        previous = self.env["account.bank.statement"].search([
            ("journal_id", "=", journal.id), ("id", "!=", record.id),
            ("first_line_index", "<", record.first_line_index)],
            order="first_line_index desc", limit=1)
        if previous and currency.compare_amounts(previous.balance_end_real, record.balance_start) != 0:
            problems.append(_(
                "%(label)s: the opening balance %(start)s does not continue the closing balance "
                "%(previous)s of the previous statement %(prev_name)s (difference %(diff)s); a "
                "statement may be missing or imported out of order.",
                label=label, start=self._fmt(record.balance_start, currency),
                previous=self._fmt(previous.balance_end_real, currency), prev_name=previous.name,
                diff=self._fmt(record.balance_start - previous.balance_end_real, currency)))
        if problems:
            record.link_balance_warning = "\n".join(problems)
            self.warnings.extend(problems)

    # ------------------------------------------------------------------
    # reference payments (camt.054, KTL)
    # ------------------------------------------------------------------
    def _items(self, statement, entries, account, journal):
        occurrences = Counter()
        if self.kind == "ktl":
            groups = defaultdict(list)
            for entry in entries:
                if entry.status != BOOKED:
                    continue
                self.booked += 1
                groups[f"d:{entry.booking_date}"].extend(
                    self._entry_rows(entry, statement, account, occurrences, items=True))
            for batch_key, rows in groups.items():
                for row in rows:
                    row.batch_key = batch_key
                self._flush_items(journal, rows, batch_key)
            return
        rows = []
        for entry in entries:
            if entry.status != BOOKED:
                continue
            self.booked += 1
            entry_rows = self._entry_rows(entry, statement, account, occurrences, items=True)
            batch_key = f"a:{entry.archive_id}" if entry.archive_id else None
            for row in entry_rows:
                row.batch_key = batch_key
            if batch_key:
                self._flush_items(journal, entry_rows, batch_key)
            else:
                rows.extend(entry_rows)
            if len(rows) >= CHUNK:
                self._flush_items(journal, rows, None)
                rows = []
                self._release()
        self._flush_items(journal, rows, None)

    def _flush_items(self, journal, rows, batch_key):
        """Create the payments of one lump sum (``batch_key``) or of none,
        replacing the lump-sum line of a statement imported earlier."""
        rows = self._without_existing(rows)
        if not rows:
            return
        lump = self._lump_line(journal, rows, batch_key) if batch_key else None
        if not lump:
            self.line_ids.extend(self._create(journal, rows).ids)
            return
        currency = lump.currency_id
        total = sum(float(r.amount) for r in rows)
        if not lump.link_lump_sum and len(rows) == 1 and currency.compare_amounts(total, lump.amount) == 0:
            return  # a single payment the statement already booked as such: nothing new
        if lump.is_reconciled or lump.move_id.line_ids.matched_debit_ids or \
                lump.move_id.line_ids.matched_credit_ids:
            self.warnings.append(_(
                "The lump sum %(name)s (%(amount)s) of statement %(statement)s is already "
                "reconciled: its %(count)s itemised payments were not imported. Undo that "
                "reconciliation and reprocess this message to have the payments instead.",
                name=lump.link_archive_id or lump.payment_ref, amount=self._fmt(lump.amount, currency),
                statement=lump.statement_id.name or "-", count=len(rows)))
            return
        if currency.compare_amounts(total, lump.amount) != 0:
            self.warnings.append(_(
                "The %(count)s itemised payments of %(name)s total %(items)s, but the statement line "
                "holding their lump sum is %(amount)s: the lump sum was kept and the payments were "
                "not imported (they would count twice); check the bank's files.",
                count=len(rows), name=lump.link_archive_id or batch_key, items=self._fmt(total, currency),
                amount=self._fmt(lump.amount, currency)))
            return
        statement, sequence = lump.statement_id, lump.sequence
        lump_text = f"{lump.link_archive_id or lump.payment_ref} ({self._fmt(lump.amount, currency)})"
        lump.unlink()
        lines = self._create(journal, rows, extra={"statement_id": statement.id, "sequence": sequence})
        self.line_ids.extend(lines.ids)
        self.notes.append(_(
            "Lump sum %(lump)s of statement %(statement)s replaced by its %(count)s payments.",
            lump=lump_text, statement=statement.name or "-", count=len(lines)))

    def _lump_line(self, journal, rows, batch_key):
        """The statement line holding the lump sum of ``rows``, if imported."""
        Line = self.env["account.bank.statement.line"]
        if batch_key.startswith("a:"):
            return Line.search([("journal_id", "=", journal.id), ("link_archive_id", "=", batch_key[2:]),
                                ("link_batch_key", "=", False), ("unique_import_id", "like", "a:%")],
                               limit=1)
        total = sum(float(r.amount) for r in rows)
        candidates = Line.search([
            ("journal_id", "=", journal.id), ("link_lump_sum", "=", True), ("date", "=", rows[0].date),
            ("link_fi_code", "=", REFERENCE_PAYMENTS)])
        currency = journal.currency_id or journal.company_id.currency_id
        return candidates.filtered(lambda line: currency.compare_amounts(line.amount, total) == 0)[:1]

    def _itemised(self, journal, batch_keys):
        """``{batch key: lines}`` of payments imported earlier that itemise
        the statement entries of ``batch_keys``."""
        if not batch_keys:
            return {}
        lines = self.env["account.bank.statement.line"].search([
            ("journal_id", "=", journal.id), ("link_batch_key", "in", list(batch_keys))])
        return dict(lines.grouped("link_batch_key"))

    def _ktl_items(self, journal, row):
        """KTL payments of the lump sum ``row``: the same day's reference
        payments of the account, when they add up to it."""
        if row.entry.fi_code != REFERENCE_PAYMENTS:
            return None
        lines = self.env["account.bank.statement.line"].search([
            ("journal_id", "=", journal.id), ("link_batch_key", "=", f"d:{row.date}")])
        if not lines:
            return None
        currency = journal.currency_id or journal.company_id.currency_id
        if currency.compare_amounts(sum(lines.mapped("amount")), float(row.amount)) != 0:
            return None
        return lines

    # ------------------------------------------------------------------
    # rows and lines
    # ------------------------------------------------------------------
    def _entry_rows(self, entry, statement, account, occurrences, items):
        """The lines an entry becomes. ``items``: the file itemises
        payments (camt.054, KTL), so every payment is a line of its own."""
        date = entry.booking_date or entry.value_date or statement.to_date or statement.from_date
        if not date:
            raise RecordError(_("entry %s has no booking date", entry.archive_id or entry.entry_reference),
                              file_name=self.file_name, line=entry.line)
        details = entry.details
        if len(details) == 1 and details[0].amount is None:
            details[0].amount = entry.amount
        usable = len(details) == 1 or (len(details) > 1 and all(d.amount is not None for d in details)
                                       and sum(d.amount for d in details) == entry.amount)
        if items and not usable:
            if len(details) > 1:
                total = sum((d.amount for d in details if d.amount is not None), Decimal(0))
                self.warnings.append(_(
                    "Entry %(archive)s of %(date)s: its %(count)s payments total %(total)s but the entry "
                    "is %(amount)s, so it was taken as one line, not itemised; check the bank's file.",
                    archive=entry.archive_id or entry.entry_reference or "-", date=date,
                    count=len(details), total=total, amount=entry.amount))
            details = []
        if items and len(details) <= 1:
            detail = details[0] if details else None
            key = self._occurrence_key(occurrences, lambda n: (
                detail.import_key(account, entry, n) if detail else entry.import_key(account, n)))
            return [_Row(key, entry.amount, date, entry, detail, "item")]
        if items or (usable and len(details) > 1 and (
                entry.fi_code == REFERENCE_PAYMENTS or any(d.creditor_reference for d in details))):
            rows = []
            for detail in details:
                key = self._occurrence_key(occurrences, lambda n, d=detail: d.import_key(account, entry, n))
                rows.append(_Row(key, detail.amount, date, entry, detail, "item"))
            return rows
        key = self._occurrence_key(occurrences, lambda n: entry.import_key(account, n))
        lump = entry.fi_code == REFERENCE_PAYMENTS or (entry.batch_count or 0) > 1 or len(details) > 1
        detail = details[0] if len(details) == 1 else None
        return [_Row(key, entry.amount, date, entry, detail, "entry", lump=lump)]

    @staticmethod
    def _occurrence_key(occurrences, make):
        """``make(n)`` for the n-th entry (from 0) of the statement with the
        same key: entries identical in every field stay apart."""
        base = make(0)
        count = occurrences[base]
        occurrences[base] += 1
        return make(count) if count else base

    def _without_existing(self, rows):
        keys = [r.key for r in rows]
        if not keys:
            return rows
        Line = self.env["account.bank.statement.line"]
        Line.flush_model(["unique_import_id"])
        self.env.cr.execute(SQL(
            "SELECT unique_import_id FROM account_bank_statement_line WHERE unique_import_id = ANY(%s)",
            keys))
        existing = {key for (key,) in self.env.cr.fetchall()}
        return [r for r in rows if r.key not in existing]

    def _create(self, journal, rows, extra=None, into=None):
        Line = self.env["account.bank.statement.line"]
        if not rows:
            return Line
        self._find_partners(journal, rows)
        self._find_invoices(journal, rows)
        vals_list = [dict(self._line_vals(row), **(extra or {})) for row in rows]
        lines = Line._link_create_batch(journal, vals_list, cache=self.line_cache, into=into)
        self.changed += len(lines)
        # new lines: linked to the message here, chunk by chunk
        self.message.sudo()._link_new_records(Line._name, lines.ids)
        self._reconcile(lines, rows)
        return lines

    def _line_vals(self, row):
        entry, detail = row.entry, row.detail
        text = None
        if detail:
            text = detail.remittance_info or detail.additional_remittance_info
        text = text or entry.additional_info
        name = None
        if detail:
            name = detail.counterparty_name or (detail.ultimate_debtor if row.amount > 0 else
                                                detail.ultimate_creditor)
        iso = "/".join(p for p in (entry.domain_code, entry.family_code, entry.subfamily_code) if p)
        proprietary = (detail.proprietary_code if detail and row.kind == "item" else None) or \
            entry.proprietary_code
        fi_code = entry.fi_code if row.kind == "entry" else \
            ((proprietary or "")[:3] if (proprietary or "")[:3].isdecimal() else entry.fi_code)
        archive = (detail.archive_id if detail and row.kind == "item" else None) or entry.archive_id
        exchange = (detail.exchange if detail else None) or entry.exchange
        charges = (detail.charges if detail else None) or (
            entry.charges if row.kind == "entry" or len(entry.details) <= 1 else None)
        instructed = None
        if detail and detail.instructed_amount is not None and (
                detail.instructed_currency != entry.currency or detail.instructed_amount != abs(row.amount)):
            instructed = f"{detail.instructed_amount} {detail.instructed_currency or ''}".strip()
        details = {
            "archive_id": archive,
            "entry_reference": entry.entry_reference,
            "end_to_end_id": detail.end_to_end_id if detail else None,
            "reference": detail.creditor_reference if detail else None,
            "message": text,
            "counterparty_bic": detail.counterparty_bic if detail else None,
            "payment_date": str(detail.payment_date) if detail and detail.payment_date else None,
            "value_date": str(entry.value_date) if entry.value_date else None,
            "batch_count": entry.batch_count,
            "instructed_amount": instructed,
            "exchange_rate": str(exchange) if exchange else None,
            "charges": ", ".join(f"{amount} {ccy}" for ccy, amount in sorted(charges.items())) if charges else None,
            "file": self.file_name,
        }
        return {
            "date": row.date,
            "amount": float(row.amount),
            "payment_ref": row.reference or text or name or proprietary or "/",
            "partner_name": name,
            "partner_id": row.partner_id or False,
            "account_number": (detail.counterparty_iban or detail.counterparty_account) if detail else False,
            "transaction_type": " ".join(p for p in (proprietary, iso and f"({iso})") if p) or False,
            "transaction_details": {k: v for k, v in details.items() if v not in (None, "")},
            "unique_import_id": row.key,
            "link_message_id": self.message.id,
            "link_archive_id": archive,
            "link_batch_key": row.batch_key,
            "link_lump_sum": row.lump,
            "link_fi_code": fi_code or False,
            "link_iso_code": iso or False,
            "link_reference": row.reference,
            "link_match_state": "none" if not row.reference or row.amount <= 0 else row.match,
            "link_invoice_ids": [(6, 0, row.invoices.ids)] if row.invoices else False,
        }

    # ------------------------------------------------------------------
    # partners and invoices
    # ------------------------------------------------------------------
    def _find_partners(self, journal, rows):
        """Partner of each row: by account (IBAN), then business id, then
        exact name; three queries for all rows, none per row."""
        company = journal.company_id
        cr = self.env.cr
        self.env["res.partner"].flush_model()
        self.env["res.partner.bank"].flush_model()
        accounts = {_iban(r.detail.counterparty_iban or r.detail.counterparty_account)
                    for r in rows if r.detail and (r.detail.counterparty_iban or r.detail.counterparty_account)}
        by_account = {}
        if accounts:
            cr.execute(SQL("""
                SELECT b.sanitized_acc_number, p.commercial_partner_id
                  FROM res_partner_bank b JOIN res_partner p ON p.id = b.partner_id
                 WHERE b.sanitized_acc_number = ANY(%(accounts)s) AND b.active AND p.active
                   AND (p.company_id IS NULL OR p.company_id = %(company)s)
              ORDER BY b.id""", accounts=list(accounts), company=company.id))
            for account, partner in cr.fetchall():
                by_account.setdefault(account, set()).add(partner)
        ids = {}
        for row in rows:
            business_id = _business_id(row.detail)
            if business_id:
                ids[row] = business_id
        by_id = {}
        if ids:
            wanted = set(ids.values())
            vats = [f"FI{b.replace('-', '')}" for b in wanted]
            cr.execute(SQL("""
                SELECT p.company_registry, p.vat, p.commercial_partner_id FROM res_partner p
                 WHERE p.active AND (p.company_id IS NULL OR p.company_id = %(company)s)
                   AND (p.company_registry = ANY(%(ids)s) OR upper(replace(p.vat, ' ', '')) = ANY(%(vats)s))
            """, ids=list(wanted), vats=vats, company=company.id))
            for registry, vat, partner in cr.fetchall():
                for key in (registry, _business_id_from_vat(vat)):
                    if key:
                        by_id.setdefault(key, set()).add(partner)
        names = {r.detail.counterparty_name.strip().lower() for r in rows
                 if r.detail and r.detail.counterparty_name}
        by_name = {}
        if names:
            cr.execute(SQL("""
                SELECT lower(p.name), p.id FROM res_partner p
                 WHERE p.active AND p.parent_id IS NULL AND lower(p.name) = ANY(%(names)s)
                   AND (p.company_id IS NULL OR p.company_id = %(company)s)""",
                           names=list(names), company=company.id))
            for name, partner in cr.fetchall():
                by_name.setdefault(name, set()).add(partner)
        for row in rows:
            detail = row.detail
            if not detail:
                continue
            for found in (
                by_account.get(_iban(detail.counterparty_iban or detail.counterparty_account)),
                by_id.get(ids.get(row)),
                by_name.get((detail.counterparty_name or "").strip().lower()),
            ):
                if found and len(found) == 1:
                    row.partner_id = next(iter(found))
                    break

    def _find_invoices(self, journal, rows):
        """Open customer invoices whose payment reference is the reference of
        an incoming payment; one query for all rows."""
        wanted = [r for r in rows if r.reference and r.amount > 0]
        if not wanted:
            return
        keys = set()
        for row in wanted:
            keys |= fi_reference.matching_keys(row.reference)
        currency = journal.currency_id or journal.company_id.currency_id
        Move = self.env["account.move"]
        Move.flush_model(["payment_reference", "payment_state", "state", "move_type", "company_id",
                          "currency_id", "amount_residual"])
        self.env.cr.execute(SQL("""
            SELECT id, payment_reference FROM (
                SELECT id, payment_reference, invoice_date_due, invoice_date,
                       upper(regexp_replace(payment_reference, '\\s', '', 'g')) AS ref
                  FROM account_move
                 WHERE company_id = %(company)s AND move_type = 'out_invoice' AND state = 'posted'
                   AND payment_state IN ('not_paid', 'partial') AND currency_id = %(currency)s
                   AND payment_reference IS NOT NULL) m
             WHERE (CASE WHEN left(ref, 2) = 'RF' THEN ref ELSE ltrim(ref, '0') END) = ANY(%(keys)s)
          ORDER BY invoice_date_due NULLS LAST, invoice_date NULLS LAST, id""",
            company=journal.company_id.id, currency=currency.id, keys=list(keys)))
        by_key = defaultdict(list)
        for move_id, ref in self.env.cr.fetchall():
            by_key[fi_reference.compact(ref)].append(move_id)
        invoices = Move.browse([i for ids in by_key.values() for i in ids])
        residual = {inv.id: inv.amount_residual for inv in invoices}
        for row in wanted:
            candidates = []
            for key in sorted(fi_reference.matching_keys(row.reference)):
                candidates.extend(i for i in by_key.get(key, ()) if i not in candidates)
            candidates = [i for i in candidates if float_compare(residual[i], 0.0, 2) > 0]
            if not candidates:
                row.match = "unmatched"
                continue
            amount = float(row.amount)
            exact = [i for i in candidates if currency.compare_amounts(residual[i], amount) == 0]
            chosen = exact[:1] or candidates
            open_total = sum(residual[i] for i in chosen)
            cmp = currency.compare_amounts(amount, open_total)
            row.match = "paid" if cmp == 0 else ("partial" if cmp < 0 else "overpaid")
            left = amount
            used = []
            for invoice_id in chosen:
                if currency.compare_amounts(left, 0.0) <= 0:
                    break
                take = min(left, residual[invoice_id])
                residual[invoice_id] -= take
                left -= take
                used.append(invoice_id)
            row.invoices = Move.browse(used)
            row.partner_id = row.invoices[:1].commercial_partner_id.id

    def _reconcile(self, lines, rows):
        """Reconcile each matched payment with its invoices: its suspense
        item moves to the invoices' receivable account and partner, then all
        pairs are reconciled in one plan (one pass of Odoo's reconciliation,
        its checks and the invoices' payment states for the whole chunk)."""
        plan = []
        moved = defaultdict(lambda: self.env["account.move.line"])
        for line, row in zip(lines, rows):
            if not row.invoices:
                if row.match == "unmatched":
                    self.matches["unmatched"] += 1
                continue
            receivables = row.invoices.line_ids.filtered(
                lambda aml: aml.account_id.account_type == "asset_receivable" and not aml.reconciled)
            if not receivables:
                line.link_match_state = "unmatched"
                self.matches["unmatched"] += 1
                continue
            _liquidity, suspense, _other = line._seek_for_lines()
            moved[(receivables[0].account_id.id, row.invoices[:1].commercial_partner_id.id)] |= suspense
            plan.append((suspense, receivables))
            self.matches[row.match] += 1
        for (account_id, partner_id), suspense in moved.items():
            suspense.write({"account_id": account_id, "partner_id": partner_id})
        if plan:
            self.env["account.move.line"]._reconcile_plan([suspense | receivables
                                                           for suspense, receivables in plan])

    # ------------------------------------------------------------------
    # outcome
    # ------------------------------------------------------------------
    def _fmt(self, amount, currency):
        return format_amount(self.env, float(amount), currency).replace("\ufeff", "")

    def _report(self):
        message = self.message
        parts = []
        if self.statements:
            parts.append(_("%(count)s statement(s): %(names)s", count=len(self.statements),
                           names=", ".join(self.statements.mapped("name"))))
        if self.line_ids:
            parts.append(_("%s statement line(s) created", len(self.line_ids)))
        if self.matches:
            parts.append(_(
                "reference payments: %(paid)s paid an invoice, %(partial)s paid part of one, "
                "%(over)s paid more than the invoice, %(none)s found no open invoice",
                paid=self.matches["paid"], partial=self.matches["partial"],
                over=self.matches["overpaid"], none=self.matches["unmatched"]))
        parts.extend(self.notes)
        if self.warnings:
            message.bank_warning = "\n".join(self.warnings)
        body = "\n".join(parts + ([_("Needs attention:")] + self.warnings if self.warnings else []))
        if body:
            message.message_post(body=_plain_html(body))

    def _forward(self, data):
        if not self.company:
            return
        connections = self.env["heeros.link.connection"]._link_forwarding(
            self.company, self.kind, exclude=self.message.connection_id)
        Message = self.env["heeros.link.message"].sudo()
        for connection in connections:
            Message._link_queue(self.kind, self.file_name or self.message.name, data, self.company,
                                connection=connection, external_ref=self.message.external_ref,
                                parent=self.message)
            self.notes.append(_("Copy queued for %s.", connection.name))


def _business_id(detail):
    """A Finnish business id (Y-tunnus, ``1234567-8``) the file gives for the
    counterparty, if any."""
    if not detail:
        return None
    for key in ("payer_id", "counterparty_id", "debtor_id", "creditor_id", "organisation_id"):
        found = _normalise_business_id(detail.extra.get(key))
        if found:
            return found
    return None


def _normalise_business_id(value):
    text = "".join(str(value or "").split()).upper()
    if text.startswith("FI"):
        text = text[2:]
    digits = text.replace("-", "")
    if len(digits) == 8 and digits.isdecimal():
        return f"{digits[:7]}-{digits[7]}"
    return None


def _business_id_from_vat(vat):
    return _normalise_business_id(vat) if vat and vat.upper().replace(" ", "").startswith("FI") else None


def _plain_html(text):
    from odoo.tools import plaintext2html
    return plaintext2html(text)
