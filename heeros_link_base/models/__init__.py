from . import link_connection, link_message, res_config_settings
