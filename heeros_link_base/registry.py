"""Document types: how the Link recognises a payload and who handles it.

Each addon contributes :class:`DocumentType` entries by extending
``heeros.link.message._link_document_types()`` (Odoo inheritance keeps the
registry per database: a type exists only where its addon is installed).
Detection asks every type's ``detect`` in priority order; dispatch calls the
handler of the recognised type. Nothing in the Link chooses a format with
an if/elif chain.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentType:
    """One kind of document the Link can receive or send.

    :param code: short stable code stored on messages (``camt.053``)
    :param label: what users see
    :param detect: ``detect(sniff) -> bool`` on a
        :class:`~odoo.addons.heeros_link_base.formats.xmlsafe.Sniff`;
        ``None`` for outbound-only types
    :param handler: ``(model name, method name)``; the method is called on
        that model as ``method(message)`` and returns the records it produced
        (any recordset, possibly empty) or an :class:`Outcome`. ``None`` for
        outbound-only types.
    :param priority: lower runs first (specific detectors before generic ones)
    :param direction: ``'in'``, ``'out'`` or ``'both'``
    """

    code: str
    label: str
    detect: Callable | None = None
    handler: tuple | None = None
    priority: int = 100
    direction: str = "in"


#: The states an :class:`Outcome` can give a message.
OUTCOME_STATES = ("processed", "duplicate", "error")


@dataclass(frozen=True)
class Outcome:
    """What a handler made of a message, when it says more than "these are
    the records": a handler returns one instead of raising to say so.

    :param state: ``processed``, ``duplicate`` (nothing new: the file was
        already imported) or ``error`` (the file belongs to no company this
        connection serves, ...); for the last two, everything the handler
        wrote is rolled back
    :param text: for a person: why, and for an error what to do
    :param records: the records produced (``processed``)
    :param duplicate_of: the message whose content this one repeats, if known
    """

    state: str = "processed"
    text: str | None = None
    records: object = None
    duplicate_of: object = None

    def __post_init__(self):
        if self.state not in OUTCOME_STATES:
            raise ValueError(f"outcome state {self.state!r} is not one of {', '.join(OUTCOME_STATES)}")
        if self.state != "processed" and not self.text:
            raise ValueError(f"a {self.state} outcome says why (text)")

    @classmethod
    def processed(cls, records=None, text=None):
        return cls("processed", text=text, records=records)

    @classmethod
    def duplicate(cls, text, duplicate_of=None):
        return cls("duplicate", text=text, duplicate_of=duplicate_of)

    @classmethod
    def refused(cls, text):
        return cls("error", text=text)

    @classmethod
    def of(cls, result):
        """``result`` of a handler as an outcome: itself, or the records it
        returned."""
        return result if isinstance(result, cls) else cls.processed(result)


def detect(types, sniff):
    """Return the first type (by priority, then code) whose detector says yes."""
    for doc_type in sorted(types.values(), key=lambda t: (t.priority, t.code)):
        if doc_type.detect and doc_type.detect(sniff):
            return doc_type
    return None
