/* runstate.c - the run-state transition table, as QEMU 10.0.2 defines it (system/runstate.c). */
#include "runstate.h"
#include "log.h"

#include <errno.h>

unsigned runstate_bugs;

static const char *const names[RUNSTATE__MAX] = {
	[RUNSTATE_DEBUG] = "debug",
	[RUNSTATE_INMIGRATE] = "inmigrate",
	[RUNSTATE_INTERNAL_ERROR] = "internal-error",
	[RUNSTATE_IO_ERROR] = "io-error",
	[RUNSTATE_PAUSED] = "paused",
	[RUNSTATE_POSTMIGRATE] = "postmigrate",
	[RUNSTATE_PRELAUNCH] = "prelaunch",
	[RUNSTATE_FINISH_MIGRATE] = "finish-migrate",
	[RUNSTATE_RESTORE_VM] = "restore-vm",
	[RUNSTATE_RUNNING] = "running",
	[RUNSTATE_SAVE_VM] = "save-vm",
	[RUNSTATE_SHUTDOWN] = "shutdown",
	[RUNSTATE_SUSPENDED] = "suspended",
	[RUNSTATE_WATCHDOG] = "watchdog",
	[RUNSTATE_GUEST_PANICKED] = "guest-panicked",
	[RUNSTATE_COLO] = "colo",
};

/* Bit @to of allowed[@from] is set when the transition is allowed. Migration, COLO and
 * snapshot states are kept for fidelity to the schema even though minivmm never enters them. */
static const unsigned allowed[RUNSTATE__MAX] = {
	[RUNSTATE_PRELAUNCH] = 1u << RUNSTATE_INMIGRATE | 1u << RUNSTATE_SUSPENDED |
			       1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE,
	[RUNSTATE_DEBUG] = 1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE |
			   1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_SUSPENDED,
	[RUNSTATE_INMIGRATE] = 1u << RUNSTATE_INTERNAL_ERROR | 1u << RUNSTATE_IO_ERROR |
			       1u << RUNSTATE_PAUSED | 1u << RUNSTATE_RUNNING |
			       1u << RUNSTATE_SHUTDOWN | 1u << RUNSTATE_SUSPENDED |
			       1u << RUNSTATE_WATCHDOG | 1u << RUNSTATE_GUEST_PANICKED |
			       1u << RUNSTATE_FINISH_MIGRATE | 1u << RUNSTATE_PRELAUNCH |
			       1u << RUNSTATE_POSTMIGRATE | 1u << RUNSTATE_COLO,
	[RUNSTATE_INTERNAL_ERROR] =
	    1u << RUNSTATE_PAUSED | 1u << RUNSTATE_FINISH_MIGRATE | 1u << RUNSTATE_PRELAUNCH,
	[RUNSTATE_IO_ERROR] =
	    1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE | 1u << RUNSTATE_PRELAUNCH,
	[RUNSTATE_PAUSED] = 1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE |
			    1u << RUNSTATE_POSTMIGRATE | 1u << RUNSTATE_PRELAUNCH |
			    1u << RUNSTATE_COLO | 1u << RUNSTATE_SUSPENDED,
	[RUNSTATE_POSTMIGRATE] =
	    1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE | 1u << RUNSTATE_PRELAUNCH,
	[RUNSTATE_FINISH_MIGRATE] =
	    1u << RUNSTATE_RUNNING | 1u << RUNSTATE_PAUSED | 1u << RUNSTATE_POSTMIGRATE |
	    1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_COLO | 1u << RUNSTATE_INTERNAL_ERROR |
	    1u << RUNSTATE_IO_ERROR | 1u << RUNSTATE_SHUTDOWN | 1u << RUNSTATE_SUSPENDED |
	    1u << RUNSTATE_WATCHDOG | 1u << RUNSTATE_GUEST_PANICKED,
	[RUNSTATE_RESTORE_VM] =
	    1u << RUNSTATE_RUNNING | 1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_SUSPENDED,
	[RUNSTATE_COLO] =
	    1u << RUNSTATE_RUNNING | 1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_SHUTDOWN,
	[RUNSTATE_RUNNING] =
	    1u << RUNSTATE_DEBUG | 1u << RUNSTATE_INTERNAL_ERROR | 1u << RUNSTATE_IO_ERROR |
	    1u << RUNSTATE_PAUSED | 1u << RUNSTATE_FINISH_MIGRATE | 1u << RUNSTATE_RESTORE_VM |
	    1u << RUNSTATE_SAVE_VM | 1u << RUNSTATE_SHUTDOWN | 1u << RUNSTATE_WATCHDOG |
	    1u << RUNSTATE_GUEST_PANICKED | 1u << RUNSTATE_COLO | 1u << RUNSTATE_SUSPENDED,
	[RUNSTATE_SAVE_VM] = 1u << RUNSTATE_RUNNING | 1u << RUNSTATE_SUSPENDED,
	[RUNSTATE_SHUTDOWN] = 1u << RUNSTATE_PAUSED | 1u << RUNSTATE_FINISH_MIGRATE |
			      1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_COLO,
	[RUNSTATE_SUSPENDED] = 1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE |
			       1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_COLO |
			       1u << RUNSTATE_PAUSED | 1u << RUNSTATE_SAVE_VM |
			       1u << RUNSTATE_RESTORE_VM | 1u << RUNSTATE_SHUTDOWN,
	[RUNSTATE_WATCHDOG] = 1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE |
			      1u << RUNSTATE_PRELAUNCH | 1u << RUNSTATE_COLO,
	[RUNSTATE_GUEST_PANICKED] =
	    1u << RUNSTATE_RUNNING | 1u << RUNSTATE_FINISH_MIGRATE | 1u << RUNSTATE_PRELAUNCH,
};

const char *runstate_name(enum runstate s)
{
	return (unsigned)s < RUNSTATE__MAX ? names[s] : "invalid";
}

int runstate_transition_ok(enum runstate from, enum runstate to)
{
	if ((unsigned)from >= RUNSTATE__MAX || (unsigned)to >= RUNSTATE__MAX)
		return 0;
	return from == to || (allowed[from] >> to) & 1;
}

int runstate_set(enum runstate *cur, enum runstate to)
{
	if (!runstate_transition_ok(*cur, to)) {
		runstate_bugs++;
		pr_err("BUG: invalid run state transition '%s' -> '%s' refused",
		       runstate_name(*cur), runstate_name(to));
		return -EINVAL;
	}
	*cur = to;
	return 0;
}
