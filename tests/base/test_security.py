"""Company isolation and credential protection."""

from odoo.exceptions import AccessError

from .common import LinkCase


class TestCompanyIsolation(LinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn_a = cls.env["heeros.link.connection"].create(
            {
                "name": "A's bank",
                "protocol": "local",
                "company_id": cls.client_a.id,
                "company_ids": [(6, 0, cls.client_a.ids)],
                "local_root": "a-bank",
                "password": "a-secret-password",
            }
        )
        cls.msg_a = cls.Message._link_intake([("a.txt", b"NOTE a")], company=cls.client_a, process=False)
        cls.msg_b = cls.Message._link_intake([("b.txt", b"NOTE b")], company=cls.client_b, process=False)

    def as_user(self, user):
        return self.Message.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)

    def test_client_user_sees_only_own_company(self):
        messages_b = self.as_user(self.user_b).search([])
        self.assertIn(self.msg_b, messages_b)
        self.assertNotIn(self.msg_a, messages_b)
        with self.assertRaises(AccessError):
            self.msg_a.with_user(self.user_b).read(["file_name"])
        with self.assertRaises(AccessError):
            self.msg_a.with_user(self.user_b).action_reprocess()
        with self.assertRaises(AccessError):
            self.msg_a.with_user(self.user_b).action_cancel()
        self.assertEqual(self.msg_a.state, "received")

    def test_client_cannot_read_other_payload(self):
        attachment = self.msg_a.attachment_id
        with self.assertRaises(AccessError):
            attachment.with_user(self.user_b).read(["raw"])

    def test_client_cannot_see_other_company_connections(self):
        Connection = (
            self.env["heeros.link.connection"]
            .with_user(self.user_b)
            .with_context(allowed_company_ids=self.client_b.ids)
        )
        visible = Connection.search([])
        self.assertNotIn(self.conn_a, visible)
        # the bureau's shared connection serves B, so B sees it (but cannot change it)
        self.assertIn(self.connection, visible)
        with self.assertRaises(AccessError):
            self.conn_a.with_user(self.user_b).read(["name"])

    def test_served_client_cannot_change_the_bureaus_connection(self):
        with self.assertRaises(AccessError):
            self.connection.with_user(self.user_a).with_context(allowed_company_ids=self.client_a.ids).write(
                {"name": "hijacked"}
            )

    def test_bureau_user_sees_all_three(self):
        visible = self.as_user(self.user_bureau).search([("id", "in", (self.msg_a | self.msg_b).ids)])
        self.assertEqual(visible, self.msg_a | self.msg_b)
        status = self.as_user(self.user_bureau)._link_status()
        self.assertTrue({self.client_a.id, self.client_b.id} <= {row["company_id"] for row in status})

    def test_upload_wizard_refuses_a_foreign_company(self):
        wizard = (
            self.env["heeros.link.upload"].with_user(self.user_b).with_context(allowed_company_ids=self.client_b.ids)
        )
        with self.assertRaises(AccessError):
            attachment = self.env["ir.attachment"].with_user(self.user_b).create({"name": "x.txt", "raw": b"NOTE x"})
            wizard.create({"company_id": self.client_a.id, "attachment_ids": [(6, 0, attachment.ids)]}).action_import()


class TestCredentials(LinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.write({"password": "s3cret-pw", "private_key": "-----BEGIN KEY-----x", "passphrase": "pp"})

    def test_manager_cannot_read_credentials(self):
        connection = self.connection.with_user(self.user_bureau).with_context(
            allowed_company_ids=self.user_bureau.company_ids.ids
        )
        self.assertEqual(connection.name, "Bureau folder")
        for field in ("password", "private_key", "passphrase", "local_root"):
            with self.assertRaises(AccessError, msg=field):
                connection.read([field])
        data = connection.read()[0]
        self.assertNotIn("password", data)
        self.assertTrue(connection.has_credentials, "the UI may say credentials are set")

    def test_admin_reads_credentials(self):
        self.assertEqual(self.connection.with_user(self.env.ref("base.user_admin")).password, "s3cret-pw")

    def test_secrets_never_in_chatter_or_error(self):
        self.connection.write({"password": "changed-secret"})
        bodies = " ".join(self.connection.message_ids.mapped("body")) + " ".join(
            self.connection.message_ids.tracking_value_ids.mapped("new_value_char") or []
        )
        self.assertNotIn("changed-secret", bodies)
        self.assertNotIn("changed-secret", repr(self.connection._channel_config()))
