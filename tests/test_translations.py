"""The addons' translations (``heeros_link_*/i18n/*.po``) can be used safely:
every translated text keeps the placeholders of its source (``%(name)s``,
``%s``, ``%%``; a missing or renamed one raises at run time in that
language), the same HTML tags, and the file reads as a valid PO file
without fuzzy entries.

And they are complete: every text the addons show is marked for translation
(no literal passed to an error, a chatter entry, a notification or a
document type's label), Odoo's term export reads every source file, and
Finnish and Swedish translate every term it finds (``.ci/i18n`` adds new
terms to the files)."""

import ast
import re
from collections import Counter

import pytest
from babel.messages import extract
from babel.messages.pofile import read_po

from odoo.tests.common import TransactionCase
from odoo.tools.translate import TranslationModuleReader
from tests.common import REPO

PO_FILES = sorted(REPO.glob("heeros_link_*/i18n/*.po"))
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdf]|%[sdf]|%%|\{[A-Za-z_][A-Za-z0-9_]*\}")
TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b")


def _texts(value):
    return value if isinstance(value, tuple | list) else (value,)


@pytest.mark.parametrize("path", PO_FILES, ids=[str(p.relative_to(REPO)) for p in PO_FILES])
def test_translation_keeps_placeholders_and_tags(path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    translated = 0
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        source = " ".join(_texts(message.id))
        for text in _texts(message.string):
            if not text:
                continue
            translated += 1
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text)):
                problems.append(f"placeholders differ: {message.id!r} -> {text!r}")
            if Counter(TAG.findall(source)) != Counter(TAG.findall(text)):
                problems.append(f"HTML tags differ: {message.id!r} -> {text!r}")
    assert translated, f"{path.name} translates nothing"
    assert not problems, "\n".join(problems)


ADDONS = sorted(p.parent.name for p in REPO.glob("heeros_link_*/__manifest__.py"))
LANGS = ("fi", "sv")
PYTHON_FILES = sorted(p for addon in ADDONS for p in (REPO / addon).rglob("*.py"))


@pytest.mark.parametrize("lang", LANGS)
def test_every_addon_has_the_translation(lang):
    missing = [name for name in ADDONS if not (REPO / name / "i18n" / f"{lang}.po").exists()]
    assert not missing, f"no i18n/{lang}.po in {missing}"


#: Calls whose first argument people read: errors shown to the user.
ERRORS = {"UserError", "ValidationError", "AccessError", "RedirectWarning"}
#: Calls whose keyword arguments (or first argument) people read.
SHOWN_KEYWORDS = {
    "message_post": ("body",),
    "_link_post": ("body",),
    "_message_log": ("body",),
    "DocumentType": ("label",),
    "BankFormat": ("label", "forward_label"),
    "_set_state": ("error",),
}
SHOWN_FIRST = {"_link_post", "refused", "duplicate"}


def _is_literal_text(node):
    """A string written in the code (or an f-string, or one put together
    from them): it reaches the reader in English whatever his language."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(re.search(r"[A-Za-z]{2}", node.value))
    if isinstance(node, ast.BinOp):
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    return False


def _shown_arguments(call):
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    shown = [k.value for k in call.keywords if k.arg in SHOWN_KEYWORDS.get(name, ())]
    if (name in ERRORS or name in SHOWN_FIRST) and call.args:
        shown.append(call.args[0])
    if name == "register" and len(call.args) == 2:  # a channel's protocol and label
        shown.append(call.args[1])
    return shown


def _notification_texts(node):
    """``title`` and ``message`` of a notification dict (one with a
    ``message``: a document's ``title``, such as the OpenAPI document's, is
    not shown on a screen)."""
    keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
    if "message" not in keys:
        return []
    return [keys[key] for key in ("title", "message") if key in keys]


def unmarked_texts(source, path="<source>"):
    """``path:line: text`` of every literal text ``source`` shows to people."""
    found = []
    for node in ast.walk(ast.parse(source)):
        shown = []
        if isinstance(node, ast.Call):
            shown = _shown_arguments(node)
        elif isinstance(node, ast.Dict):
            shown = _notification_texts(node)
        found += [f"{path}:{arg.lineno}: {ast.unparse(arg)[:100]}" for arg in shown if _is_literal_text(arg)]
    return found


def test_texts_shown_to_people_are_marked_for_translation():
    found = []
    for path in PYTHON_FILES:
        if "migrations" in path.parts:
            continue
        found += unmarked_texts(path.read_text(encoding="utf-8"), path.relative_to(REPO))
    assert not found, "texts not wrapped in _() / _lt():\n" + "\n".join(found)


def test_the_check_finds_unmarked_texts():
    source = """
raise UserError("Nothing to send.")
raise UserError(_("Nothing to send."))
message.message_post(body=f"Sent as {name}.")
types["x"] = DocumentType(code="x", label="Some type")
types["y"] = DocumentType(code="y", label=_lt("Some type"))
register("ftp", "FTP server")
action = {"params": {"title": "Done", "message": _("Done")}}
"""
    found = unmarked_texts(source)
    assert [line.split(": ", 1)[1] for line in found] == [
        "'Nothing to send.'",
        "f'Sent as {name}.'",
        "'Some type'",
        "'FTP server'",
        "'Done'",
    ]


@pytest.mark.parametrize("path", PYTHON_FILES, ids=[str(p.relative_to(REPO)) for p in PYTHON_FILES])
def test_term_export_reads_the_file(path):
    """Odoo's export skips a whole file whose ``_()`` / ``_lt()`` calls
    babel cannot read (an f-string among the values, for one)."""
    with path.open("rb") as handle:
        terms = list(
            extract.extract("python", handle, keywords={"_": None, "_lt": None}, options={"encoding": "UTF-8"})
        )
    for _lineno, term, _comments, _context in terms:
        assert isinstance(term, str) and term, f"{path.name}: a term babel cannot read: {term!r}"


class TestTermsTranslated(TransactionCase):
    """Every term Odoo's export finds in the installed addons (the same
    reader ``.ci/i18n`` uses) has a Finnish and a Swedish translation."""

    def test_every_term_is_translated(self):
        problems = []
        for addon in ADDONS:
            terms = {row[4] for row in TranslationModuleReader(self.env.cr, modules=[addon]) if row[4]}
            self.assertTrue(terms, f"{addon}: the export found no term")
            for lang in LANGS:
                with (REPO / addon / "i18n" / f"{lang}.po").open("rb") as handle:
                    catalog = read_po(handle)
                translated = {m.id for m in catalog if m.id and m.string}
                problems += [f"{addon}/i18n/{lang}.po: {term!r}" for term in sorted(terms - translated)]
        self.assertFalse(problems, "terms without translation (run .ci/i18n, then translate):\n" + "\n".join(problems))
