"""Pure-Python format helpers shared by every Link addon (no Odoo import)."""
