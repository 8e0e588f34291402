"""One exception tree for every format module of the Link.

Format modules (parsers and builders of every addon) raise only these, so the
ORM layer can turn any of them into a message in ``error`` with a text a
person can act on: which file, which element or line, what was expected.
"""

from .text import join, translator

_lt = translator(__name__)


class LinkFormatError(Exception):
    """A document could not be read or written.

    :param message: what is wrong, in words a person can act on
    :param file_name: the file being read or written, if known
    :param element: XML element path or fixed-width record (e.g. ``Ntry/Amt``,
        ``record T10``)
    :param line: 1-based line number in the file, if known
    :param position: column, byte offset or record number, if known
    :param expected: what the standard expects there
    """

    def __init__(self, message, *, file_name=None, element=None, line=None, position=None, expected=None):
        self.message = message
        self.file_name = file_name
        self.element = element
        self.line = line
        self.position = position
        self.expected = expected
        super().__init__(self.describe())

    def describe(self):
        """The whole error as a :class:`~.text.Text`: where, what, what was expected."""
        where = []
        if self.file_name:
            where.append(str(self.file_name))
        if self.line is not None:
            where.append(_lt("line %s", self.line))
        if self.position is not None:
            where.append(_lt("position %s", self.position))
        if self.element:
            where.append(_lt("element %s", self.element))
        text = self.message
        if self.expected:
            text = _lt("%(text)s (expected: %(expected)s)", text=text, expected=self.expected)
        return join(": ", [join(", ", where), text]) if where else text

    def with_file(self, file_name):
        """Return the same error with the file name filled in (if it was not)."""
        if not self.file_name:
            self.file_name = file_name
            self.args = (self.describe(),)
        return self


class EmptyDocument(LinkFormatError):
    """The file has no content."""


class UnsafeDocument(LinkFormatError):
    """The document uses a DTD, an entity declaration or another construct
    the Link never processes (external entities, entity expansion)."""


class MalformedDocument(LinkFormatError):
    """The bytes are not a well-formed document of the claimed kind."""


class LimitExceeded(MalformedDocument):
    """The document goes beyond a bound the Link sets on what it reads (see
    :mod:`heeros_link_base.formats.limits`): too many attributes on one
    element, elements nested too deeply, ..."""


class UnrecognisedDocument(LinkFormatError):
    """No registered detector recognised the document."""


class SchemaViolation(LinkFormatError):
    """A document does not satisfy its schema or business rules.

    ``errors`` holds every individual finding (a list of strings) so the
    caller can show all of them, not only the first.
    """

    def __init__(self, message, *, errors=(), **kwargs):
        self.errors = list(errors)
        super().__init__(message, **kwargs)

    def describe(self):
        text = super().describe()
        if self.errors:
            text = join("\n- ", [text, *self.errors])
        return text


class RecordError(LinkFormatError):
    """A record inside an otherwise readable document is invalid
    (an amount that is not a number, a date that does not exist, ...)."""


class BuildError(LinkFormatError):
    """An outbound document cannot be built from the data given."""


class DuplicateDocument(LinkFormatError):
    """The document was already processed (same unique id as an earlier one):
    the Link marks the message ``duplicate`` and produces nothing new."""


class RoutingError(LinkFormatError):
    """The document is for no company this connection serves (no journal with
    the account's IBAN, no company with the buyer's identifiers, ...)."""


class InvalidIdentifier(RecordError):
    """A business identifier or payment reference is not valid: a Finnish
    business ID (Y-tunnus), VAT number, OVT code, IBAN, Finnish or RF creditor
    reference.

    ``identifier`` names the kind (``business_id``, ``vat``, ``ovt``,
    ``iban``, ``reference``); ``reason`` says what is wrong (``empty``,
    ``format``, ``length``, ``checksum``, ``component``), so a caller can act
    on it without parsing the sentence. The python-stdnum error the check came
    from, if any, is the ``__cause__``.
    """

    def __init__(self, message, *, identifier=None, reason=None, **kwargs):
        self.identifier = identifier
        self.reason = reason
        super().__init__(message, **kwargs)
