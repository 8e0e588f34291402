from . import link_connection, link_jobs, link_message, link_webservices, res_config_settings, res_lang, res_users
