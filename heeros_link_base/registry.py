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
        (any recordset, possibly empty). ``None`` for outbound-only types.
    :param priority: lower runs first (specific detectors before generic ones)
    :param direction: ``'in'``, ``'out'`` or ``'both'``
    """

    code: str
    label: str
    detect: Callable | None = None
    handler: tuple | None = None
    priority: int = 100
    direction: str = "in"


def detect(types, sniff):
    """Return the first type (by priority, then code) whose detector says yes."""
    for doc_type in sorted(types.values(), key=lambda t: (t.priority, t.code)):
        if doc_type.detect and doc_type.detect(sniff):
            return doc_type
    return None
