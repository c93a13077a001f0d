/*
 * ctl_cmd_table[]: each control command's handler, by the name it has in
 * cmd_table[] (src/cmd-table.c), which holds its arguments and help.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "daemon.h"

const struct ctl_entry ctl_cmd_table[] = {
	{ "daemon.status", ctl_daemon_status },
	{ "daemon.stop", ctl_daemon_stop },
	{ "site.add", ctl_site_add },
	{ "site.list", ctl_site_list },
	{ "site.show", ctl_site_show },
	{ "site.edit", ctl_site_edit },
	{ "site.rm", ctl_site_rm },
	{ "site.enable", ctl_site_enable },
	{ "site.disable", ctl_site_disable },
	{ "account.add", ctl_account_add },
	{ "account.list", ctl_account_list },
	{ "account.show", ctl_account_show },
	{ "account.rm", ctl_account_rm },
	{ "account.enable", ctl_account_enable },
	{ "account.disable", ctl_account_disable },
	{ "key.add", ctl_key_add },
	{ "key.list", ctl_key_list },
	{ "key.show", ctl_key_show },
	{ "key.reveal", ctl_key_reveal },
	{ "key.rm", ctl_key_rm },
	{ "key.enable", ctl_key_enable },
	{ "key.disable", ctl_key_disable },
	{ "key.rotate", ctl_key_rotate },
	{ "settings.list", ctl_settings_list },
	{ "settings.get", ctl_settings_get },
	{ "settings.set", ctl_settings_set },
};

const size_t ctl_cmd_table_count = sizeof ctl_cmd_table /
    sizeof ctl_cmd_table[0];

ctl_handler_cb
ctl_find_handler(const char *name)
{
	size_t	i;

	for (i = 0; i < ctl_cmd_table_count; i++)
		if (strcmp(ctl_cmd_table[i].name, name) == 0)
			return (ctl_cmd_table[i].handler);
	return (NULL);
}
