/* request.c - names of shutdown causes, as QAPI spells them. */
#include "request.h"

static const char *const cause_names[CAUSE__MAX] = {
	[CAUSE_NONE] = "none",
	[CAUSE_HOST_ERROR] = "host-error",
	[CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
	[CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
	[CAUSE_HOST_SIGNAL] = "host-signal",
	[CAUSE_HOST_UI] = "host-ui",
	[CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
	[CAUSE_GUEST_RESET] = "guest-reset",
	[CAUSE_GUEST_PANIC] = "guest-panic",
	[CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
};

const char *shutdown_cause_name(enum shutdown_cause cause)
{
	if ((unsigned)cause >= CAUSE__MAX)
		return "none";
	return cause_names[cause];
}
