"""Each reader sees the Link's texts in his own language: an error is stored
as its source words and values and rendered when read; document types,
protocols and detection texts are translated; chatter entries of the Link are
written in the language of the message's company."""

from unittest.mock import patch

from odoo.addons.heeros_link_base.formats.errors import MalformedDocument
from odoo.addons.heeros_link_base.formats.text import Text, join, translator
from odoo.addons.heeros_link_base.texts import dump, render
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate, code_translations

from .common import LinkCase

_lt = LazyTranslate("heeros_link_base")
_flt = translator("odoo.addons.heeros_link_base.formats.test")


class TestReaderLanguage(LinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("fi_FI", "sv_SE"):
            cls.env["res.lang"]._activate_lang(code)

    def read_as(self, message, lang):
        return message.with_context(lang=lang).error_text

    def test_unrecognised_file_error_in_each_readers_language(self):
        message = self.intake(("letter.txt", b"NOTE hello world"))
        self.assertEqual(message.state, "error")
        # stored once, in English, with the words and values it was made of
        self.assertIn("unrecognised document: text in ASCII starting with 'NOTE hello world'", message.error)
        self.assertIn("unrecognised document: %(seen)s", str(message.error_data))
        self.assertEqual(self.read_as(message, "en_US"), message.error)
        finnish = self.read_as(message, "fi_FI")
        swedish = self.read_as(message, "sv_SE")
        self.assertIn("tekstiä, merkistö ASCII, alkaa 'NOTE hello world'", finnish)
        self.assertIn("letter.txt", finnish)
        self.assertNotIn("unrecognised", finnish)
        self.assertIn("som börjar med 'NOTE hello world'", swedish)
        self.assertIn("okänt dokument", swedish)
        # the same record read by two people at once: each in his own language
        self.assertNotEqual(finnish, swedish)

    def test_xml_root_element_in_finnish(self):
        message = self.intake(("x.xml", b'<?xml version="1.0"?><Foo xmlns="urn:example:foo"><a/></Foo>'))
        self.assertIn("XML root element <Foo> in namespace urn:example:foo", message.error)
        self.assertIn("XML-juurielementti <Foo> nimiavaruudessa urn:example:foo", self.read_as(message, "fi_FI"))

    def test_old_rows_without_source_words_read_as_stored(self):
        message = self.intake(("letter.txt", b"NOTE hello world"))
        message.sudo().write({"error": "stored by an older version"})
        self.assertFalse(message.error_data)
        self.assertEqual(self.read_as(message, "fi_FI"), "stored by an older version")

    def test_error_text_is_searchable(self):
        message = self.intake(("letter.txt", b"NOTE hello world"))
        found = self.Message.search([("error_text", "ilike", "unrecognised document"), ("id", "=", message.id)])
        self.assertEqual(found, message)

    def test_format_error_keeps_where_and_expected_translatable(self):
        exc = MalformedDocument(_flt("bad amount %s", "1,2"), file_name="a.xml", line=3, element="Amt", expected="1.20")
        self.assertIsInstance(exc.describe(), Text)
        self.assertEqual(str(exc), "a.xml, line 3, element Amt: bad amount 1,2 (expected: 1.20)")
        finnish = render(dump(exc), "fi_FI")
        self.assertEqual(finnish, "a.xml, rivi 3, elementti Amt: bad amount 1,2 (odotettiin: 1.20)")
        swedish = render(dump(exc), "sv_SE")
        self.assertEqual(swedish, "a.xml, rad 3, element Amt: bad amount 1,2 (förväntat: 1.20)")

    def test_nested_texts_render_in_one_language(self):
        text = _lt("Sending failed after %(n)s attempt(s): %(error)s", n=2, error=_flt("line %s", 7))
        data = dump(text)
        self.assertEqual(render(data, "en_US"), "Sending failed after 2 attempt(s): line 7")
        self.assertEqual(render(data, "sv_SE"), "Sändningen misslyckades efter 2 försök: rad 7")
        # a Text that only puts parts together is not looked up as a term
        self.assertEqual(render(dump(join(" / ", ["a%", _flt("line %s", 1)])), "fi_FI"), "a% / rivi 1")

    def test_broken_translation_falls_back_to_the_source(self):
        translations = {"line %s": "rivi %(missing)s"}
        with patch.object(code_translations, "get_python_translations", lambda module, lang: translations):
            self.assertEqual(render({"m": "heeros_link_base", "s": "line %s", "a": [4]}, "fi_FI"), "line 4")

    def test_document_types_and_protocols_in_the_users_language(self):
        types = dict(self.Message.with_context(lang="sv_SE")._selection_document_type())
        self.assertEqual(types["camt.053"], "Kontoutdrag (camt.053)")
        self.assertEqual(types["unknown"], "Okänd")
        types = dict(self.Message.with_context(lang="fi_FI")._selection_document_type())
        self.assertEqual(types["camt.053"], "Tiliote (camt.053)")
        protocols = dict(self.env["heeros.link.connection"].with_context(lang="fi_FI")._selection_protocol())
        self.assertEqual(protocols["local"], "Paikallinen kansio")

    def test_connection_test_result_in_the_users_language(self):
        action = self.connection.with_context(lang="fi_FI").action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("yhteys toimii; 0 tiedostoa odottaa kansiossa 'inbox'", action["params"]["message"])

    def test_chatter_entry_in_the_companys_language(self):
        self.client_a.partner_id.lang = "sv_SE"
        message = self.intake(("letter.txt", b"NOTE hello world"), company=self.client_a)
        self.assertEqual(message._link_lang(), "sv_SE")
        message.with_context(lang="fi_FI")._link_post(_lt("Delivery confirmed by %s.", "Tiina"))
        self.assertIn("Leveransen bekräftad av Tiina.", message.message_ids[0].body)
        # a language that is not installed: the current one
        self.client_a.partner_id.lang = "de_DE"
        self.assertEqual(message.with_context(lang="fi_FI")._link_lang(), "fi_FI")

    def test_handler_runs_in_the_companys_language(self):
        self.client_a.partner_id.lang = "fi_FI"
        seen = []

        def handler(message):
            seen.append(message.env.lang)
            return self.env["res.partner"]

        with self.registered_type(handler):
            self.intake(("note.txt", b"NOTE x"), company=self.client_a)
        self.assertEqual(seen, ["fi_FI"])

    def test_identifier_problems_in_the_users_language(self):
        partner = self.env["res.partner"].create({"name": "Asiakas"})
        with self.assertRaises(ValidationError) as caught:
            self.env["heeros.link.einvoice.address"].with_context(lang="fi_FI").create(
                {"partner_id": partner.id, "address": "0037123"}
            )
        self.assertIn("OVT-tunnus 0037123 ei ole kelvollinen", str(caught.exception))
