/* qmp_query.h - the handlers of the query commands, inject-nmi and human-monitor-command. */
#ifndef MINIVMM_QMP_QUERY_H
#define MINIVMM_QMP_QUERY_H

#include "qmp_schema.h"

/* Each as qmp_handler: the reply in QEMU 10.0.2's shape, or NULL with @err. */
#define QMP_HANDLER(fn)                                                                            \
	json_t *fn(const struct qmp_command *cmd, const struct qmp_backend *be,                    \
		   const struct qmp_version *ver, json_t *args, struct qmp_error *err)
QMP_HANDLER(qmp_query_kvm);
QMP_HANDLER(qmp_query_name);
QMP_HANDLER(qmp_query_uuid);
QMP_HANDLER(qmp_query_target);
QMP_HANDLER(qmp_query_machines);
QMP_HANDLER(qmp_query_cpus_fast);
QMP_HANDLER(qmp_inject_nmi);
QMP_HANDLER(qmp_query_chardev);
QMP_HANDLER(qmp_query_pci);
QMP_HANDLER(qmp_query_qmp_schema);	/* qmp_introspect.c */
QMP_HANDLER(qmp_human_monitor_command); /* qmp_hmp.c */

#endif
