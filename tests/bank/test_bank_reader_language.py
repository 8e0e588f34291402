"""A bank file the Link refuses: the reason is read in each reader's language."""

from .common import IBAN_UNKNOWN, BankCase, camt, entry, statement


class TestRefusalInReadersLanguage(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("fi_FI", "sv_SE"):
            cls.env["res.lang"]._activate_lang(code)

    def test_unknown_account_refusal_in_finnish_and_swedish(self):
        data = camt("camt.053", [statement(IBAN_UNKNOWN, [entry(10, "U0001", name="X")], opening=0)])
        message = self.intake(("u.xml", data))
        self.assertEqual(message.state, "error")
        self.assertIn(f"no bank journal has the account IBAN {IBAN_UNKNOWN}", message.error)
        finnish = message.with_context(lang="fi_FI").error_text
        swedish = message.with_context(lang="sv_SE").error_text
        self.assertIn(f"millään pankkipäiväkirjalla ei ole tilin IBAN-numeroa {IBAN_UNKNOWN}", finnish)
        self.assertIn(f"ingen bankjournal har kontots IBAN {IBAN_UNKNOWN}", swedish)
        self.assertIn("u.xml", swedish)
