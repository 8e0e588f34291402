"""One description per bank file format: what it is, how it is recognised,
how it is read and what the Link does with it.

A :class:`BankFormat` says everything the rest of the Link needs to know of
a format: its code (stored on messages as the document type), its label,
its :data:`role <ROLES>`, its detector, its reader, the balance codes that
give the account's booked and available balance, the transaction codes of
the lump sums its payments itemise, and whether a copy of it can be
forwarded. Detection, import, balances and forwarding all read these
descriptions; none of them lists format codes of its own.

Formats are registered here with :func:`register` (the built-in ones at the
end of this module) and reach a database through the model hook
``heeros.link.bank.import._link_bank_formats()``, which an addon extends to
add a format or change one (``dataclasses.replace``).

Every reader has the same shape, whatever the format and the file size:
``read(data, file_name)`` returns an iterator of ``(statement, entry)``
pairs, the pairs of one statement (one account and period) together, a
statement without entries as ``(statement, None)``. ``statement`` is a
:class:`~.statement.Statement` header without entries, complete once its
last pair has been read; ``entry`` an :class:`~.statement.Entry`.

>>> get("camt.053").role
'statement'
>>> [f.code for f in by_role("itemisation")]
['camt.054', 'ktl']

Nothing here imports Odoo.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time

from odoo.addons.heeros_link_base.formats.text import translator

from . import camt, detect, ktl, tito

_lt = translator(__name__)

#: What a file of a format is for.
#:
#: * ``statement``: booked entries of an account (camt.053, TITO): statements
#:   with a line per entry, and the account's balances;
#: * ``itemisation``: the payments a lump sum of a statement is made of
#:   (camt.054, KTL): a line per payment, in place of the lump sum;
#: * ``report``: an intraday account report (camt.052): balances only;
#: * ``payments``: payment orders the Link sends (pain.001);
#: * ``payment_feedback``: the bank's status of those orders (pain.002).
ROLES = ("statement", "itemisation", "report", "payments", "payment_feedback")
#: Roles whose files the bank statement import reads.
IMPORT_ROLES = ("statement", "itemisation", "report")
#: How the balance of a code list is chosen: the first code the file
#: gives (``first``), or the newest balance among them (``latest``).
BALANCE_PICKS = ("first", "latest")
#: How the payments of an itemisation file find their lump sum.
ITEMISE_BY = ("archive", "day")


@dataclass(frozen=True)
class BankFormat:
    """The description of one bank file format.

    :param code: stable code, the message's document type (``camt.053``)
    :param label: what users see (``Bank statement (camt.053)``)
    :param role: one of :data:`ROLES`
    :param detect: ``detect(sniff) -> bool`` on an
        :class:`~heeros_link_base.formats.xmlsafe.Sniff`; ``None`` for a
        format the Link only sends
    :param read: ``read(data, file_name)``, the iterator of ``(statement,
        entry)`` pairs described in the module's documentation; ``None``
        for a format the bank statement import does not read
    :param booked_codes: balance codes giving the booked balance, best first
    :param available_codes: balance codes giving the available balance
    :param balance_pick: one of :data:`BALANCE_PICKS`
    :param lump_sum_codes: Finnish transaction codes of statement entries
        that are lump sums of payments an itemisation file lists (``705``
        reference payments); for a statement format, the entries it may
        split into their payments, for an itemisation format, the lump sums
        its payments stand for
    :param itemise_by: for an itemisation format, how its payments find the
        lump sum they make up: ``archive`` (the entry's archive reference,
        camt.054) or ``day`` (the account's payments of one booking day,
        KTL)
    :param handler: ``(model, method)`` handling received files of this
        format, for a format the bank statement import does not read (a
        payment status report); the import's own handler otherwise
    :param forward: whether a connection can forward copies of these files
    :param forward_label: the label of the format in a connection's list of
        file types to forward (defaults to ``label``)
    :param sequence: the order of the format in lists
    :param direction: ``in`` (received), ``out`` (sent) or ``both``
    :param priority: detection order, lower first (specific before generic)
    """

    code: str
    label: str
    role: str
    detect: Callable | None = None
    read: Callable | None = None
    booked_codes: tuple = ()
    available_codes: tuple = ()
    balance_pick: str = "first"
    lump_sum_codes: tuple = ()
    itemise_by: str = "archive"
    handler: tuple | None = None
    forward: bool = False
    forward_label: str | None = None
    sequence: int = 100
    direction: str = "in"
    priority: int = 50

    def __post_init__(self):
        if not self.code:
            raise ValueError("a bank format needs a code")
        if self.role not in ROLES:
            raise ValueError(f"bank format {self.code}: role {self.role!r} is not one of {', '.join(ROLES)}")
        if self.balance_pick not in BALANCE_PICKS:
            raise ValueError(
                f"bank format {self.code}: balance_pick {self.balance_pick!r} is not one of {', '.join(BALANCE_PICKS)}"
            )
        if self.itemise_by not in ITEMISE_BY:
            raise ValueError(
                f"bank format {self.code}: itemise_by {self.itemise_by!r} is not one of {', '.join(ITEMISE_BY)}"
            )
        if self.role in IMPORT_ROLES and self.direction != "out" and self.read is None:
            raise ValueError(f"bank format {self.code}: a {self.role} format needs a reader")

    @property
    def imported(self):
        """Whether the bank statement import reads these files."""
        return self.role in IMPORT_ROLES and self.read is not None and self.direction in ("in", "both")

    def pick_balance(self, statement, codes):
        """The balance of ``statement`` among ``codes`` as this format
        chooses it (:data:`BALANCE_PICKS`), or ``None``."""
        if not codes:
            return None
        if self.balance_pick == "latest":
            found = [b for b in statement.balances if b.code in codes]
            if not found:
                return None
            return max(found, key=lambda b: (_moment(b), -codes.index(b.code)))
        return statement.balance(*codes)

    def booked_balance(self, statement):
        """The booked balance ``statement`` gives, or ``None``."""
        return self.pick_balance(statement, self.booked_codes)

    def available_balance(self, statement):
        """The available balance ``statement`` gives, or ``None``."""
        return self.pick_balance(statement, self.available_codes)

    def is_lump_sum(self, fi_code):
        """Whether an entry of Finnish transaction code ``fi_code`` is a lump
        sum of payments this format itemises or may split."""
        return bool(fi_code) and fi_code in self.lump_sum_codes


def _moment(balance):
    """Sort key of a balance in time: its timestamp (UTC), else its day."""
    if balance.timestamp:
        stamp = balance.timestamp
        if stamp.tzinfo:
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        return stamp
    if balance.date:
        return datetime.combine(balance.date, time(23, 59, 59))
    return datetime.min


_REGISTRY = {}


def register(bank_format):
    """Add ``bank_format`` (a :class:`BankFormat`) to the registry, replacing
    a format of the same code. Returns it, so it can decorate a function
    that returns the description."""
    if callable(bank_format) and not isinstance(bank_format, BankFormat):
        described = bank_format()
        register(described)
        return bank_format
    if not isinstance(bank_format, BankFormat):
        raise TypeError(f"register() takes a BankFormat, not {type(bank_format).__name__}")
    _REGISTRY[bank_format.code] = bank_format
    return bank_format


def unregister(code):
    """Remove the format ``code`` from the registry (no error if absent)."""
    _REGISTRY.pop(code, None)


def get(code):
    """The registered format ``code``, or ``None``."""
    return _REGISTRY.get(code)


def formats():
    """``{code: BankFormat}`` of every registered format, in list order
    (sequence, then code). A new dict: changing it changes no registration."""
    return {f.code: f for f in sorted(_REGISTRY.values(), key=lambda f: (f.sequence, f.code))}


def by_role(role, described=None):
    """The formats of ``role`` among ``described`` (``{code: BankFormat}``,
    by default the registry), in list order."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    found = (described if described is not None else formats()).values()
    return [f for f in sorted(found, key=lambda f: (f.sequence, f.code)) if f.role == role]


#: Finnish transaction code of incoming reference payments (viitesiirrot),
#: the lump sum a reference payment file itemises.
REFERENCE_PAYMENTS = "705"

register(
    BankFormat(
        code="camt.053",
        label=_lt("Bank statement (camt.053)"),
        role="statement",
        detect=detect.is_camt053,
        read=camt.iter_entries,
        booked_codes=("CLBD",),
        available_codes=("CLAV",),
        lump_sum_codes=(REFERENCE_PAYMENTS,),
        forward=True,
        forward_label=_lt("Statements (camt.053)"),
        sequence=10,
    )
)
register(
    BankFormat(
        code="tito",
        label=_lt("Bank statement (TITO)"),
        role="statement",
        detect=detect.is_tito,
        read=tito.iter_entries,
        booked_codes=("CLBD",),
        available_codes=("CLAV",),
        lump_sum_codes=(REFERENCE_PAYMENTS,),
        forward=True,
        forward_label=_lt("Statements (TITO)"),
        sequence=20,
    )
)
register(
    BankFormat(
        code="camt.054",
        label=_lt("Reference payments (camt.054)"),
        role="itemisation",
        detect=detect.is_camt054,
        read=camt.iter_entries,
        lump_sum_codes=(REFERENCE_PAYMENTS,),
        forward=True,
        forward_label=_lt("Reference payments (camt.054)"),
        sequence=30,
    )
)
register(
    BankFormat(
        code="ktl",
        label=_lt("Reference payments (KTL)"),
        role="itemisation",
        detect=detect.is_ktl,
        read=ktl.iter_by_account,
        lump_sum_codes=(REFERENCE_PAYMENTS,),
        itemise_by="day",
        forward=True,
        forward_label=_lt("Reference payments (KTL)"),
        sequence=40,
    )
)
# An account report is intraday: its interim balances are the latest news,
# so the newest of interim and closing balances counts.
register(
    BankFormat(
        code="camt.052",
        label=_lt("Account report (camt.052)"),
        role="report",
        detect=detect.is_camt052,
        read=camt.iter_entries,
        booked_codes=("ITBD", "CLBD"),
        available_codes=("ITAV", "CLAV"),
        balance_pick="latest",
        forward=True,
        forward_label=_lt("Account reports (camt.052)"),
        sequence=50,
    )
)
