/* qmp_events.h - typed events (core/event.h) turned into QMP event data, in one place. */
#ifndef MINIVMM_QMP_EVENTS_H
#define MINIVMM_QMP_EVENTS_H

#include <jansson.h>

#include "core/event.h"

struct qmp_server;

/* QAPI DumpQueryResult: {"status", "completed", "total"} (query-dump, DUMP_COMPLETED). */
json_t *qmp_dump_result(const struct dump_result *r);

/* __org.minivmm_GUEST_PANIC_REPORT's data (README, "Panic report"). */
json_t *qmp_panic_report(const struct panic_report *r);

/* The "data" member of @ev as QEMU sends it, or NULL for an event without data. */
json_t *qmp_event_data(const struct vm_event *ev);

/* Journal and send @ev to @s's clients (qmp_event_emit with its data). Main thread only. */
void qmp_event_send(struct qmp_server *s, const struct vm_event *ev);

#endif
