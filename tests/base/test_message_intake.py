"""Inbound messages: intake, detection, dispatch, bad input, duplicates."""

from pathlib import Path

from odoo.exceptions import UserError

from .common import LinkCase


class TestIntake(LinkCase):
    def test_unknown_document_is_kept_in_error_and_reprocessable(self):
        message = self.intake(("letter.txt", b"NOTE hello world"))
        self.assertEqual(message.state, "error")
        self.assertEqual(message.document_type, "unknown")
        self.assertIn("unrecognised document", message.error)
        self.assertIn("text in ASCII starting with 'NOTE hello world'", message.error)
        self.assertEqual(message.attachment_id.raw, b"NOTE hello world")
        self.assertEqual(message.size, 16)
        self.assertEqual(len(message.sha256), 64)

        partner = self.env["res.partner"].create({"name": "Produced by the handler"})
        with self.registered_type(lambda msg: partner):
            message.action_reprocess()
        self.assertEqual(message.state, "processed")
        self.assertEqual(message.document_type, "test.note")
        self.assertFalse(message.error)
        self.assertEqual(message._linked("res.partner"), partner)
        self.assertEqual(message._link_result()[0]["records"], [{"model": "res.partner", "id": partner.id}])

    def test_unknown_xml_names_root_and_namespace(self):
        message = self.intake(("x.xml", b'<?xml version="1.0"?><Foo xmlns="urn:example:foo"><a/></Foo>'))
        self.assertEqual(message.state, "error")
        self.assertIn("<Foo> in namespace urn:example:foo", message.error)
        self.assertIn("x.xml", message.error)

    def test_handler_failure_keeps_message_and_rolls_back_its_work(self):
        def handler(message):
            self.env["res.partner"].create({"name": "Half-done work"})
            raise ValueError("boom in handler")

        with self.registered_type(handler):
            message = self.intake(("n.txt", b"NOTE 1"))
        self.assertEqual(message.state, "error")
        self.assertEqual(message.document_type, "test.note")
        self.assertIn("boom in handler", message.error)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Half-done work")]))
        self.assertTrue(message.attachment_id)

    def test_one_bad_message_does_not_block_others(self):
        seen = []

        def handler(message):
            if b"bad" in message._payload():
                raise UserError("this one is bad")
            seen.append(message.file_name)
            return self.env["res.partner"]

        with self.registered_type(handler):
            messages = self.intake(("1.txt", b"NOTE good 1"), ("2.txt", b"NOTE bad"), ("3.txt", b"NOTE good 3"))
        self.assertEqual(messages.mapped("state"), ["processed", "error", "processed"])
        self.assertEqual(seen, ["1.txt", "3.txt"])
        self.assertIn("this one is bad", messages[1].error)

    def test_same_payload_twice_is_duplicate(self):
        calls = []
        with self.registered_type(lambda m: calls.append(m.id)):
            first = self.intake(("a.txt", b"NOTE same content"))
            second = self.intake(("b.txt", b"NOTE same content"))
            other_company = self.intake(("c.txt", b"NOTE same content"), company=self.client_b)
        self.assertEqual(first.state, "processed")
        self.assertEqual(second.state, "duplicate")
        self.assertEqual(second.duplicate_of_id, first)
        # another company (no shared connection) processes its own copy
        self.assertEqual(other_company.state, "processed")
        self.assertEqual(calls, [first.id, other_company.id], "a duplicate must produce nothing")

    def test_state_machine_refuses_illegal_transitions(self):
        message = self.intake(("a.txt", b"NOTE x"), process=False)
        self.assertEqual(message.state, "received")
        with self.assertRaises(UserError):
            message._set_state("sent")
        message._set_state("processing")
        message._set_state("processed")
        with self.assertRaises(UserError):
            message._set_state("received")

    def test_cancel_and_reprocess(self):
        message = self.intake(("a.txt", b"NOTE x"), process=False)
        message.action_cancel()
        self.assertEqual(message.state, "cancelled")
        with self.registered_type(lambda m: None):
            message.action_reprocess()
        self.assertEqual(message.state, "processed")
        with self.assertRaises(UserError):
            message.action_cancel()

    def test_cron_processes_each_company_in_its_own_context(self):
        seen = {}

        def handler(message):
            seen[message.file_name] = (message.env.company, message.company_id)

        a = self.intake(("a.txt", b"NOTE a"), company=self.client_a, process=False)
        b = self.intake(("b.txt", b"NOTE b"), company=self.client_b, process=False)
        with self.registered_type(handler):
            self.Message._cron_process()
        self.assertEqual((a | b).mapped("state"), ["processed", "processed"])
        self.assertEqual(seen["a.txt"], (self.client_a, self.client_a))
        self.assertEqual(seen["b.txt"], (self.client_b, self.client_b))

    def test_routing_to_a_served_company(self):
        def handler(message):
            message._link_route(self.client_a, "IBAN FI00 TEST")

        with self.registered_type(handler):
            message = self.intake(("r.txt", b"NOTE r"), connection=self.connection)
        self.assertEqual(message.state, "processed")
        self.assertEqual(message.company_id, self.client_a)
        self.assertEqual(message.attachment_id.company_id, self.client_a)

    def test_routing_to_no_company_names_what_was_looked_for(self):
        def handler(message):
            message._link_route(self.env["res.company"], "account IBAN FI4950009420028730")

        with self.registered_type(handler):
            message = self.intake(("r.txt", b"NOTE r"), connection=self.connection)
        self.assertEqual(message.state, "error")
        self.assertIn("FI4950009420028730", message.error)
        self.assertEqual(message.company_id, self.bureau)


class TestBadInput(LinkCase):
    """Bad input gives a clear error and a kept message, never reads a local
    file or the network."""

    def assertKeptError(self, message, *fragments):
        self.assertEqual(message.state, "error")
        self.assertTrue(message.attachment_id, "the payload must be kept for reprocessing")
        for fragment in fragments:
            self.assertIn(fragment, message.error)

    def test_empty_file(self):
        self.assertKeptError(self.intake(("empty.xml", b"")), "empty.xml", "empty")

    def test_binary_junk(self):
        self.assertKeptError(self.intake(("junk.bin", bytes(range(256)) * 4)), "binary data")

    def test_malformed_xml_names_line(self):
        data = b'<?xml version="1.0"?>\n<Document>\n  <Stmt>\n</Document>\n'
        message = self.intake(("broken.xml", data))
        self.assertKeptError(message, "broken.xml")
        with self.registered_type(
            lambda m: None, code="test.xml", detect=lambda s: s.is_xml and not s.error and s.root == "Document"
        ):
            message.action_reprocess()
        # detection sees a root element, parsing the whole file is the handler's job;
        # a parser error names the line
        from odoo.addons.heeros_link_base.formats import xmlsafe
        from odoo.addons.heeros_link_base.formats.errors import MalformedDocument

        with self.assertRaises(MalformedDocument) as caught:
            xmlsafe.parse(data, "broken.xml")
        self.assertEqual(caught.exception.line, 4)
        self.assertIn("broken.xml, line 4", str(caught.exception))

    def test_dtd_refused(self):
        data = b'<?xml version="1.0"?>\n<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/x.dtd">\n<Document/>'
        self.assertKeptError(self.intake(("dtd.xml", data)), "DOCTYPE", "dtd.xml, line 2")

    def test_external_entity_never_read(self):
        secret = Path(self.tmp) / "secret.txt"
        secret.write_text("TOP-SECRET-CONTENT")
        data = (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]><Document>&x;</Document>'
        ).encode()
        message = self.intake(("xxe.xml", data))
        self.assertKeptError(message, "DOCTYPE")
        self.assertNotIn("TOP-SECRET", message.error)
        # even a parser reached directly refuses, and its error has no file content
        from odoo.addons.heeros_link_base.formats import xmlsafe
        from odoo.addons.heeros_link_base.formats.errors import UnsafeDocument

        with self.assertRaises(UnsafeDocument) as caught:
            xmlsafe.parse(data)
        self.assertNotIn("TOP-SECRET", str(caught.exception))

    def test_entity_expansion_bomb(self):
        lol = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
        data = f'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY l0 "lol">{lol}]><b>&l9;</b>'.encode()
        self.assertKeptError(self.intake(("bomb.xml", data)), "DOCTYPE")

    def test_entity_declaration_without_doctype_keyword_case(self):
        data = b'<?xml version="1.0"?><!doctype b [<!entity a "x">]><b>&a;</b>'
        self.assertKeptError(self.intake(("lower.xml", data)), "DOCTYPE")

    def test_file_over_size_limit(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.max_file_size", "100")
        message = self.intake(("big.xml", b"<a>" + b"x" * 200 + b"</a>"))
        self.assertEqual(message.state, "error")
        self.assertIn("big.xml is 207 bytes, more than the limit of 100 bytes", message.error)
        self.assertEqual(message.size, 207)
        small = self.intake(("small.txt", b"NOTE small"))
        self.assertIn("unrecognised", small.error)


class TestUploadWizard(LinkCase):
    def test_wizard_imports_and_processes_several_files(self):
        Attachment = self.env["ir.attachment"]
        files = Attachment.create([{"name": "1.txt", "raw": b"NOTE one"}, {"name": "2.txt", "raw": b"junk"}])
        wizard = self.env["heeros.link.upload"].create(
            {"company_id": self.client_a.id, "attachment_ids": [(6, 0, files.ids)]}
        )
        with self.registered_type(lambda m: None):
            action = wizard.action_import()
        messages = self.Message.search(action["domain"], order="id")
        self.assertEqual(messages.mapped("file_name"), ["1.txt", "2.txt"])
        self.assertEqual(messages.mapped("state"), ["processed", "error"])
        self.assertEqual(set(messages.mapped("company_id")), {self.client_a})
        self.assertFalse(files.exists(), "the uploaded temporary attachments are removed")


class TestHostileNames(LinkCase):
    def test_a_name_with_nul_and_of_great_length_is_stored(self):
        long_name = "x" * 5000 + ".txt"
        messages = self.intake(("../../etc/\x00passwd", b"NOTE a"), (long_name, b"NOTE b"), process=False)
        self.assertEqual(messages.mapped("state"), ["received", "received"])
        self.assertEqual(messages[0].file_name, "../../etc/\ufffdpasswd", "kept for people to read")
        self.assertEqual(len(messages[1].file_name), 1000)
