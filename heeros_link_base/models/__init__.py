from . import link_connection, link_jobs, link_message, link_message_ui, link_overview, res_config_settings
