#include "qmp.h"
#include <errno.h>
#include <stdlib.h>
struct qmp_server { int x; };
int qmp_server_create(struct loop *l, const struct qmp_backend *b, const struct qmp_version *v, struct qmp_server **o) { (void)l;(void)b;(void)v; *o = calloc(1, sizeof(**o)); return 0; }
int qmp_server_listen_unix(struct qmp_server *s, const char *p) { (void)s;(void)p; return -ENOSYS; }
int qmp_server_listen_fd(struct qmp_server *s, int fd) { (void)s;(void)fd; return -ENOSYS; }
void qmp_server_set_event_log(struct qmp_server *s, struct event_log *l) { (void)s;(void)l; }
void qmp_event_emit(struct qmp_server *s, enum qmp_event ev, json_t *d) { (void)s;(void)ev; json_decref(d); }
void qmp_server_destroy(struct qmp_server *s) { free(s); }
