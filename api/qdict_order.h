/* qdict_order.h - JSON objects in the member order QEMU's monitor prints them. */
#ifndef MINIVMM_QDICT_ORDER_H
#define MINIVMM_QDICT_ORDER_H

#include <jansson.h>

/*
 * QEMU keeps a JSON object as a QDict, a 512-bucket hash table, and prints it bucket by bucket,
 * each bucket newest member first; so a reply's member order is a function of its keys (and,
 * within a bucket, of the order they were added). Returns a new reference to a copy of @v
 * whose objects, at every depth, list their members in that order, so that what minivmm
 * prints matches QEMU byte for byte whatever order a handler built it in; to @v itself when
 * it is in that order already (treat the result as read-only). Other values are shared, not
 * copied. NULL for NULL. Members sharing a bucket keep their relative order
 * reversed, so build objects in the QAPI schema's member order, as QEMU's visitors fill them
 * (VersionTriple: major, minor, micro; "micro" and "minor" share a bucket).
 */
json_t *qdict_order(json_t *v);

/* The bucket QEMU's QDict puts @key in (exposed for the unit test). */
unsigned qdict_bucket(const char *key);

#endif
