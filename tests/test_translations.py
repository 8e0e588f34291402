"""The addons' translations (``heeros_link_*/i18n/*.po``) can be used safely:
every translated text keeps the placeholders of its source (``%(name)s``,
``%s``, ``%%``; a missing or renamed one raises at run time in that
language), the same HTML tags, and the file reads as a valid PO file
without fuzzy entries."""

import re
from collections import Counter

import pytest
from babel.messages.pofile import read_po

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


def test_every_addon_has_a_finnish_translation():
    addons = sorted(p.parent.name for p in REPO.glob("heeros_link_*/__manifest__.py"))
    missing = [name for name in addons if not (REPO / name / "i18n" / "fi.po").exists()]
    assert not missing, f"no i18n/fi.po in {missing}"
