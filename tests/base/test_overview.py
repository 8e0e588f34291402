"""The Link overview: every allowed company on one screen, record rules
still deciding; opening an item names the company to switch to."""

from odoo.exceptions import AccessError

from .common import LinkCase


class TestOverview(LinkCase):
    def setUp(self):
        super().setUp()
        self.junk_a = self.intake(("junk-a.rar", b"Rar!\x1a\x07\x00junk"), company=self.client_a)
        self.junk_b = self.intake(("junk-b.bin", bytes(range(256)) * 2), company=self.client_b)

    def data(self, user):
        # the user has only his default company ticked
        return self.env["heeros.link.overview"].with_user(user).with_company(user.company_id).link_overview_data()

    def card(self, data, company):
        return next(card for card in data["companies"] if card["id"] == company.id)

    def test_bureau_sees_every_allowed_company_without_ticking(self):
        data = self.data(self.user_bureau)
        self.assertEqual(
            {card["id"] for card in data["companies"]}, {self.bureau.id, self.client_a.id, self.client_b.id}
        )
        card = self.card(data, self.client_a)
        self.assertEqual(card["error_count"], 1)
        self.assertEqual([e["id"] for e in card["errors"]], self.junk_a.ids)
        self.assertIn("a RAR archive", card["errors"][0]["error"])
        self.assertEqual([(row["state"], row["count"]) for row in card["states"]], [("error", 1)])
        self.assertEqual(card["types"][0]["count"], 1)
        self.assertEqual(self.card(data, self.bureau)["total"], 0)

    def test_client_sees_only_his_company(self):
        data = self.data(self.user_b)
        self.assertEqual([card["id"] for card in data["companies"]], self.client_b.ids)
        self.assertEqual(self.card(data, self.client_b)["errors"][0]["id"], self.junk_b.id)

    def test_open_names_the_company_to_switch_to(self):
        Overview = self.env["heeros.link.overview"].with_user(self.user_bureau).with_company(self.bureau)
        card = self.card(Overview.link_overview_data(), self.client_a)
        result = Overview.link_overview_open(card["errors"][0]["open"])
        self.assertEqual(result["company_ids"], self.client_a.ids)
        self.assertEqual(
            (result["action"]["res_model"], result["action"]["res_id"]), (self.Message._name, self.junk_a.id)
        )
        listed = Overview.link_overview_open(card["errors_open"])["action"]
        self.assertEqual(
            self.Message.with_user(self.user_bureau).with_company(self.client_a).search(listed["domain"]), self.junk_a
        )

    def test_a_client_cannot_open_another_clients_items(self):
        Overview = self.env["heeros.link.overview"].with_user(self.user_b).with_company(self.client_b)
        for target in (
            {"kind": "record", "company_id": self.client_a.id, "model": self.Message._name, "res_id": self.junk_a.id},
            # his own company named, another company's record asked for
            {"kind": "record", "company_id": self.client_b.id, "model": self.Message._name, "res_id": self.junk_a.id},
            {"kind": "messages", "company_id": self.client_a.id},
            # a model the overview does not open, and a method that is not an opener
            {"kind": "record", "company_id": self.client_b.id, "model": "res.users", "res_id": self.user_a.id},
            {"kind": "check_access", "company_id": self.client_b.id},
        ):
            with self.subTest(target=target), self.assertRaises(AccessError):
                Overview.link_overview_open(target)

    def test_not_for_users_outside_the_link(self):
        outsider = self.env["res.users"].create(
            {"name": "Outsider", "login": "outsider-ov", "company_id": self.bureau.id, "company_ids": self.bureau.ids}
        )
        with self.assertRaises(AccessError):
            self.env["heeros.link.overview"].with_user(outsider).link_overview_data()
