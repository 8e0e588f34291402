"""Texts stored once and read in each reader's language.

A message's error is written by whoever processes the file (a scheduler, a
worker, a colleague) but read by people with other languages. What is
stored is therefore the text's source words and values (:func:`dump`,
JSON), rendered again with the addon's translations in the reader's
language (:func:`render`). Three kinds of texts are kept that way:

* Odoo's lazy texts (``LazyTranslate(__name__)("...")``, ``_lt``),
* :class:`~odoo.addons.heeros_link_base.formats.text.Text` of the format
  and channel modules (a ``str`` with its source),
* plain strings, kept as they are (already in one language).

A value put into a text may itself be a text of any kind: it is rendered in
the same language.
"""

from odoo.tools.translate import LazyGettext, code_translations

from .formats.text import Text


def is_translatable(value):
    return isinstance(value, LazyGettext | Text)


def dump(value):
    """JSON-ready form of ``value`` (a text or any value put into one)."""
    if isinstance(value, LazyGettext):
        return {"m": value._module, "s": value._source, "a": _dump_params(value._args)}
    if isinstance(value, Text):
        return {"m": value.module, "s": value.source, "a": _dump_params(value.params)}
    if isinstance(value, BaseException) and value.args and is_translatable(value.args[0]):
        return dump(value.args[0])
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _dump_params(params):
    if isinstance(params, dict):
        return {key: dump(val) for key, val in params.items()}
    return [dump(val) for val in params or ()]


def render(data, lang):
    """The text ``data`` (from :func:`dump`) in ``lang`` (``en_US``: the source words)."""
    if not isinstance(data, dict):
        return "" if data is None else str(data)
    source, module = data.get("s") or "", data.get("m")
    params = data.get("a")
    template = source
    if module and lang and lang != "en_US":
        template = code_translations.get_python_translations(module, lang).get(source, source)
    if not params:
        return template
    if isinstance(params, dict):
        values = {key: render(val, lang) if isinstance(val, dict) else val for key, val in params.items()}
    else:
        values = tuple(render(val, lang) if isinstance(val, dict) else val for val in params)
    try:
        return template % values
    except (TypeError, ValueError, KeyError):
        # a broken translation never hides the error itself
        return source % values


def in_lang(value, lang):
    """``value`` as a plain string in ``lang``."""
    if is_translatable(value):
        return render(dump(value), lang)
    return value
