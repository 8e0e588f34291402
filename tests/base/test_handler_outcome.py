"""A handler's outcome: records, or an ``Outcome`` saying the file is a
duplicate or cannot be imported; for those two, nothing the handler wrote
is kept."""

import pytest

from odoo.addons.heeros_link_base.formats.errors import DuplicateDocument
from odoo.addons.heeros_link_base.registry import Outcome

from .common import LinkCase


class TestHandlerOutcome(LinkCase):
    def _handler(self, outcome):
        made = []

        def handler(message):
            made.append(self.env["res.partner"].create({"name": f"Made from {message.file_name}"}))
            return outcome(made[-1])

        return handler, made

    def test_processed_with_a_note(self):
        handler, made = self._handler(lambda partner: Outcome.processed(partner, text="One partner made."))
        with self.registered_type(handler):
            message = self.intake(("a.txt", b"NOTE a"))
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message._linked("res.partner"), made[0])
        self.assertIn("One partner made.", message.message_ids[:1].body)

    def test_duplicate_keeps_nothing(self):
        handler, made = self._handler(lambda partner: Outcome.duplicate("every entry is already imported"))
        with self.registered_type(handler):
            message = self.intake(("d.txt", b"NOTE d"))
        self.assertEqual(message.state, "duplicate")
        self.assertEqual(message.error, "every entry is already imported")
        self.assertTrue(message.processed_date)
        self.assertFalse(made[0].exists(), "what the handler wrote is rolled back")
        self.assertFalse(message._linked("res.partner"))

    def test_refused_is_an_error_saying_what_to_do_and_keeps_nothing(self):
        handler, made = self._handler(lambda partner: Outcome.refused("no company has it: add it, then reprocess"))
        with self.registered_type(handler):
            message = self.intake(("e.txt", b"NOTE e"))
        self.assertEqual(message.state, "error")
        self.assertEqual(message.error, "e.txt: no company has it: add it, then reprocess")
        self.assertFalse(made[0].exists())
        # reprocessed once the cause is gone
        with self.registered_type(lambda msg: Outcome.processed()):
            message.action_reprocess()
        self.assertEqual(message.state, "processed", message.error)

    def test_a_format_raising_duplicate_document_is_a_duplicate(self):
        def handler(message):
            self.env["res.partner"].create({"name": "Never kept"})
            raise DuplicateDocument("the invoice is already there")

        with self.registered_type(handler):
            message = self.intake(("x.txt", b"NOTE x"))
        self.assertEqual((message.state, message.error), ("duplicate", "the invoice is already there"))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Never kept")]))


def test_an_outcome_says_why_unless_processed():
    assert Outcome.of(None).state == "processed"
    outcome = Outcome.duplicate("seen")
    assert Outcome.of(outcome) is outcome
    with pytest.raises(ValueError, match="says why"):
        Outcome("error")
    with pytest.raises(ValueError, match="state"):
        Outcome("lost", text="x")
