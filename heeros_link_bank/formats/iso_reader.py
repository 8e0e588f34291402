"""What the ISO 20022 payment readers (pain.001, pain.002) share: errors that
name the file, element and line, and the children of an element in the
message's namespace by local name."""

from odoo.addons.heeros_link_base.formats.errors import RecordError


class IsoElementReader:
    """Base of a reader that sets ``file_name`` and ``prefix`` (``{namespace}``)."""

    file_name = None
    prefix = ""

    def error(self, message, el, path, expected=None):
        return RecordError(
            message,
            file_name=self.file_name,
            element=path,
            line=el.sourceline if el is not None else None,
            expected=expected,
        )

    def kids(self, el):
        """``{local name: first child}`` of ``el`` in the message's namespace."""
        found = {}
        if el is None:
            return found
        for child in el:
            if isinstance(child.tag, str) and child.tag.startswith(self.prefix):
                found.setdefault(child.tag[len(self.prefix) :], child)
        return found
