"""Bounds on what the Link reads, shared by every parser.

A bank file or an e-invoice is refused with a typed error, naming the file
and the element or line, when it goes beyond what any real document holds:

* :data:`MAX_AMOUNT`: every amount, balance, total, price, quantity and
  rate read from a document must be smaller than 10^13 (ten thousand
  billion) in absolute value, in the currency unit. Beyond that an amount
  cannot be posted without losing its last digits, and no account, invoice
  or payment comes near it.
* :data:`MAX_ATTRIBUTES`: at most 64 attributes (namespace declarations
  included) on one XML element; the XML standards the Link reads use a
  handful.
* :data:`MAX_DEPTH`: at most 256 nested XML elements (the XML parser's own
  bound, kept); the deepest standard document the Link reads nests fewer
  than 20.

With these bounds the work of reading a document grows linearly with its
size.
"""

from decimal import Decimal

from .errors import RecordError

MAX_AMOUNT = Decimal(10) ** 13
MAX_AMOUNT_TEXT = "10^13 (10 000 000 000 000)"
MAX_ATTRIBUTES = 64
MAX_DEPTH = 256


def check_amount(value, *, file_name=None, element=None, line=None, position=None, text=None):
    """Return ``value`` (a Decimal) if it is within :data:`MAX_AMOUNT`;
    otherwise raise :class:`RecordError` naming where it was read."""
    if value.is_finite() and abs(value) < MAX_AMOUNT:
        return value
    shown = text if text is not None else str(value)
    if len(shown) > 40:
        shown = f"{shown[:20]}...{shown[-10:]} ({len(shown)} characters)"
    raise RecordError(
        f"amount {shown!r} is out of range",
        file_name=file_name,
        element=element,
        line=line,
        position=position,
        expected=f"an absolute value below {MAX_AMOUNT_TEXT}",
    )
