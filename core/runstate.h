/* runstate.h - QEMU's RunState values and the transitions allowed between them. */
#ifndef MINIVMM_RUNSTATE_H
#define MINIVMM_RUNSTATE_H

/* QAPI RunState, in the schema's order: QEMU 10.0.2's query-qmp-schema. (The 2020 run-state
 * schema ends with preconfig; QEMU 10.0.2's RunState has no such value, nor does minivmm.) */
enum runstate {
	RUNSTATE_DEBUG,
	RUNSTATE_INMIGRATE,
	RUNSTATE_INTERNAL_ERROR,
	RUNSTATE_IO_ERROR,
	RUNSTATE_PAUSED,
	RUNSTATE_POSTMIGRATE,
	RUNSTATE_PRELAUNCH,
	RUNSTATE_FINISH_MIGRATE,
	RUNSTATE_RESTORE_VM,
	RUNSTATE_RUNNING,
	RUNSTATE_SAVE_VM,
	RUNSTATE_SHUTDOWN,
	RUNSTATE_SUSPENDED,
	RUNSTATE_WATCHDOG,
	RUNSTATE_GUEST_PANICKED,
	RUNSTATE_COLO,
	RUNSTATE__MAX
};

/* The QAPI spelling ("guest-panicked"). */
const char *runstate_name(enum runstate s);

/* Whether QEMU allows @from -> @to. Staying in the same state is always allowed. */
int runstate_transition_ok(enum runstate from, enum runstate to);

/* States from which only a reset gets the guest running again (QEMU's runstate_needs_reset). */
static inline int runstate_needs_reset(enum runstate s)
{
	return s == RUNSTATE_INTERNAL_ERROR || s == RUNSTATE_SHUTDOWN;
}

/*
 * Move *@cur to @to. An impossible transition is a bug in minivmm: it is refused (state
 * unchanged), logged, counted in runstate_bugs, and -EINVAL returned; never an abort.
 */
int runstate_set(enum runstate *cur, enum runstate to);

/* Number of refused transitions so far (tests assert it stays 0). */
extern unsigned runstate_bugs;

#endif
