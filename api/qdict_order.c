/* qdict_order.c - reorders JSON objects into QEMU's QDict iteration order (see the header). */
#include "qdict_order.h"

#include <stdlib.h>
#include <string.h>

#define QDICT_BUCKETS 512

/* The hash QEMU's qobject/qdict.c applies to a key (the TDB hash, as its comment says). */
unsigned qdict_bucket(const char *key)
{
	size_t n = strlen(key);
	unsigned h = 0x238F13AFu * (unsigned)n;

	for (size_t i = 0; i < n; i++)
		h += (unsigned)(unsigned char)key[i] << (i * 5 % 24);
	return (1103515243u * h + 12345u) % QDICT_BUCKETS;
}

struct member {
	const char *key;
	json_t *val;
	unsigned bucket;
	size_t pos; /* insertion order */
};

/* Bucket ascending; within a bucket the newest member first (it is pushed at the head). */
static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->pos < y->pos ? 1 : -1;
}

/* Whether @v's objects, at every depth, already list their members in QEMU's order: buckets
 * strictly ascending (two members sharing one are printed newest first: a copy is needed). */
static int in_order(json_t *v)
{
	if (json_is_array(v)) {
		json_t *e;
		size_t i;

		json_array_foreach(v, i, e) if (!in_order(e)) return 0;
		return 1;
	}
	if (json_is_object(v)) {
		unsigned prev = 0, b;
		int first = 1;
		const char *key;
		json_t *val;

		json_object_foreach(v, key, val)
		{
			b = qdict_bucket(key);
			if ((!first && b <= prev) || !in_order(val))
				return 0;
			prev = b;
			first = 0;
		}
	}
	return 1;
}

static json_t *reorder(json_t *v)
{
	if (json_is_array(v)) {
		json_t *out = json_array(), *e;
		size_t i;

		json_array_foreach(v, i, e) json_array_append_new(out, reorder(e));
		return out;
	}
	if (json_is_object(v)) {
		size_t n = json_object_size(v), i = 0;
		struct member *m = calloc(n ? n : 1, sizeof(*m));
		json_t *out = json_object(), *val;
		const char *key;

		if (!m)
			return json_incref(
			    v); /* out of memory: QEMU's order is then the least worry */
		json_object_foreach(v, key, val)
		{
			m[i] = (struct member){ key, val, qdict_bucket(key), i };
			i++;
		}
		qsort(m, n, sizeof(*m), member_cmp);
		for (i = 0; i < n; i++)
			json_object_set_new(out, m[i].key, reorder(m[i].val));
		free(m);
		return out;
	}
	return json_incref(v);
}

json_t *qdict_order(json_t *v)
{
	/* Most objects are built in that order already (events, replies): no copy then. */
	if (in_order(v))
		return json_incref(v);
	return reorder(v);
}
