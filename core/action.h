/* action.h - what the VMM does on reboot, shutdown, panic and watchdog expiry (QEMU -action). */
#ifndef MINIVMM_ACTION_H
#define MINIVMM_ACTION_H

enum reboot_action { REBOOT_RESET, REBOOT_SHUTDOWN, REBOOT__MAX };
enum shutdown_action { SHUTDOWN_POWEROFF, SHUTDOWN_PAUSE, SHUTDOWN__MAX };
enum panic_action { PANIC_PAUSE, PANIC_SHUTDOWN, PANIC_EXIT_FAILURE, PANIC_NONE, PANIC__MAX };
enum watchdog_action {
	WATCHDOG_RESET,
	WATCHDOG_SHUTDOWN,
	WATCHDOG_POWEROFF,
	WATCHDOG_PAUSE,
	WATCHDOG_DEBUG,
	WATCHDOG_NONE,
	WATCHDOG_INJECT_NMI,
	WATCHDOG__MAX
};

/* The one set of actions in force. Defaults as QEMU's: reset, poweroff, shutdown, reset. */
struct actions {
	enum reboot_action reboot;
	enum shutdown_action shutdown;
	enum panic_action panic;
	enum watchdog_action watchdog;
};

#define ACTIONS_DEFAULT                                                                            \
	{                                                                                          \
		REBOOT_RESET, SHUTDOWN_POWEROFF, PANIC_SHUTDOWN, WATCHDOG_RESET                    \
	}

/* QAPI names (RebootAction, ShutdownAction, PanicAction, WatchdogAction) and their parsers;
 * a parser returns the value or -1 for an unknown name. */
extern const char *const reboot_action_names[REBOOT__MAX];
extern const char *const shutdown_action_names[SHUTDOWN__MAX];
extern const char *const panic_action_names[PANIC__MAX];
extern const char *const watchdog_action_names[WATCHDOG__MAX];
int action_lookup(const char *const *names, int n, const char *name);

/*
 * Apply one "KEY=VALUE" (reboot=, shutdown=, panic=, watchdog=) to @a, as --action does.
 * Returns 0, or -1 with a one-line reason in @err.
 */
int actions_parse_one(struct actions *a, const char *kv, char *err, unsigned errlen);

/* QEMU's -no-reboot and -no-shutdown. */
static inline void actions_no_reboot(struct actions *a)
{
	a->reboot = REBOOT_SHUTDOWN;
}

static inline void actions_no_shutdown(struct actions *a)
{
	a->shutdown = SHUTDOWN_PAUSE;
}

#endif
