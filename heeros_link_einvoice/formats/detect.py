"""Detectors for e-invoice payloads (``detect(sniff) -> bool``).

They look only at what :func:`xmlsafe.sniff` saw: the root element, its
namespace and the first bytes of the payload.
"""

import re

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

# a Finvoice start tag, or the ebXML manifest reference the bank frame uses
_FINVOICE_IN_HEAD = re.compile(rb"<Finvoice[\s>/]|<(?:[\w.-]+:)?Reference\b[^>]*?(?:[\w.-]+:)?id=[\"']Finvoice[\"']")


def is_finvoice(sniff):
    """A Finvoice of any version, plain or behind its ebXML SOAP frame.

    The frame and the invoice are usually two documents written one after
    the other, so the sniffed root is the frame's ``Envelope``; the invoice
    is recognised from the start of the payload.
    """
    return _plain_or_framed(sniff, "Finvoice", _FINVOICE_IN_HEAD)


def _plain_or_framed(sniff, root, in_head):
    """``root`` without namespace, or an ebXML ``Envelope`` whose first bytes
    show that document (``in_head``)."""
    if not sniff.is_xml:
        return False
    if sniff.root == root and not sniff.namespace:
        return True
    return sniff.root == "Envelope" and bool(in_head.search(sniff.head or b""))


_ATTACHMENTS_IN_HEAD = re.compile(
    rb"<FinvoiceAttachments[\s>/]|<(?:[\w.-]+:)?Reference\b[^>]*?"
    rb"(?:[\w.-]+:)?id=[\"']FinvoiceAttachments[\"']"
)


def is_finvoice_attachments(sniff):
    """A Finvoice attachment message (``FinvoiceAttachments``), plain or
    behind its SOAP frame."""
    return _plain_or_framed(sniff, "FinvoiceAttachments", _ATTACHMENTS_IN_HEAD)


def is_ubl_invoice(sniff):
    """A UBL 2.x Invoice or CreditNote (Peppol BIS Billing 3.0 and others)."""
    if not sniff.is_xml:
        return False
    return (sniff.root == "Invoice" and sniff.namespace == UBL_INVOICE_NS) or (
        sniff.root == "CreditNote" and sniff.namespace == UBL_CREDIT_NOTE_NS
    )
