from . import link_connection, link_jobs, link_message, operator_endpoint, res_config_settings
