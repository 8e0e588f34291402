from . import controllers, models, wizard


def _post_init_hook(env):
    """Companies already on the Finnish chart get the Finnish defaults: VAT
    categories of the 0 % sales taxes and the Finnish creditor reference."""
    companies = env["res.company"].search([("chart_template", "=", "fi")])
    env["account.chart.template"]._heeros_link_apply_fi_defaults(companies)
