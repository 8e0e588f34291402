"""The bureau's Link overview in a real browser."""

from .common import TourCase

OVERVIEW = "/odoo/action-heeros_link_base.heeros_link_overview_action"


class TestOverviewTour(TourCase):
    def test_bureau_opens_a_clients_error(self):
        self.Message._link_intake([("junk.rar", b"Rar!\x1a\x07\x00" + bytes(range(64)))], company=self.client_a)
        self.Message._link_intake([("note.txt", b"hello")], company=self.bureau)
        self.start_tour(OVERVIEW, "heeros_link_overview_tour", login="tour-bureau", timeout=120)
