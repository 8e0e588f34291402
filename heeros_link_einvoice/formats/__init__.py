"""Pure-Python formats (no Odoo import): parsers return dataclasses, builders return bytes."""
