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

Each step is a method of the abstract model ``heeros.link.bank.import``
that an addon overrides with ``_inherit`` (routing, statement, partner and
invoice matching, reconciliation, lump sums, balance checks, report,
forwarding); the state of one import travels between them as an
:class:`ImportState`, the lines to be as :class:`ImportRow`.
"""

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from odoo import _, api, models
from odoo.addons.heeros_link_base.formats import identifiers
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import RecordError, UnrecognisedDocument
from odoo.addons.heeros_link_base.registry import Outcome
from odoo.tools import SQL, float_compare, format_amount, plaintext2html
from odoo.tools.translate import LazyTranslate

from ..formats import charset
from ..formats import registry as bank_formats
from ..formats.statement import BOOKED
from . import orm_internals as orm

#: Statement lines created per ``create`` call.
_lt = LazyTranslate(__name__)
CHUNK = 2000
#: The import step of each role (:data:`bank_formats.IMPORT_ROLES`): the
#: method that imports one statement of a file of that role.
ROLE_STEPS = {
    "statement": "_link_statement",
    "itemisation": "_link_items",
    "report": "_link_report_entries",
}


def _iban(text):
    return "".join((text or "").split()).upper() or None


class _Same:
    """Group key comparing by identity (two equal statements stay apart)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return self.obj is other.obj


class ImportRow:
    """One statement line to be: an entry, or one payment of an entry.

    ``key`` is its import id, ``entry`` and ``detail`` what the file says
    (``formats.statement``), ``kind`` ``entry`` or ``item`` (a payment),
    ``batch_key`` the lump sum it belongs to, ``lump`` whether it is a lump
    sum; ``reference`` the compact Finnish or RF reference. The matching
    hooks fill in ``partner_id``, ``invoices`` and ``match``."""

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
        ref_kind = fi_reference.kind(detail.creditor_reference) if detail and detail.creditor_reference else None
        self.reference = fi_reference.compact(detail.creditor_reference) if ref_kind else None
        self.reference_kind = ref_kind
        self.partner_id = False
        self.invoices = None
        self.match = "none"


class ImportedLines:
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


@dataclass(eq=False)
class ImportState:
    """What the import of one bank file (one message) carries from hook to
    hook: its subject, where it was routed, what it made and what it found.

    Records it holds are data (the message, the company, the journals); the
    hooks, methods of ``heeros.link.bank.import``, do the work with their own
    environment. A hook that needs its own per-file state can keep it in
    ``extra``.
    """

    message: object  # heeros.link.message
    kind: str  # document type: camt.053, tito, camt.054, ktl, camt.052
    format: bank_formats.BankFormat = None  # its description (_link_bank_formats)
    file_name: str | None = None
    company: object = None  # res.company, once the first statement is routed
    journals: dict = field(default_factory=dict)  # IBAN: account.journal
    routed: list = field(default_factory=list)  # (IBAN, company) of the accounts seen, for error texts
    warnings: list = field(default_factory=list)  # texts for a person: the message's warning
    notes: list = field(default_factory=list)  # texts for the message's chatter
    statement_ids: list = field(default_factory=list)  # account.bank.statement made
    balance_ids: list = field(default_factory=list)  # heeros.link.bank.balance updated
    line_ids: list = field(default_factory=list)  # account.bank.statement.line created
    booked: int = 0  # booked entries in the file
    changed: int = 0  # lines created, replaced or attached
    matches: Counter = field(default_factory=Counter)  # reference payments by match state
    line_cache: dict = field(default_factory=dict)  # what the batch line creation works out once per file
    refusal: str | None = None  # why the file cannot be imported (routing), if so
    extra: dict = field(default_factory=dict)


class HeerosLinkBankImport(models.AbstractModel):
    """The import of bank files, as hooks an addon overrides with ``_inherit``.

    :meth:`_link_bank_formats` describes the formats;
    :meth:`_link_handle_bank_file` is the handler of every one the import
    reads. :meth:`_link_import` drives one file: :meth:`_link_read` gives its
    statements, :meth:`_link_route` the company and journal of each, the
    step of the format's role (:data:`ROLE_STEPS`: :meth:`_link_statement`
    for statements, :meth:`_link_items` for itemisations,
    :meth:`_link_report_entries` for reports) its lines, then
    :meth:`_link_forward` and :meth:`_link_report`. Lines are made by :meth:`_link_create_lines`:
    :meth:`_link_match_partners`, :meth:`_link_match_invoices`,
    :meth:`_link_line_vals`, the batch creation, :meth:`_link_reconcile`.
    Every hook receives the :class:`ImportState` of the file first.
    """

    _name = "heeros.link.bank.import"
    _description = "Link bank file import"

    # ------------------------------------------------------------------
    # formats
    # ------------------------------------------------------------------
    @api.model
    def _link_bank_formats(self):
        """``{code: BankFormat}``: the description of every bank file format
        (:mod:`..formats.registry`) in this database. Detection (the
        message's document types), the import, the balances and forwarding
        all read it. An addon adds a format, or changes one with
        ``dataclasses.replace``, by extending this method with ``super()``.
        """
        return bank_formats.formats()

    @api.model
    def _link_bank_format(self, code):
        """The description of the bank format ``code``; a
        :class:`UnrecognisedDocument` telling what to do when this database
        does not know it."""
        found = self._link_bank_formats().get(code)
        if found is None or not found.imported:
            raise UnrecognisedDocument(
                _(
                    "the Link does not import bank files of type %(code)s here (it imports: %(known)s); "
                    "install the addon that reads them, then reprocess the message",
                    code=code or "-",
                    known=", ".join(c for c, f in self._link_bank_formats().items() if f.imported),
                )
            )
        return found

    def _link_handle_bank_file(self, message):
        """The handler of every bank format the import reads: imports the
        file of ``message`` as its document type says."""
        return self._link_import(message, message.document_type)

    # ------------------------------------------------------------------
    # driver
    # ------------------------------------------------------------------
    def _link_import_state(self, message, kind):
        """The :class:`ImportState` a new import of ``message`` (its file of
        document type ``kind``) starts from."""
        return ImportState(message=message, kind=kind, format=self._link_bank_format(kind), file_name=message.file_name)

    def _link_import(self, message, kind):
        """Import the bank file of ``message``, of document type ``kind``.

        Returns an :class:`Outcome`: ``processed`` with the statements made,
        else the balances updated (the records the message lists);
        ``duplicate`` when every booked entry of the file is already
        imported; ``error`` when a statement's account belongs to no company
        the file can go to (:meth:`_link_route`). Bad content raises the
        typed errors of the format and of the hooks.
        """
        state = self._link_import_state(message, kind)
        message.bank_warning = False
        data = message._payload()
        model = self
        for statement, entries in self._link_read(state, data):
            account, journal = model._link_route(state, statement)
            if not journal:
                return Outcome.refused(state.refusal)
            # after routing, everything happens in the file's company
            model = model.with_env(journal.env)
            if not message.external_ref:
                message.external_ref = statement.message_id or statement.statement_id
            getattr(model, ROLE_STEPS[state.format.role])(state, statement, entries, account, journal)
            balances = model.env["heeros.link.bank.balance"]._link_update(journal, statement, kind, message)
            state.balance_ids.extend(i for i in balances.ids if i not in state.balance_ids)
        if state.booked and not state.changed and not state.warnings:
            return Outcome.duplicate(
                _("all %(count)s booked entries of the file are already imported", count=state.booked)
            )
        model._link_forward(state, data)
        model._link_report(state)
        # Lines are linked to the message as they are created; statements and
        # balances here (the handler returns one recordset).
        balances = self.env["heeros.link.bank.balance"].browse(state.balance_ids)
        message._link_records(balances)
        return Outcome.processed(self.env["account.bank.statement"].browse(state.statement_ids) or balances)

    def _link_read(self, state, data):
        """``(statement, entries iterator)`` for every statement of the file
        ``data`` (bytes), read entry by entry by the format's reader
        (``state.format.read``) whatever the format and size: memory stays
        that of one batch. A statement's closing balances and totals are
        known once its entries have been read."""
        pairs = state.format.read(data, state.file_name)
        for _key, group in itertools.groupby(pairs, key=lambda pair: _Same(pair[0])):
            first = next(group)
            entries = itertools.chain((first[1],), (entry for _st, entry in group))
            # a statement without entries comes as (statement, None)
            yield first[0], (entry for entry in entries if entry is not None)

    def _link_report_entries(self, state, statement, entries, account, journal):
        """The step of an account report (camt.052): its entries are booked
        by the day's statement, so none becomes a line; only its balances
        count (recorded by the driver). Reads the entries through, so that
        balances given after them are known. Returns nothing."""
        for _entry in entries:
            pass

    # ------------------------------------------------------------------
    # routing
    # ------------------------------------------------------------------
    def _link_route(self, state, statement):
        """``(IBAN, journal)`` of ``statement``: the bank journal whose
        account has its IBAN, in the environment of the company the file is
        imported into (the first statement chooses it, through the message's
        routing; sets ``state.company``). When no journal has the IBAN, or it
        belongs to another company than the file's other accounts, or to no
        company the message can go to, the journal is ``None`` and
        ``state.refusal`` says why and what to do. Raises
        :class:`RecordError` for a statement without an IBAN or in another
        currency than its journal."""
        iban = _iban(statement.account_iban) or charset.fi_iban(statement.account_other)
        if not iban:
            raise RecordError(
                _(
                    "the statement names no account IBAN (account %s): ask the bank for "
                    "files that give the account's IBAN or Finnish account number",
                    statement.account_other or "-",
                ),
                file_name=state.file_name,
                element="Acct",
            )
        if iban in state.journals:
            return iban, state.journals[iban]
        journals = self._link_journals(state, iban)
        if not journals:
            state.refusal = _lt(
                "no bank journal has the account IBAN %(iban)s: add the account to the company's "
                "bank journal (Accounting > Configuration > Journals), then reprocess the message",
                iban=iban,
            )
            return iban, None
        if state.company:
            if state.company not in journals.company_id:
                state.refusal = _lt(
                    "the file holds statements of accounts of different companies: %(seen)s and "
                    "%(iban)s (%(other)s); the Link imports a file into one company, so ask the "
                    "bank for one file per company",
                    seen=", ".join(f"{i} ({c.name})" for i, c in state.routed),
                    iban=iban,
                    other=", ".join(journals.company_id.mapped("name")),
                )
                return iban, None
        else:
            company, problem = state.message._link_find_route(journals.company_id, _lt("account IBAN %s", iban))
            if problem:
                state.refusal = problem
                return iban, None
            state.company = company
        env = self.env(context=dict(self.env.context, allowed_company_ids=[state.company.id]))
        journal = journals.filtered(lambda j: j.company_id == state.company)[:1].with_env(env)
        state.routed.append((iban, state.company))
        currency = journal.currency_id or journal.company_id.currency_id
        if statement.currency and statement.currency != currency.name:
            raise RecordError(
                _lt(
                    "account %(iban)s is in %(file)s in the file, but its journal %(journal)s is in "
                    "%(journal_currency)s: give the journal the account's currency (or the account to a "
                    "journal in that currency), then reprocess the message",
                    iban=iban,
                    file=statement.currency,
                    journal=journal.name,
                    journal_currency=currency.name,
                ),
                file_name=state.file_name,
            )
        state.journals[iban] = journal
        return iban, journal

    def _link_journals(self, state, iban):
        """The active bank journals, of any company, whose account is
        ``iban`` (the candidates :meth:`_link_route` chooses from)."""
        Journal = self.env["account.journal"].sudo().with_context(active_test=True)
        return Journal.search(
            [("type", "=", "bank"), ("bank_account_id.sanitized_acc_number", "=", iban)], order="sequence, id"
        )

    # ------------------------------------------------------------------
    # statements (camt.053, TITO)
    # ------------------------------------------------------------------
    def _link_statement(self, state, statement, entries, account, journal):
        """Import one statement of a camt.053 or TITO file into ``journal``:
        an ``account.bank.statement`` with a line per new booked entry of
        ``entries`` (those already imported, or itemised by a reference
        payment file, are left out), its balances, then
        :meth:`_link_check_balances`. ``account`` is the statement's IBAN.
        Adds the statement to ``state.statement_ids``; a statement with no
        new line is not kept. Returns the statement or an empty recordset."""
        occurrences = Counter()
        file_sum = Decimal(0)
        acc = ImportedLines()
        rows = []
        # The statement exists from the start so that new lines go straight
        # into it; its computed fields (balances, date, index) are left alone
        # meanwhile, else every reconciliation would recompute them over all
        # its lines, and are computed once by _heeros_link_attach at the end.
        record, computed = self.env["account.bank.statement"]._heeros_link_open(journal, state.file_name, state.message)
        with orm.protecting(self.env, computed, record):
            for entry in entries:
                if entry.status != BOOKED:
                    continue
                state.booked += 1
                file_sum += entry.amount
                rows.extend(self._link_entry_rows(state, entry, statement, account, occurrences, items=False))
                if len(rows) >= CHUNK:
                    self._link_flush_statement_rows(state, journal, rows, acc, record)
                    rows = []
                    self._link_release(state)
            self._link_flush_statement_rows(state, journal, rows, acc, record)
            if not acc.ids:
                record.unlink()
                return self.env["account.bank.statement"]
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
        record._heeros_link_attach(acc.ids)
        state.statement_ids.append(record.id)
        self._link_check_balances(state, record, statement, journal, currency, file_sum, opening, closing)
        return record

    def _link_flush_statement_rows(self, state, journal, rows, acc, into=None):
        """Create the lines of a chunk of statement ``rows`` (:class:`ImportRow`)
        into the statement ``into``, once :meth:`_link_itemise` has taken out
        the entries whose payments are already imported; adds them to ``acc``
        (:class:`ImportedLines`). Returns the lines created."""
        if not rows:
            return self.env["account.bank.statement.line"]
        rows = self._link_without_existing(state, rows)
        keep = self._link_itemise(state, journal, rows, acc)
        lines = self._link_create_lines(state, journal, keep, into=into)
        state.line_ids.extend(lines.ids)
        acc.add(lines.ids, sum((r.amount for r in keep), Decimal(0)), [r.date for r in keep])
        return lines

    def _link_itemise(self, state, journal, rows, acc):
        """Lump sums replaced by the payments of a camt.054 or KTL file
        imported earlier: for every entry of ``rows`` that such payments
        itemise (by the entry's archive reference, or a KTL day adding up to
        a lump sum), those payments stand for it in the statement (added to
        ``acc``, see :meth:`_link_use_items`). Returns the rows still to be
        created."""
        keep = []
        by_batch = self._link_itemised(
            state, journal, {f"a:{r.entry.archive_id}" for r in rows if r.kind == "entry" and r.entry.archive_id}
        )
        for row in rows:
            items = by_batch.get(f"a:{row.entry.archive_id}") if row.kind == "entry" else None
            if items is None and row.lump:
                items = self._link_ktl_items(state, journal, row)
            if items is not None:
                self._link_use_items(state, row, items, acc)
                continue
            keep.append(row)
        return keep

    def _link_use_items(self, state, row, items, acc):
        """A lump-sum entry (``row``) whose payments (``items``, statement
        lines) are already imported: those stand for it; they join this
        statement (``acc``) unless already in one. A total that differs is a
        warning."""
        total = sum(items.mapped("amount"))
        currency = items[:1].currency_id
        if currency.compare_amounts(total, float(row.amount)) != 0:
            state.warnings.append(
                _(
                    "Entry %(archive)s of %(date)s: its itemised payments total %(items)s but the statement "
                    "says %(amount)s; the statement's entry was not imported, check the payments.",
                    archive=row.entry.archive_id or "-",
                    date=row.date,
                    items=self._link_fmt(total, currency),
                    amount=self._link_fmt(row.amount, currency),
                )
            )
        free = items.filtered(lambda line: not line.statement_id)
        acc.add(free.ids, Decimal(str(sum(free.mapped("amount")))), free.mapped("date"))
        state.changed += len(free)
        state.notes.append(
            _(
                "Lump sum %(archive)s (%(amount)s) is represented by its %(count)s itemised payments.",
                archive=row.entry.archive_id or row.date,
                amount=self._link_fmt(row.amount, currency),
                count=len(items),
            )
        )

    def _link_release(self, state):
        """Write what is pending and empty the record cache between chunks:
        the memory a large file needs stays that of one chunk of lines."""
        self.env.flush_all()
        self.env.invalidate_all()

    def _link_check_balances(self, state, record, statement, journal, currency, file_sum, opening, closing):
        """Check the statement ``record`` just made from ``statement``: its
        ``opening`` balance plus the booked entries (``file_sum``) give its
        ``closing`` balance, and it starts where the journal's previous
        statement ended. A mismatch is written on the statement and added to
        ``state.warnings``; returns the list of problems (texts)."""
        problems = []
        label = _("Statement %(name)s (%(iban)s)", name=record.name, iban=journal.bank_account_id.acc_number)
        if opening is not None and closing is not None:
            computed = float(opening.amount + file_sum)
            if currency.compare_amounts(computed, float(closing.amount)) != 0:
                problems.append(
                    _(
                        "%(label)s: opening balance %(opening)s plus the entries %(entries)s makes "
                        "%(computed)s, but the bank states a closing balance of %(closing)s "
                        "(difference %(diff)s).",
                        label=label,
                        opening=self._link_fmt(opening.amount, currency),
                        entries=self._link_fmt(file_sum, currency),
                        computed=self._link_fmt(computed, currency),
                        closing=self._link_fmt(closing.amount, currency),
                        diff=self._link_fmt(float(closing.amount) - computed, currency),
                    )
                )
        record.flush_recordset()
        previous = self.env["account.bank.statement"].search(
            [
                ("journal_id", "=", journal.id),
                ("id", "!=", record.id),
                ("first_line_index", "<", record.first_line_index),
            ],
            order="first_line_index desc",
            limit=1,
        )
        if previous and currency.compare_amounts(previous.balance_end_real, record.balance_start) != 0:
            problems.append(
                _(
                    "%(label)s: the opening balance %(start)s does not continue the closing balance "
                    "%(previous)s of the previous statement %(prev_name)s (difference %(diff)s); a "
                    "statement may be missing or imported out of order.",
                    label=label,
                    start=self._link_fmt(record.balance_start, currency),
                    previous=self._link_fmt(previous.balance_end_real, currency),
                    prev_name=previous.name,
                    diff=self._link_fmt(record.balance_start - previous.balance_end_real, currency),
                )
            )
        if problems:
            record.heeros_link_balance_warning = "\n".join(problems)
            state.warnings.extend(problems)
        return problems

    # ------------------------------------------------------------------
    # reference payments (camt.054, KTL)
    # ------------------------------------------------------------------
    def _link_items(self, state, statement, entries, account, journal):
        """Import the payments of one statement of a camt.054 or KTL file
        into ``journal``: a line per new payment, grouped by the lump sum
        they make up (the entry's archive reference in camt.054, the booking
        day in KTL) and handed to :meth:`_link_flush_items`. Returns
        nothing."""
        occurrences = Counter()
        if state.format.itemise_by == "day":
            self._link_items_by_day(state, statement, entries, account, journal, occurrences)
            return
        rows = []
        for entry in entries:
            if entry.status != BOOKED:
                continue
            state.booked += 1
            entry_rows = self._link_entry_rows(state, entry, statement, account, occurrences, items=True)
            batch_key = f"a:{entry.archive_id}" if entry.archive_id else None
            for row in entry_rows:
                row.batch_key = batch_key
            if batch_key:
                self._link_flush_items(state, journal, entry_rows, batch_key)
            else:
                rows.extend(entry_rows)
            if len(rows) >= CHUNK:
                self._link_flush_items(state, journal, rows, None)
                rows = []
                self._link_release(state)
        self._link_flush_items(state, journal, rows, None)

    def _link_items_by_day(self, state, statement, entries, account, journal, occurrences):
        """The payments of one account of an itemisation file whose lump sums
        are a booking day's payments (KTL): handed to
        :meth:`_link_flush_items` day by day, in chunks of :data:`CHUNK`
        (memory stays that of one chunk). The day's count and total, which
        decide how its lump sum is replaced, come from the statement header
        (``extra['booked_by_day']``) when the reader gives them, else from
        the day's payments collected whole. Returns nothing."""
        known = statement.extra.get("booked_by_day") or {}
        pending = defaultdict(list)  # days without a known total: collected whole

        def flush(day, rows):
            batch_key = f"d:{day}"
            for row in rows:
                row.batch_key = batch_key
            count, total = known.get(day, (None, None))
            self._link_flush_items(state, journal, rows, batch_key, count=count, total=total)

        day, rows = None, []
        for entry in entries:
            if entry.status != BOOKED:
                continue
            state.booked += 1
            entry_rows = self._link_entry_rows(state, entry, statement, account, occurrences, items=True)
            if entry.booking_date not in known:
                pending[entry.booking_date].extend(entry_rows)
                continue
            if entry.booking_date != day or len(rows) >= CHUNK:
                if rows:
                    flush(day, rows)
                    self._link_release(state)
                day, rows = entry.booking_date, []
            rows.extend(entry_rows)
        if rows:
            flush(day, rows)
        for pending_day, pending_rows in pending.items():
            flush(pending_day, pending_rows)

    def _link_flush_items(self, state, journal, rows, batch_key, count=None, total=None):
        """Create the payments ``rows`` of one lump sum (``batch_key``) or of
        none, replacing the lump-sum line of a statement imported earlier
        (:meth:`_link_lump_line`) in that statement; a lump sum already
        reconciled or of another total is kept, with a warning. The payments
        of one lump sum may come in several chunks: ``count`` and ``total``
        are then those of all of them (by default those of ``rows``), and
        what :meth:`_link_lump_plan` decided for the first chunk holds for
        the others. Returns the lines created."""
        Line = self.env["account.bank.statement.line"]
        rows = self._link_without_existing(state, rows)
        if not rows:
            return Line
        plan = None
        if batch_key:
            plans = state.extra.setdefault("lump_plans", {})
            plan = plans.get((journal.id, batch_key))
            if plan is None:
                plan = plans[(journal.id, batch_key)] = self._link_lump_plan(
                    state,
                    journal,
                    rows,
                    batch_key,
                    len(rows) if count is None else count,
                    sum((r.amount for r in rows), Decimal(0)) if total is None else total,
                )
        if plan and plan["action"] == "keep":
            return Line
        extra = None
        if plan and plan["action"] == "replace":
            extra = {"statement_id": plan["statement_id"], "sequence": plan["sequence"]}
        lines = self._link_create_lines(state, journal, rows, extra=extra)
        state.line_ids.extend(lines.ids)
        return lines

    def _link_lump_plan(self, state, journal, rows, batch_key, count, total):
        """What becomes of the lump-sum line the payments of ``batch_key``
        make up (``count`` payments of ``total``, the first of them
        ``rows``): ``{"action": "create"}`` when no statement holds it yet;
        ``keep`` (the payments are not imported) when the statement booked a
        single payment as such, or the lump sum is reconciled or of another
        total (with a warning); ``replace`` otherwise: the lump-sum line is
        removed and the payments take its place (``statement_id``,
        ``sequence``) in its statement."""
        lump = self._link_lump_line(state, journal, rows, batch_key, total)
        if not lump:
            return {"action": "create"}
        currency = lump.currency_id
        if not lump.heeros_link_lump_sum and count == 1 and currency.compare_amounts(float(total), lump.amount) == 0:
            return {"action": "keep"}  # a single payment the statement already booked as such: nothing new
        if lump.is_reconciled or lump.move_id.line_ids.matched_debit_ids or lump.move_id.line_ids.matched_credit_ids:
            state.warnings.append(
                _(
                    "The lump sum %(name)s (%(amount)s) of statement %(statement)s is already "
                    "reconciled: its %(count)s itemised payments were not imported. Undo that "
                    "reconciliation and reprocess this message to have the payments instead.",
                    name=lump.heeros_link_archive_id or lump.payment_ref,
                    amount=self._link_fmt(lump.amount, currency),
                    statement=lump.statement_id.name or "-",
                    count=count,
                )
            )
            return {"action": "keep"}
        if currency.compare_amounts(float(total), lump.amount) != 0:
            state.warnings.append(
                _(
                    "The %(count)s itemised payments of %(name)s total %(items)s, but the statement line "
                    "holding their lump sum is %(amount)s: the lump sum was kept and the payments were "
                    "not imported (they would count twice); check the bank's files.",
                    count=count,
                    name=lump.heeros_link_archive_id or batch_key,
                    items=self._link_fmt(total, currency),
                    amount=self._link_fmt(lump.amount, currency),
                )
            )
            return {"action": "keep"}
        statement, sequence = lump.statement_id, lump.sequence
        lump_text = f"{lump.heeros_link_archive_id or lump.payment_ref} ({self._link_fmt(lump.amount, currency)})"
        lump.unlink()
        state.notes.append(
            _(
                "Lump sum %(lump)s of statement %(statement)s replaced by its %(count)s payments.",
                lump=lump_text,
                statement=statement.name or "-",
                count=count,
            )
        )
        return {"action": "replace", "statement_id": statement.id, "sequence": sequence}

    def _link_lump_line(self, state, journal, rows, batch_key, total=None):
        """The statement line holding the lump sum of the payments ``rows``,
        if imported: by archive reference (``batch_key`` ``a:...``), or for
        KTL (``d:<day>``) the day's reference-payment lump sum of the same
        total. Returns a statement line or an empty recordset."""
        Line = self.env["account.bank.statement.line"]
        if batch_key.startswith("a:"):
            return Line.search(
                [
                    ("journal_id", "=", journal.id),
                    ("heeros_link_archive_id", "=", batch_key[2:]),
                    ("heeros_link_batch_key", "=", False),
                    ("heeros_link_import_id", "like", "a:%"),
                ],
                limit=1,
            )
        total = float(sum((r.amount for r in rows), Decimal(0)) if total is None else total)
        candidates = Line.search(
            [
                ("journal_id", "=", journal.id),
                ("heeros_link_lump_sum", "=", True),
                ("date", "=", rows[0].date),
                ("heeros_link_fi_code", "in", list(state.format.lump_sum_codes)),
            ]
        )
        currency = journal.currency_id or journal.company_id.currency_id
        return candidates.filtered(lambda line: currency.compare_amounts(line.amount, total) == 0)[:1]

    def _link_itemised(self, state, journal, batch_keys):
        """``{batch key: lines}`` of payments imported earlier that itemise
        the statement entries of ``batch_keys``."""
        if not batch_keys:
            return {}
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id), ("heeros_link_batch_key", "in", list(batch_keys))]
        )
        return dict(lines.grouped("heeros_link_batch_key"))

    def _link_ktl_items(self, state, journal, row):
        """KTL payments of the lump sum ``row``: the same day's reference
        payments of the account, when they add up to it; else ``None``."""
        if not state.format.is_lump_sum(row.entry.fi_code):
            return None
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id), ("heeros_link_batch_key", "=", f"d:{row.date}")]
        )
        if not lines:
            return None
        currency = journal.currency_id or journal.company_id.currency_id
        if currency.compare_amounts(sum(lines.mapped("amount")), float(row.amount)) != 0:
            return None
        return lines

    # ------------------------------------------------------------------
    # rows and lines
    # ------------------------------------------------------------------
    def _link_entry_rows(self, state, entry, statement, account, occurrences, items):
        """The :class:`ImportRow` list an ``entry`` of ``statement`` becomes.
        ``items``: the file itemises payments (camt.054, KTL), so every
        payment is a line of its own; a statement entry is one line unless
        it itemises reference payments. ``occurrences`` (a Counter per
        statement) keeps identical entries apart in their import ids."""
        date = entry.booking_date or entry.value_date or statement.to_date or statement.from_date
        if not date:
            raise RecordError(
                _(
                    "entry %s has no booking date, nor has its statement a period: ask the bank for a corrected file",
                    entry.archive_id or entry.entry_reference,
                ),
                file_name=state.file_name,
                line=entry.line,
            )
        details = entry.details
        if len(details) == 1 and details[0].amount is None:
            details[0].amount = entry.amount
        usable = len(details) == 1 or (
            len(details) > 1
            and all(d.amount is not None for d in details)
            and sum(d.amount for d in details) == entry.amount
        )
        if items and not usable:
            if len(details) > 1:
                total = sum((d.amount for d in details if d.amount is not None), Decimal(0))
                state.warnings.append(
                    _(
                        "Entry %(archive)s of %(date)s: its %(count)s payments total %(total)s but the entry "
                        "is %(amount)s, so it was taken as one line, not itemised; check the bank's file.",
                        archive=entry.archive_id or entry.entry_reference or "-",
                        date=date,
                        count=len(details),
                        total=total,
                        amount=entry.amount,
                    )
                )
            details = []
        if items and len(details) <= 1:
            detail = details[0] if details else None
            key = _occurrence_key(
                occurrences, lambda n: detail.import_key(account, entry, n) if detail else entry.import_key(account, n)
            )
            return [ImportRow(key, entry.amount, date, entry, detail, "item")]
        if items or (
            usable
            and len(details) > 1
            and (state.format.is_lump_sum(entry.fi_code) or any(d.creditor_reference for d in details))
        ):
            rows = []
            for detail in details:
                key = _occurrence_key(occurrences, lambda n, d=detail: d.import_key(account, entry, n))
                rows.append(ImportRow(key, detail.amount, date, entry, detail, "item"))
            return rows
        key = _occurrence_key(occurrences, lambda n: entry.import_key(account, n))
        lump = state.format.is_lump_sum(entry.fi_code) or (entry.batch_count or 0) > 1 or len(details) > 1
        detail = details[0] if len(details) == 1 else None
        return [ImportRow(key, entry.amount, date, entry, detail, "entry", lump=lump)]

    def _link_without_existing(self, state, rows):
        """``rows`` without those whose import id is already a statement
        line's (imported before): one query."""
        keys = [r.key for r in rows]
        if not keys:
            return rows
        Line = self.env["account.bank.statement.line"]
        Line.flush_model(["heeros_link_import_id"])
        self.env.cr.execute(
            SQL(
                "SELECT heeros_link_import_id FROM account_bank_statement_line WHERE heeros_link_import_id = ANY(%s)",
                keys,
            )
        )
        existing = {key for (key,) in self.env.cr.fetchall()}
        return [r for r in rows if r.key not in existing]

    def _link_create_lines(self, state, journal, rows, extra=None, into=None):
        """Create the statement lines of ``rows`` in ``journal`` in one
        batch: :meth:`_link_match_partners`, :meth:`_link_match_invoices`,
        :meth:`_link_line_vals` (plus the values ``extra``) for each row, the
        batch creation (into the statement ``into``), the link to the
        message, then :meth:`_link_reconcile`. Returns the lines, in the
        order of ``rows``."""
        Line = self.env["account.bank.statement.line"]
        if not rows:
            return Line
        self._link_match_partners(state, journal, rows)
        self._link_match_invoices(state, journal, rows)
        self._link_prefetch_partners(state, journal, rows)
        vals_list = [dict(self._link_line_vals(state, row), **(extra or {})) for row in rows]
        lines = Line._heeros_link_create_batch(journal, vals_list, cache=state.line_cache, into=into)
        state.changed += len(lines)
        # new lines: linked to the message here, chunk by chunk
        state.message.sudo()._link_new_records(Line._name, lines.ids)
        self._link_reconcile(state, lines, rows)
        return lines

    def _link_line_vals(self, state, row):
        """The values of the statement line ``row`` becomes (a dict for
        ``account.bank.statement.line``, with ``date``)."""
        entry, detail = row.entry, row.detail
        text = None
        if detail:
            text = detail.remittance_info or detail.additional_remittance_info
        text = text or entry.additional_info
        name = None
        if detail:
            name = detail.counterparty_name or (detail.ultimate_debtor if row.amount > 0 else detail.ultimate_creditor)
        iso = "/".join(p for p in (entry.domain_code, entry.family_code, entry.subfamily_code) if p)
        proprietary = (detail.proprietary_code if detail and row.kind == "item" else None) or entry.proprietary_code
        fi_code = (
            entry.fi_code
            if row.kind == "entry"
            else ((proprietary or "")[:3] if (proprietary or "")[:3].isdecimal() else entry.fi_code)
        )
        archive = (detail.archive_id if detail and row.kind == "item" else None) or entry.archive_id
        exchange = (detail.exchange if detail else None) or entry.exchange
        charges = (detail.charges if detail else None) or (
            entry.charges if row.kind == "entry" or len(entry.details) <= 1 else None
        )
        instructed = None
        if (
            detail
            and detail.instructed_amount is not None
            and (detail.instructed_currency != entry.currency or detail.instructed_amount != abs(row.amount))
        ):
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
            "file": state.file_name,
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
            "heeros_link_import_id": row.key,
            "heeros_link_bank_message_id": state.message.id,
            "heeros_link_archive_id": archive,
            "heeros_link_batch_key": row.batch_key,
            "heeros_link_lump_sum": row.lump,
            "heeros_link_fi_code": fi_code or False,
            "heeros_link_iso_code": iso or False,
            "heeros_link_reference": row.reference,
            "heeros_link_match_state": "none" if not row.reference or row.amount <= 0 else row.match,
            "heeros_link_invoice_ids": [(6, 0, row.invoices.ids)] if row.invoices else False,
        }

    # ------------------------------------------------------------------
    # partners and invoices
    # ------------------------------------------------------------------
    def _link_match_partners(self, state, journal, rows):
        """Set the partner (``row.partner_id``, a commercial partner id) of
        the ``rows`` whose counterparty the rules of
        :meth:`_link_partner_rules` name one partner for, the first rule
        that does winning. Returns nothing. An override may set more rows'
        partners after ``super()`` (a row without one has ``partner_id``
        ``False``)."""
        rules = self._link_partner_rules(state, journal, rows)
        for row in rows:
            if not row.detail:
                continue
            for found in rules:
                partners = found.get(row)
                if partners and len(partners) == 1:
                    row.partner_id = next(iter(partners))
                    break

    def _link_partner_rules(self, state, journal, rows):
        """The partner candidates of ``rows``, rule by rule in the order they
        count: a list of ``{row: set of partner ids}``, by default
        :meth:`_link_partners_by_account` (IBAN), then
        :meth:`_link_partners_by_business_id`, then
        :meth:`_link_partners_by_name` (exact name). A query per rule for all
        rows, none per row."""
        self.env["res.partner"].flush_model()
        self.env["res.partner.bank"].flush_model()
        return [
            self._link_partners_by_account(state, journal, rows),
            self._link_partners_by_business_id(state, journal, rows),
            self._link_partners_by_name(state, journal, rows),
        ]

    def _link_partners_by_account(self, state, journal, rows):
        """``{row: partner ids}``: the partners with the bank account (IBAN)
        the payment came from or went to, among the journal company's and
        shared partners."""

        def account(row):
            detail = row.detail
            return (
                _iban(detail.counterparty_iban or detail.counterparty_account)
                if detail and (detail.counterparty_iban or detail.counterparty_account)
                else None
            )

        wanted = {row: account(row) for row in rows}
        accounts = {a for a in wanted.values() if a}
        if not accounts:
            return {}
        self.env.cr.execute(
            SQL(
                """
            SELECT b.sanitized_acc_number, p.commercial_partner_id
              FROM res_partner_bank b JOIN res_partner p ON p.id = b.partner_id
             WHERE b.sanitized_acc_number = ANY(%(accounts)s) AND b.active AND p.active
               AND (p.company_id IS NULL OR p.company_id = %(company)s)
          ORDER BY b.id""",
                accounts=list(accounts),
                company=journal.company_id.id,
            )
        )
        by_account = {}
        for number, partner in self.env.cr.fetchall():
            by_account.setdefault(number, set()).add(partner)
        return {row: by_account[a] for row, a in wanted.items() if a in by_account}

    def _link_partners_by_business_id(self, state, journal, rows):
        """``{row: partner ids}``: the partners whose company registry or
        Finnish VAT number is the business id (Y-tunnus) the file gives for
        the counterparty."""
        ids = {}
        for row in rows:
            business_id = _business_id(row.detail)
            if business_id:
                ids[row] = business_id
        if not ids:
            return {}
        wanted = set(ids.values())
        vats = [f"FI{b.replace('-', '')}" for b in wanted]
        self.env.cr.execute(
            SQL(
                """
            SELECT p.company_registry, p.vat, p.commercial_partner_id FROM res_partner p
             WHERE p.active AND (p.company_id IS NULL OR p.company_id = %(company)s)
               AND (p.company_registry = ANY(%(ids)s) OR upper(replace(p.vat, ' ', '')) = ANY(%(vats)s))
        """,
                ids=list(wanted),
                vats=vats,
                company=journal.company_id.id,
            )
        )
        by_id = {}
        for registry, vat, partner in self.env.cr.fetchall():
            for key in (registry, _business_id_from_vat(vat)):
                if key:
                    by_id.setdefault(key, set()).add(partner)
        return {row: by_id[b] for row, b in ids.items() if b in by_id}

    def _link_partners_by_name(self, state, journal, rows):
        """``{row: partner ids}``: the top-level partners named exactly (case
        aside) as the counterparty."""
        wanted = {
            row: row.detail.counterparty_name.strip().lower()
            for row in rows
            if row.detail and row.detail.counterparty_name
        }
        if not wanted:
            return {}
        self.env.cr.execute(
            SQL(
                """
            SELECT lower(p.name), p.id FROM res_partner p
             WHERE p.active AND p.parent_id IS NULL AND lower(p.name) = ANY(%(names)s)
               AND (p.company_id IS NULL OR p.company_id = %(company)s)""",
                names=list(set(wanted.values())),
                company=journal.company_id.id,
            )
        )
        by_name = {}
        for name, partner in self.env.cr.fetchall():
            by_name.setdefault(name, set()).add(partner)
        return {row: by_name[n] for row, n in wanted.items() if n in by_name}

    def _link_prefetch_partners(self, state, journal, rows):
        """Read at once what the line creation needs of the partners of
        ``rows`` it has not seen in this file (see
        ``account.move._heeros_link_partner_values``), so that it does not read them
        partner by partner. Returns nothing."""
        seen = state.extra.setdefault("prefetched_partners", set())
        todo = {(journal.id, row.partner_id) for row in rows if row.partner_id} - seen
        if not todo:
            return
        seen |= todo
        partners = (
            self.env["res.partner"]
            .with_company(journal.company_id)
            .browse(sorted({partner for _journal, partner in todo}))
        )
        # one query each for all of them: the columns, the company-dependent
        # fields (fiscal position, payment methods, pricelist), contacts, bank
        # accounts; what the ORM reads of a single partner otherwise
        for name in ("name", "property_account_position_id", "child_ids", "bank_ids"):
            partners.mapped(name)

    def _link_match_invoices(self, state, journal, rows):
        """For each incoming payment of ``rows`` with a reference, the open
        customer invoices it pays (:meth:`_link_open_invoices`): the one of
        the exact amount, else the oldest first while the amount lasts. Sets
        ``row.invoices``, ``row.match`` (``paid``, ``partial``, ``overpaid``
        or ``unmatched``) and ``row.partner_id`` (the invoices' customer).
        Returns nothing."""
        wanted = [r for r in rows if r.reference and r.amount > 0]
        if not wanted:
            return
        keys = set()
        for row in wanted:
            keys |= fi_reference.matching_keys(row.reference)
        currency = journal.currency_id or journal.company_id.currency_id
        Move = self.env["account.move"]
        by_key = self._link_open_invoices(state, journal, keys)
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

    def _link_open_invoices(self, state, journal, keys):
        """``{reference key: [invoice ids]}``: the posted, not fully paid
        customer invoices of the journal's company and currency whose
        payment reference has one of the matching ``keys``
        (``fi_reference.matching_keys``), by due date; one query."""
        currency = journal.currency_id or journal.company_id.currency_id
        self.env["account.move"].flush_model(
            ["payment_reference", "payment_state", "state", "move_type", "company_id", "currency_id", "amount_residual"]
        )
        # the same compact form as the Python side's keys, every Unicode space removed
        self.env.cr.execute(
            SQL(
                f"""
            SELECT id, payment_reference FROM account_move
             WHERE company_id = %(company)s AND move_type = 'out_invoice' AND state = 'posted'
               AND payment_state IN ('not_paid', 'partial') AND currency_id = %(currency)s
               AND payment_reference IS NOT NULL
               AND {fi_reference.compact_sql("payment_reference")} = ANY(%(keys)s)
          ORDER BY invoice_date_due NULLS LAST, invoice_date NULLS LAST, id""",
                company=journal.company_id.id,
                currency=currency.id,
                keys=list(keys),
            )
        )
        by_key = defaultdict(list)
        for move_id, ref in self.env.cr.fetchall():
            by_key[fi_reference.compact(ref)].append(move_id)
        return by_key

    def _link_reconcile(self, state, lines, rows):
        """Reconcile each new statement line of ``lines`` (in the order of
        ``rows``) whose row has invoices with their open receivable items:
        its suspense item moves to the invoices' receivable account and
        partner, then all pairs are reconciled in one plan (one pass of
        Odoo's reconciliation, its checks and the invoices' payment states
        for the whole chunk). Counts the outcome in ``state.matches``;
        returns nothing."""
        plan = []
        moved = defaultdict(lambda: self.env["account.move.line"])
        # the invoices' items for all rows at once, not invoice by invoice
        invoices = self.env["account.move"].browse({i for row in rows if row.invoices for i in row.invoices.ids})
        invoices.line_ids.mapped("reconciled")
        for line, row in zip(lines, rows):
            if not row.invoices:
                if row.match == "unmatched":
                    state.matches["unmatched"] += 1
                continue
            receivables = row.invoices.line_ids.filtered(
                lambda aml: aml.account_id.account_type == "asset_receivable" and not aml.reconciled
            )
            if not receivables:
                line.heeros_link_match_state = "unmatched"
                state.matches["unmatched"] += 1
                continue
            _liquidity, suspense, _other = line._seek_for_lines()
            moved[(receivables[0].account_id.id, row.invoices[:1].commercial_partner_id.id)] |= suspense
            plan.append((suspense, receivables))
            state.matches[row.match] += 1
        for (account_id, partner_id), suspense in moved.items():
            suspense.write({"account_id": account_id, "partner_id": partner_id})
        if plan:
            self.env["account.move.line"]._reconcile_plan([suspense | receivables for suspense, receivables in plan])

    # ------------------------------------------------------------------
    # outcome
    # ------------------------------------------------------------------
    def _link_fmt(self, amount, currency):
        """``amount`` in ``currency`` as a person reads it."""
        return format_amount(self.env, float(amount), currency).replace("\ufeff", "")

    def _link_report(self, state):
        """Post what the import made (statements, lines, reference payments
        matched, notes) and what needs attention (``state.warnings``, also
        the message's warning) in the message's chatter. Returns nothing."""
        message = state.message
        statements = self.env["account.bank.statement"].browse(state.statement_ids)
        parts = []
        if statements:
            parts.append(
                _(
                    "%(count)s statement(s): %(names)s",
                    count=len(statements),
                    names=", ".join(statements.mapped("name")),
                )
            )
        if state.line_ids:
            parts.append(_("%s statement line(s) created", len(state.line_ids)))
        if state.matches:
            parts.append(
                _(
                    "reference payments: %(paid)s paid an invoice, %(partial)s paid part of one, "
                    "%(over)s paid more than the invoice, %(none)s found no open invoice",
                    paid=state.matches["paid"],
                    partial=state.matches["partial"],
                    over=state.matches["overpaid"],
                    none=state.matches["unmatched"],
                )
            )
        parts.extend(state.notes)
        if state.warnings:
            message.bank_warning = "\n".join(state.warnings)
        body = "\n".join(parts + ([_("Needs attention:")] + state.warnings if state.warnings else []))
        if body:
            message.message_post(body=plaintext2html(body))

    def _link_forward(self, state, data):
        """Queue a copy of the file (``data``) on every connection that
        forwards this document type for the company (not the one it came
        from), as a message linked to this one. Returns the messages
        queued."""
        Message = self.env["heeros.link.message"].sudo()
        queued = Message
        if not state.company:
            return queued
        connections = self.env["heeros.link.connection"]._link_forwarding(
            state.company, state.kind, exclude=state.message.connection_id
        )
        for connection in connections:
            queued |= Message._link_queue(
                state.kind,
                state.file_name or state.message.name,
                data,
                state.company,
                connection=connection,
                external_ref=state.message.external_ref,
                parent=state.message,
            )
            state.notes.append(_("Copy queued for %s.", connection.name))
        return queued


def _occurrence_key(occurrences, make):
    """``make(n)`` for the n-th entry (from 0) of the statement with the same
    key: entries identical in every field stay apart."""
    base = make(0)
    count = occurrences[base]
    occurrences[base] += 1
    return make(count) if count else base


def _business_id(detail):
    """A Finnish business id (Y-tunnus, ``1234567-8``) the file gives for the
    counterparty, if any."""
    if not detail:
        return None
    for key in ("payer_id", "counterparty_id", "debtor_id", "creditor_id", "organisation_id"):
        found = identifiers.normalise_business_id(detail.extra.get(key))
        if found:
            return found
    return None


def _business_id_from_vat(vat):
    return identifiers.business_id_from_vat(vat) or None
