"""Plain data classes shared by every bank statement format of the Link.

The camt.052/053/054, TITO and KTL parsers all return a :class:`BankDocument`
holding :class:`Statement` objects (one per account and period), each with its
:class:`Balance` list and its :class:`Entry` list; an entry carries the
:class:`TxDetail` objects that itemise it.

Conventions used by every parser:

* amounts are :class:`decimal.Decimal`, never float; an entry or detail
  amount is signed from the account holder's point of view: credits (money
  in) are positive, debits (money out) negative;
* dates are :class:`datetime.date`; where the file gives a timestamp it is
  kept as :class:`datetime.datetime` too (time-zone aware when the file says
  which zone);
* text values are stripped; an empty value is ``None``;
* values a format has but these classes do not name go into ``extra``
  (a plain ``dict`` of strings, decimals or dates), so nothing is lost.

Nothing here imports Odoo.
"""

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

#: Entry status codes (ISO 20022 ExternalEntryStatus1Code).
BOOKED, PENDING, INFORMATION, FUTURE = "BOOK", "PDNG", "INFO", "FUTR"


def _amount_text(amount):
    """Canonical text of an amount for hashing: ``Decimal('100.00')`` and
    ``Decimal('100')`` give the same ``'100'``."""
    if amount is None:
        return ""
    return format(Decimal(amount).normalize(), "f")


def _digest(*parts):
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


@dataclass(slots=True)
class Balance:
    """A balance of the account as stated by the bank.

    ``code`` is the ISO 20022 balance type in upper case (``OPBD`` opening
    booked, ``PRCD`` previous closing, ``CLBD`` closing booked, ``CLAV``
    closing available, ``ITBD``/``ITAV`` interim, ``FWAV`` forward available,
    ``OPAV``, ``XPCD``, ``INFO`` ...). ``amount`` is signed (a debit balance is
    negative). ``credit_line`` is the credit limit when the bank gives one.
    """

    code: str
    amount: Decimal
    currency: str | None = None
    date: _dt.date | None = None
    timestamp: _dt.datetime | None = None
    credit_line: Decimal | None = None
    credit_line_included: bool | None = None
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class Exchange:
    """A currency exchange the bank reports for an amount (camt
    ``CcyXchg``): ``rate`` as given, converting ``source`` into ``target``;
    ``unit`` is the currency the rate is quoted in (``UnitCcy``)."""

    rate: Decimal
    source: str | None = None
    target: str | None = None
    unit: str | None = None

    def __str__(self):
        pair = " → ".join(c for c in (self.source, self.target) if c)
        unit = f", unit {self.unit}" if self.unit else ""
        return f"{self.rate} ({pair}{unit})" if pair or unit else str(self.rate)


@dataclass(slots=True)
class TxDetail:
    """One underlying transaction of an entry (camt ``TxDtls``; the payment
    itself for TITO and KTL).

    ``amount`` is signed like the entry (``None`` when the file does not say
    and cannot say, e.g. several details without amounts). The
    ``counterparty_*`` fields name the other party: the debtor for money in,
    the creditor for money out; ``debtor_*``/``creditor_*`` keep both sides
    as written. ``creditor_reference`` is the structured payment reference
    (Finnish viitenumero or RF reference) in compact form when valid, as
    written otherwise; ``creditor_reference_kind`` is ``'fi'``, ``'rf'`` or
    ``None`` (see :func:`heeros_link_base.formats.reference.kind`).
    ``remittance_info`` is the unstructured message (several ``Ustrd`` lines
    joined with a space). ``exchange`` is the first currency exchange between
    two different currencies that the bank reports, ``charges`` the bank's
    charges by currency (``{"EUR": Decimal("2.50")}``, credited charges
    counted negative); an :class:`Entry` has both too.
    """

    amount: Decimal | None = None
    currency: str | None = None
    end_to_end_id: str | None = None
    instruction_id: str | None = None
    transaction_id: str | None = None
    payment_info_id: str | None = None
    message_id: str | None = None
    mandate_id: str | None = None
    uetr: str | None = None
    archive_id: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_account: str | None = None
    counterparty_bic: str | None = None
    debtor_name: str | None = None
    debtor_iban: str | None = None
    debtor_account: str | None = None
    debtor_bic: str | None = None
    creditor_name: str | None = None
    creditor_iban: str | None = None
    creditor_account: str | None = None
    creditor_bic: str | None = None
    ultimate_debtor: str | None = None
    ultimate_creditor: str | None = None
    creditor_reference: str | None = None
    creditor_reference_kind: str | None = None
    creditor_references: list = field(default_factory=list)
    remittance_info: str | None = None
    additional_remittance_info: str | None = None
    additional_info: str | None = None
    payment_date: _dt.date | None = None
    settlement_date: _dt.date | None = None
    instructed_amount: Decimal | None = None
    instructed_currency: str | None = None
    exchange: "Exchange | None" = None
    charges: dict = field(default_factory=dict)
    proprietary_code: str | None = None
    return_reason: str | None = None
    return_info: str | None = None
    extra: dict = field(default_factory=dict)

    def import_key(self, account=None, entry=None, occurrence=0):
        """A stable key for idempotent imports of this detail.

        Built from the bank's own archive reference of the transaction when
        there is one; else from the entry's archive reference plus the
        end-to-end id and reference; else from a hash of account, date,
        amount, reference and counterparty. ``occurrence`` (0, 1, ...)
        separates details that are identical in every field.
        """
        account = account or ""
        if self.archive_id:
            return "t:" + _digest(account, self.archive_id.strip(), occurrence or "")
        amount = _amount_text(self.amount)
        if entry is not None and entry.archive_id and (self.end_to_end_id or self.creditor_reference):
            return "e:" + _digest(
                account, entry.archive_id.strip(), self.end_to_end_id, self.creditor_reference, amount, occurrence or ""
            )
        booking = entry.booking_date.isoformat() if entry is not None and entry.booking_date else ""
        return "h:" + _digest(
            account,
            booking,
            self.payment_date.isoformat() if self.payment_date else "",
            amount,
            self.currency,
            self.creditor_reference,
            self.end_to_end_id,
            self.counterparty_name,
            self.counterparty_iban or self.counterparty_account,
            self.remittance_info,
            occurrence or "",
        )


@dataclass(slots=True)
class Entry:
    """One booking (or pending / informative item) on the account.

    ``amount`` is signed: credits positive, debits negative. ``status`` is
    ``BOOK``, ``PDNG``, ``INFO`` or ``FUTR``. ``archive_id`` is the bank's
    archive reference (camt ``AcctSvcrRef``, TITO/KTL arkistointitunnus);
    ``entry_reference`` is camt ``NtryRef`` or the TITO transaction number.
    ``domain_code``/``family_code``/``subfamily_code`` are the ISO bank
    transaction code; ``proprietary_code``/``proprietary_issuer`` the bank's
    own code (Finnish banks: ``705 VIITESIIRROT`` or ``710TILISIIRTO`` issued
    by ``FFFS``; see :attr:`fi_code`). A batch (lump sum of several payments)
    has ``batch_count`` and possibly ``batch_message_id``; its payments are in
    ``details``.
    """

    amount: Decimal
    currency: str | None = None
    status: str = BOOKED
    booking_date: _dt.date | None = None
    value_date: _dt.date | None = None
    booking_timestamp: _dt.datetime | None = None
    value_timestamp: _dt.datetime | None = None
    entry_reference: str | None = None
    archive_id: str | None = None
    reversal: bool = False
    domain_code: str | None = None
    family_code: str | None = None
    subfamily_code: str | None = None
    proprietary_code: str | None = None
    proprietary_issuer: str | None = None
    additional_info: str | None = None
    batch_count: int | None = None
    batch_message_id: str | None = None
    batch_payment_info_id: str | None = None
    batch_amount: Decimal | None = None
    exchange: "Exchange | None" = None
    charges: dict = field(default_factory=dict)
    details: list = field(default_factory=list)
    line: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def fi_code(self):
        """The Finnish three-digit transaction code (``'705'``, ``'710'``...)
        that starts ``proprietary_code``, or ``None``."""
        code = (self.proprietary_code or "").strip()
        return code[:3] if len(code) >= 3 and code[:3].isdecimal() else None

    def import_key(self, account=None, occurrence=0):
        """A stable key for idempotent imports of this entry.

        The bank's archive reference identifies an entry on an account, so
        when there is one the key is made of account and archive reference
        only (the same booking reported by camt.054 and camt.053 gets the
        same key). Otherwise it is a hash of account, booking date, amount,
        currency, entry reference, the first detail's reference and
        counterparty and the entry text. ``occurrence`` (0, 1, ...) separates
        entries that are identical in all of these.
        """
        account = account or ""
        if self.archive_id:
            return "a:" + _digest(account, self.archive_id.strip(), occurrence or "")
        first = self.details[0] if self.details else TxDetail()
        return "h:" + _digest(
            account,
            self.booking_date.isoformat() if self.booking_date else "",
            _amount_text(self.amount),
            self.currency,
            self.entry_reference,
            first.creditor_reference,
            first.end_to_end_id,
            first.counterparty_name,
            first.counterparty_iban or first.counterparty_account,
            self.additional_info,
            occurrence or "",
        )


@dataclass(slots=True)
class Statement:
    """A statement, report or notification of one account.

    ``kind`` is the document kind, the code of its format (``camt.053``,
    ``tito``..., see :mod:`.registry`). ``account_iban``
    is the account's IBAN, ``account_other`` any other identifier given
    (``Othr/Id``, a Finnish BBAN). Sequence numbers are kept as text.
    ``credit_count``/``credit_sum`` and ``debit_count``/``debit_sum`` are the
    bank's own totals when the file gives them (sums are positive
    magnitudes); ``entry_count`` and ``net_amount`` (signed) likewise.
    """

    kind: str
    statement_id: str | None = None
    message_id: str | None = None
    electronic_sequence: str | None = None
    legal_sequence: str | None = None
    created: _dt.datetime | None = None
    from_date: _dt.date | None = None
    to_date: _dt.date | None = None
    from_timestamp: _dt.datetime | None = None
    to_timestamp: _dt.datetime | None = None
    account_iban: str | None = None
    account_other: str | None = None
    currency: str | None = None
    account_name: str | None = None
    owner_name: str | None = None
    servicer_bic: str | None = None
    servicer_name: str | None = None
    balances: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    entry_count: int | None = None
    net_amount: Decimal | None = None
    credit_count: int | None = None
    credit_sum: Decimal | None = None
    debit_count: int | None = None
    debit_sum: Decimal | None = None
    additional_info: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def account(self):
        """IBAN if given, else the other account identifier."""
        return self.account_iban or self.account_other

    def balance(self, *codes):
        """The first balance whose code is one of ``codes`` (in that order
        of preference), or ``None``."""
        for code in codes:
            for bal in self.balances:
                if bal.code == code:
                    return bal
        return None

    @property
    def opening_balance(self):
        """Opening booked balance (``OPBD``, else ``PRCD``)."""
        return self.balance("OPBD", "PRCD")

    @property
    def closing_balance(self):
        """Closing booked balance (``CLBD``)."""
        return self.balance("CLBD")


@dataclass(slots=True)
class BankDocument:
    """One parsed bank file: its kind, the bank's message id and creation
    time when given, the file name, and its statements."""

    kind: str
    message_id: str | None = None
    created: _dt.datetime | None = None
    file_name: str | None = None
    statements: list = field(default_factory=list)
    version: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def entries(self):
        """All entries of all statements, in file order."""
        return [entry for st in self.statements for entry in st.entries]
