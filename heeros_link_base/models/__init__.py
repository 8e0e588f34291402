from . import link_connection, link_jobs, link_message, res_config_settings, res_lang, res_users
