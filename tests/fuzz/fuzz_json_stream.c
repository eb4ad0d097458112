/* fuzz_json_stream.c - libFuzzer harness: the QMP JSON stream splitter with small caps. */
/*
 * Built with JSON_STREAM_MAX_VALUE 64 and JSON_STREAM_MAX_NESTING 8 (tests/fuzz/meson.build),
 * so short inputs reach the size and depth discard paths. Invariants, beyond "no crash":
 *  - the values and errors that come out do not depend on how the bytes are split into
 *    feeds (the first input byte picks a split pattern; one feed is compared with many);
 *  - the buffer never holds more than the size cap; a stored value is never deeper than the
 *    depth cap + 1;
 *  - once the input is out of any string and container, a well-formed value that follows
 *    comes out whole: the stream resynchronised itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_stream.h"

#if JSON_STREAM_MAX_VALUE > 4096
#error "build this harness with small caps"
#endif

/* What came out, folded: count, a hash of every event, the last event's text. */
struct record {
	unsigned n;
	uint64_t hash;
	char last[128];
};

static void fold(struct record *r, const char *kind, const char *text)
{
	uint64_t h = r->hash ? r->hash : 1469598103934665603ull;

	for (const char *p = kind; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (const char *p = text; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	r->hash = (h ^ 0xff) * 1099511628211ull;
	r->n++;
	snprintf(r->last, sizeof(r->last), "%s:%s", kind, text);
}

static int on_value(void *ctx, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);

	if (!text)
		abort();
	fold(ctx, "V", text);
	free(text);
	return 0;
}

static int on_error(void *ctx, const char *desc)
{
	fold(ctx, "E", desc);
	return 0;
}

static void check_caps(const struct json_stream *js)
{
	/* While discarding, depth only counts brackets to skip; it is not stored. */
	if (js->vlen > JSON_STREAM_MAX_VALUE ||
	    (!js->discarding && js->depth > JSON_STREAM_MAX_NESTING + 1) ||
	    js->vcap > 2 * (JSON_STREAM_MAX_VALUE > 1024 ? JSON_STREAM_MAX_VALUE : 1024)) {
		fprintf(stderr, "cap broken: vlen %zu vcap %zu depth %u\n", js->vlen, js->vcap,
			js->depth);
		abort();
	}
}

static void run(const uint8_t *data, size_t size, unsigned pattern, struct record *r, int *quiet)
{
	struct json_stream_ops ops = { on_value, on_error, r };
	struct json_stream js;
	size_t off = 0;
	unsigned step = 0;

	json_stream_init(&js, &ops);
	while (off < size) {
		/* pattern 0: one feed; else chunk lengths 1..pattern, cycling */
		size_t n = pattern ? 1 + (step++ % pattern) : size - off;

		if (n > size - off)
			n = size - off;
		if (json_stream_feed(&js, data + off, n) != (long)n)
			abort();
		check_caps(&js);
		off += n;
	}
	*quiet = !js.in_str && js.depth == 0;
	if (*quiet) {
		static const char tail[] = "\n{\"resync\": [1, \"x\"]}";

		if (json_stream_feed(&js, tail, sizeof(tail) - 1) != (long)sizeof(tail) - 1)
			abort();
	}
	json_stream_destroy(&js);
}

/* jansson's hash seed is random per process unless set: fixed, objects iterate alike every run
 * (tests/fuzz/run.sh --ci replays a seed exactly). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record whole = { 0 }, split = { 0 };
	int quiet_whole, quiet_split;
	unsigned pattern;

	if (size < 1)
		return 0;
	pattern = 1 + data[0] % 7;
	data++;
	size--;
	run(data, size, 0, &whole, &quiet_whole);
	run(data, size, pattern, &split, &quiet_split);
	if (whole.n != split.n || whole.hash != split.hash || quiet_whole != quiet_split) {
		fprintf(stderr,
			"split into feeds of 1..%u: %u events (last %s), one feed: %u (%s)\n",
			pattern, split.n, split.last, whole.n, whole.last);
		abort();
	}
	if (quiet_whole && strcmp(whole.last, "V:{\"resync\":[1,\"x\"]}")) {
		fprintf(stderr, "no resync: the value after the input came out as %s\n",
			whole.last);
		abort();
	}
	return 0;
}
