/* action.c - names and parsing for the lifecycle actions. */
#include "action.h"

#include <stdio.h>
#include <string.h>

const char *const reboot_action_names[REBOOT__MAX] = { "reset", "shutdown" };
const char *const shutdown_action_names[SHUTDOWN__MAX] = { "poweroff", "pause" };
const char *const panic_action_names[PANIC__MAX] = { "pause", "shutdown", "exit-failure", "none" };
const char *const watchdog_action_names[WATCHDOG__MAX] = {
	"reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi",
};

int action_lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

int actions_parse_one(struct actions *a, const char *kv, char *err, unsigned errlen)
{
	static const struct {
		const char *key;
		const char *const *names;
		int n;
	} keys[] = {
		{ "reboot", reboot_action_names, REBOOT__MAX },
		{ "shutdown", shutdown_action_names, SHUTDOWN__MAX },
		{ "panic", panic_action_names, PANIC__MAX },
		{ "watchdog", watchdog_action_names, WATCHDOG__MAX },
	};
	const char *eq = strchr(kv, '=');

	for (unsigned k = 0; eq && k < sizeof(keys) / sizeof(keys[0]); k++) {
		int v;

		if (strlen(keys[k].key) != (size_t)(eq - kv) || strncmp(kv, keys[k].key, eq - kv))
			continue;
		v = action_lookup(keys[k].names, keys[k].n, eq + 1);
		if (v < 0) {
			char list[128] = "";

			for (int i = 0; i < keys[k].n; i++) {
				strncat(list, i ? "|" : "", sizeof(list) - strlen(list) - 1);
				strncat(list, keys[k].names[i], sizeof(list) - strlen(list) - 1);
			}
			snprintf(err, errlen, "--action %s: '%s' is not one of %s", keys[k].key,
				 eq + 1, list);
			return -1;
		}
		switch (k) {
		case 0:
			a->reboot = v;
			break;
		case 1:
			a->shutdown = v;
			break;
		case 2:
			a->panic = v;
			break;
		case 3:
			a->watchdog = v;
			break;
		}
		return 0;
	}
	snprintf(err, errlen, "--action wants reboot=, shutdown=, panic= or watchdog=, got '%s'",
		 kv);
	return -1;
}
