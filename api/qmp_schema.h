/* qmp_schema.h - QMP commands and events, declared once: dispatch, checking, docs. */
#ifndef MINIVMM_QMP_SCHEMA_H
#define MINIVMM_QMP_SCHEMA_H

#include <jansson.h>
#include <stdio.h>

#include "qmp.h"
#include "qmp_types.h"

enum qmp_arg_type { QMP_ARG_ENUM, QMP_ARG_ENUM_LIST, QMP_ARG_STR, QMP_ARG_INT, QMP_ARG_BOOL };

struct qmp_arg {
	const char *name;
	enum qmp_arg_type type;
	const char *qapi_type;	   /* "WatchdogAction", "str", "int", "bool" (docs, schema) */
	const char *const *values; /* the enum's names, from where the enum lives (core/action.h) */
	unsigned nvalues;
	int optional;
};

struct qmp_command;

/* A handler gets the checked arguments; it returns the "return" value or NULL with @err. */
typedef json_t *(*qmp_handler)(const struct qmp_command *cmd, const struct qmp_backend *be,
			       const struct qmp_version *ver, json_t *args, struct qmp_error *err);

struct qmp_command {
	const char *name;
	const struct qmp_arg *args;
	unsigned nargs;
	qmp_handler handler; /* NULL for qmp_capabilities, which the server handles itself */
	/* For an argument-less command that only calls the backend: where in struct
	 * qmp_backend its int (*)(void *ctx, struct qmp_error *) is (offsetof). */
	size_t be_op;
	const char *doc;
	const struct qmp_type *ret; /* the reply's type (query-qmp-schema); NULL: {} */
};

struct qmp_event_def {
	const char *name;
	const char *data; /* documentation of the data members, "" for none */
	const char *doc;
	/*
	 * Throttle: a burst of @burst (0 counts as 1), then one per @rate_ms; those that come
	 * while none is allowed wait, only the newest kept, for the next. @rate_ms 0: none.
	 */
	unsigned rate_ms;
	const struct qmp_type *data_type; /* query-qmp-schema; NULL: no data */
	unsigned burst;
};

extern const struct qmp_command qmp_commands[];
extern const unsigned qmp_ncommands;
extern const struct qmp_event_def qmp_events[QMP_EVENT__MAX];

/* The command called @name, or NULL. */
const struct qmp_command *qmp_command_find(const char *name);

/*
 * Check @args (an object) against @cmd's declaration as QEMU's input visitor does: declared
 * members in order (missing, wrong type, bad enum value), then unexpected ones.
 * Returns 0, or -1 with QEMU's message in @err.
 */
int qmp_args_check(const struct qmp_command *cmd, json_t *args, struct qmp_error *err);

/* query-qmp-schema: every command and event and the types they use, in QEMU's SchemaInfo form
 * (qmp_introspect.c). */
json_t *qmp_schema_introspect(void);

/* Write the reference documentation (Markdown) generated from the tables. */
void qmp_schema_doc(FILE *out);

#endif
