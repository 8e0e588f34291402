"""Texts for people that each reader can see in his own language.

Format and channel modules know nothing of Odoo, yet what they say ends up in
front of people: an error stored on a message, a document type's name, the
result of a connection test. They build those texts with a translator made
for their module::

    from heeros_link_base.formats.text import translator

    _lt = translator(__name__)
    raise MalformedDocument(_lt("invalid date %(value)s", value=value))

A :class:`Text` is a ``str`` (its English words, as before), so code that
only reads it never notices; it also remembers its source words, the values
put into them and the addon whose translations apply. The Link stores those
and renders them again in the language of whoever reads them. Odoo's term
export finds every ``_lt("...")`` call, as it does in the ORM layer.
"""

#: The words of a Text that are not translated (only put together).
UNTRANSLATED = None


class Text(str):
    """``source % params`` in English, translatable later.

    :param source: the English words with ``%s`` / ``%(name)s`` placeholders
    :param params: a tuple or dict of the values (any of them a :class:`Text`
        too); empty: ``source`` is used as it is
    :param module: the addon whose translations apply; ``None`` for a
        template that only puts parts together (see :func:`join`)
    """

    def __new__(cls, source, params=(), module=UNTRANSLATED):
        text = source % _english(params) if params else source
        self = super().__new__(cls, text)
        self.source = source
        self.params = params
        self.module = module
        return self

    def __reduce__(self):
        return (Text, (self.source, self.params, self.module))


def _english(params):
    """The values as put into the English words: a lazy text of the ORM
    layer (anything with Odoo's ``_translate(lang)``) in English, since
    there is no reader yet."""

    def english(value):
        translate = getattr(type(value), "_translate", None)
        return translate(value, "en_US") if translate else value

    if isinstance(params, dict):
        return {key: english(value) for key, value in params.items()}
    return tuple(english(value) for value in params)


def addon_of(module_name):
    """The addon a Python module belongs to (``odoo.addons.heeros_link_bank.formats.camt``
    -> ``heeros_link_bank``)."""
    parts = module_name.split(".")
    if parts[:2] == ["odoo", "addons"] and len(parts) > 2:
        return parts[2]
    return parts[0]


def translator(module_name):
    """The ``_lt`` of one module: ``_lt(source, *args)`` or ``_lt(source, **kwargs)``
    makes a :class:`Text` translated with that module's addon."""
    addon = addon_of(module_name)

    def _lt(source, *args, **kwargs):
        if args and kwargs:
            raise TypeError("a text takes positional or named values, not both")
        return Text(source, args or kwargs, addon)

    return _lt


def join(separator, parts):
    """``separator.join(parts)`` that keeps each part translatable."""
    parts = tuple(parts)
    template = separator.replace("%", "%%").join(["%s"] * len(parts))
    return Text(template, parts) if parts else Text("")
