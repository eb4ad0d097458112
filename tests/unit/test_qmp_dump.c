/* test_qmp_dump.c - dump-guest-memory, query-dump and the capability query: QEMU's argument errors.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/qmp_events.h"
#include "api/qmp_schema.h"
#include "tests/unit/unit.h"

static struct {
	int calls, detach, has_filter, fd, format;
	char protocol[64];
	uint64_t begin, length;
	enum dump_status status;
	int panic_calls;
	char panic_dir[64];
} fk;

static int f_set_panic_dump(void *ctx, const char *dir, struct qmp_error *err)
{
	(void)ctx;
	fk.panic_calls++;
	snprintf(fk.panic_dir, sizeof(fk.panic_dir), "%s", dir ? dir : "(off)");
	if (dir && !strcmp(dir, "/nope")) {
		err->cls = "GenericError";
		snprintf(err->desc, sizeof(err->desc), "'/nope' is not a writable directory: x");
		return -1;
	}
	return 0;
}

static int f_dump(void *ctx, const char *protocol, int fd, int detach, int has_filter,
		  uint64_t begin, uint64_t length, enum qmp_dump_format format,
		  struct qmp_error *err)
{
	(void)ctx;
	fk.format = (int)format;
	(void)err;
	fk.calls++;
	fk.fd = fd;
	snprintf(fk.protocol, sizeof(fk.protocol), "%s", protocol);
	fk.detach = detach;
	fk.has_filter = has_filter;
	fk.begin = begin;
	fk.length = length;
	return 0;
}

static void f_query(void *ctx, struct dump_result *r)
{
	(void)ctx;
	*r = (struct dump_result){ fk.status, 4096, 8192 };
}

static const struct qmp_version ver = { 0, 1, 0, "test" };

/* Run @cmd with @json arguments as the dispatcher does: check, then handle. Returns the
 * reply's "return" as JSON text, or the error's description prefixed with "error: ". */
static const char *run(const char *cmd, const char *json)
{
	static char out[512];
	struct qmp_backend be = { 0 };
	const struct qmp_command *c = qmp_command_find(cmd);
	struct qmp_error err = { 0 };
	json_t *args = json_loads(json, 0, NULL), *ret = NULL;

	be.dump_guest_memory = f_dump;
	be.query_dump = f_query;
	be.set_panic_dump = f_set_panic_dump;
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(args);
	if (!qmp_args_check(c, args, &err))
		ret = c->handler(c, &be, &ver, args, &err);
	if (ret) {
		char *s = json_dumps(ret, JSON_COMPACT | JSON_SORT_KEYS);

		snprintf(out, sizeof(out), "%s", s);
		free(s);
		json_decref(ret);
	} else {
		ck_assert_str_eq(err.cls, "GenericError");
		snprintf(out, sizeof(out), "error: %s", err.desc);
	}
	json_decref(args);
	return out;
}

START_TEST(test_argument_errors)
{
	static const struct {
		const char *args, *reply;
	} cases[] = {
		{ "{}", "error: Parameter 'paging' is missing" },
		{ "{\"paging\": false}", "error: Parameter 'protocol' is missing" },
		{ "{\"paging\": 0, \"protocol\": \"file:/x\"}",
		  "error: Invalid parameter type for 'paging', expected: boolean" },
		{ "{\"paging\": false, \"protocol\": 1}",
		  "error: Invalid parameter type for 'protocol', expected: string" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"detach\": \"yes\"}",
		  "error: Invalid parameter type for 'detach', expected: boolean" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"begin\": \"0\", \"length\": 1}",
		  "error: Invalid parameter type for 'begin', expected: integer" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"format\": \"zip\"}",
		  "error: Parameter 'format' does not accept value 'zip'" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"extra\": 1}",
		  "error: Parameter 'extra' is unexpected" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"begin\": 0}",
		  "error: Parameter 'length' is missing" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"length\": 4096}",
		  "error: Parameter 'begin' is missing" },
		{ "{\"paging\": true, \"protocol\": \"file:/x\", \"format\": \"kdump-zlib\"}",
		  "error: kdump-compressed format doesn't support paging or filter" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"format\": \"kdump-lzo\"}",
		  "error: kdump-lzo is not available now" },
		/* QEMU names a raw format that is not built in by its flattened twin. */
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"format\": "
		  "\"kdump-raw-snappy\"}",
		  "error: kdump-snappy is not available now" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"format\": \"kdump-raw-zlib\", "
		  "\"begin\": 0, \"length\": 4096}",
		  "error: kdump-compressed format doesn't support paging or filter" },
		{ "{\"paging\": false, \"protocol\": \"file:/x\", \"format\": \"win-dmp\"}",
		  "error: win-dmp is not available now" },
		{ "{\"paging\": true, \"protocol\": \"file:/x\"}",
		  "error: paging is not supported: minivmm dumps guest-physical memory only" },
		/* The protocol after the format checks, as QEMU 10. */
		{ "{\"paging\": false, \"protocol\": \"tcp:x\"}",
		  "error: parameter 'protocol' must start with 'file:' or 'fd:'" },
		{ "{\"paging\": false, \"protocol\": \"fd:nope\", \"begin\": 0}",
		  "error: Parameter 'length' is missing" },
		{ "{\"paging\": false, \"protocol\": \"fd:nope\"}",
		  "error: File descriptor named 'nope' has not been found" },
		{ "{\"paging\": false, \"protocol\": \"fd:\"}",
		  "error: File descriptor named '' has not been found" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&fk, 0, sizeof(fk));
		ck_assert_msg(!strcmp(run("dump-guest-memory", cases[i].args), cases[i].reply),
			      "%s: got '%s'", cases[i].args,
			      run("dump-guest-memory", cases[i].args));
		ck_assert_int_eq(fk.calls, 0);
	}
}
END_TEST

START_TEST(test_dump_passed_on)
{
	memset(&fk, 0, sizeof(fk));
	ck_assert_str_eq(run("dump-guest-memory", "{\"paging\": false, \"protocol\": \"file:/x\"}"),
			 "{}");
	ck_assert_int_eq(fk.calls, 1);
	ck_assert_str_eq(fk.protocol, "file:/x");
	ck_assert_int_eq(fk.fd, -1); /* the backend opens a file: itself */
	ck_assert_int_eq(fk.detach, 0);
	ck_assert_int_eq(fk.has_filter, 0);
	ck_assert_str_eq(run("dump-guest-memory",
			     "{\"paging\": false, \"protocol\": \"file:/y\", \"detach\": true, "
			     "\"begin\": 4096, \"length\": 8192, \"format\": \"elf\"}"),
			 "{}");
	ck_assert_int_eq(fk.detach, 1);
	ck_assert_int_eq(fk.has_filter, 1);
	ck_assert_uint_eq(fk.begin, 4096);
	ck_assert_uint_eq(fk.length, 8192);
	ck_assert_int_eq(fk.format, QMP_DUMP_ELF);
	ck_assert_str_eq(run("dump-guest-memory", "{\"paging\": false, \"protocol\": \"file:/z\", "
						  "\"format\": \"kdump-zlib\"}"),
			 "{}");
	ck_assert_int_eq(fk.format, QMP_DUMP_KDUMP_ZLIB);
	ck_assert_str_eq(run("dump-guest-memory", "{\"paging\": false, \"protocol\": \"file:/z\", "
						  "\"format\": \"kdump-raw-zlib\"}"),
			 "{}");
	ck_assert_int_eq(fk.format, QMP_DUMP_KDUMP_RAW_ZLIB);
	/* One dump at a time, QEMU's words. */
	fk.status = DUMP_STATUS_ACTIVE;
	ck_assert_str_eq(run("dump-guest-memory", "{\"paging\": false, \"protocol\": \"file:/x\"}"),
			 "error: There is a dump in process, please wait.");
	ck_assert_int_eq(fk.calls, 4);
}
END_TEST

START_TEST(test_queries)
{
	fk.status = DUMP_STATUS_ACTIVE;
	ck_assert_str_eq(run("query-dump", "{}"),
			 "{\"completed\":4096,\"status\":\"active\",\"total\":8192}");
	fk.status = DUMP_STATUS_NONE;
	ck_assert_str_eq(run("query-dump", "{}"),
			 "{\"completed\":4096,\"status\":\"none\",\"total\":8192}");
	ck_assert_str_eq(run("query-dump-guest-memory-capability", "{}"),
			 "{\"formats\":[\"elf\",\"kdump-zlib\",\"kdump-raw-zlib\"]}");
}
END_TEST

START_TEST(test_dump_completed_event)
{
	struct vm_event ev = { .kind = QMP_EVENT_DUMP_COMPLETED };
	json_t *d;
	char *s;

	ev.dump = (struct dump_result){ DUMP_STATUS_FAILED, 10, 20 };
	ev.error = "dump: failed to save memory: No space left on device";
	d = qmp_event_data(&ev);
	s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"error\":\"dump: failed to save memory: No space left on device\","
			    "\"result\":{\"completed\":10,\"status\":\"failed\",\"total\":20}}");
	free(s);
	json_decref(d);
	ev.error = NULL;
	ev.file = "/d/x.vmcore";
	ev.dump.status = DUMP_STATUS_COMPLETED;
	d = qmp_event_data(&ev);
	s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"__org.minivmm_file\":\"/d/x.vmcore\",\"result\":{\"completed\":10,"
			    "\"status\":\"completed\",\"total\":20}}");
	free(s);
	json_decref(d);
	ck_assert_str_eq(qmp_events[QMP_EVENT_DUMP_COMPLETED].name, "DUMP_COMPLETED");
}
END_TEST

static json_t *entry(json_t *schema, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(schema, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")), name))
			return e;
	}
	ck_abort_msg("no schema entry %s", name);
	return NULL;
}

static const char *member(json_t *schema, const char *name, const char *key)
{
	return json_string_value(json_object_get(entry(schema, name), key));
}

/* One entry of query-qmp-schema with its type names resolved (QEMU numbers them, so only the
 * structure can be compared): objects as their members, enums as their values. */
static json_t *resolve(json_t *schema, const char *name)
{
	json_t *e = entry(schema, name), *out, *m;
	const char *mt = member(schema, name, "meta-type");
	size_t i;

	if (!strcmp(mt, "builtin"))
		return json_string(name);
	if (!strcmp(mt, "enum"))
		return json_pack("{s:O}", "enum", json_object_get(e, "values"));
	if (!strcmp(mt, "array"))
		return json_pack("{s:o}", "array",
				 resolve(schema, member(schema, name, "element-type")));
	if (!strcmp(mt, "command"))
		return json_pack("{s:o, s:o}", "command",
				 resolve(schema, member(schema, name, "arg-type")), "ret",
				 resolve(schema, member(schema, name, "ret-type")));
	if (!strcmp(mt, "event"))
		return json_pack("{s:o}", "event",
				 resolve(schema, member(schema, name, "arg-type")));
	out = json_array();
	json_array_foreach(json_object_get(e, "members"), i, m)
	{
		json_array_append_new(
		    out, json_pack("{s:O, s:o, s:b}", "name", json_object_get(m, "name"), "type",
				   resolve(schema, json_string_value(json_object_get(m, "type"))),
				   "optional", json_object_get(m, "default") != NULL));
	}
	return json_pack("{s:o}", "object", out);
}

/* The type of member @i of object type @name. */
static const char *member_type(json_t *schema, const char *name, size_t i)
{
	json_t *m = json_array_get(json_object_get(entry(schema, name), "members"), i);

	return json_string_value(json_object_get(m, "type"));
}

/* The dump commands' and getfd's entries have QEMU 10.0.2's shape (its query-qmp-schema,
 * resolved the same way; DUMP_COMPLETED adds minivmm's downstream member). */
START_TEST(test_schema_as_qemu)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "dump-guest-memory",
		  "{\"command\":{\"object\":[{\"name\":\"paging\",\"optional\":false,\"type\":\"bo"
		  "ol\"},{\"name\":\"protocol\",\"optional\":false,\"type\":\"str\"},{\"name\":\"de"
		  "tach\",\"optional\":true,\"type\":\"bool\"},{\"name\":\"begin\",\"optional\":tr"
		  "ue,\"type\":\"int\"},{\"name\":\"length\",\"optional\":true,\"type\":\"int\"},{"
		  "\""
		  "name\":\"format\",\"optional\":true,\"type\":{\"enum\":[\"elf\",\"kdump-zlib\","
		  "\"kdump-lzo\",\"kdump-snappy\",\"kdump-raw-zlib\",\"kdump-raw-lzo\",\"kdump"
		  "-raw-snappy\",\"win-dmp\"]}}]},\"ret\":{\"object\":[]}}" },
		{ "query-dump",
		  "{\"command\":{\"object\":[]},\"ret\":{\"object\":[{\"name\":\"status\",\"option"
		  "al\":false,\"type\":{\"enum\":[\"none\",\"active\",\"completed\",\"failed\"]}},"
		  "{\"name\":\"completed\",\"optional\":false,\"type\":\"int\"},{\"name\":\"total\""
		  ",\"optional\":false,\"type\":\"int\"}]}}" },
		{ "query-dump-guest-memory-capability",
		  "{\"command\":{\"object\":[]},\"ret\":{\"object\":[{\"name\":\"formats\",\"optio"
		  "nal\":false,\"type\":{\"array\":{\"enum\":[\"elf\",\"kdump-zlib\",\"kdump-lzo\""
		  ",\"kdump-snappy\",\"kdump-raw-zlib\",\"kdump-raw-lzo\",\"kdump-raw-snappy"
		  "\",\"win-dmp\"]}}}]}}" },
		{ "DUMP_COMPLETED",
		  "{\"event\":{\"object\":[{\"name\":\"result\",\"optional\":false,\"type\":{\"obj"
		  "ect\":[{\"name\":\"status\",\"optional\":false,\"type\":{\"enum\":[\"none\",\"ac"
		  "tive\",\"completed\",\"failed\"]}},{\"name\":\"completed\",\"optional\":false"
		  ",\"type\":\"int\"},{\"name\":\"total\",\"optional\":false,\"type\":\"int\"}]}},{"
		  "\"name\":\"error\",\"optional\":true,\"type\":\"str\"},{\"name\":\"__org.minivm"
		  "m_file\",\"optional\":true,\"type\":\"str\"}]}}" },
		{ "getfd",
		  "{\"command\":{\"object\":[{\"name\":\"fdname\",\"optional\":false,\"type\":\"st"
		  "r\"}]},\"ret\":{\"object\":[]}}" },
		{ "closefd",
		  "{\"command\":{\"object\":[{\"name\":\"fdname\",\"optional\":false,\"type\":\"st"
		  "r\"}]},\"ret\":{\"object\":[]}}" },
		{ "__org.minivmm_set-panic-dump",
		  "{\"command\":{\"object\":[{\"name\":\"dir\",\"optional\":true,\"type\":\"str\"}]"
		  "},\"ret\":{\"object\":[]}}" },
	};
	json_t *schema = qmp_schema_introspect();
	const char *fmt, *fmts;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *got = resolve(schema, cases[i].name);
		char *s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		ck_assert_msg(!strcmp(s, cases[i].want), "%s:\n got %s\nwant %s", cases[i].name, s,
			      cases[i].want);
		free(s);
		json_decref(got);
	}
	/* One type each, as in QEMU: the format enum of the argument and of the capability, the
	 * DumpQueryResult of query-dump and of DUMP_COMPLETED; getfd and closefd have two. */
	fmt = member_type(schema, member(schema, "dump-guest-memory", "arg-type"), 5);
	fmts = member_type(schema, member(schema, "query-dump-guest-memory-capability", "ret-type"),
			   0);
	ck_assert_str_eq(member(schema, fmts, "element-type"), fmt);
	ck_assert_str_eq(member_type(schema, member(schema, "DUMP_COMPLETED", "arg-type"), 0),
			 member(schema, "query-dump", "ret-type"));
	ck_assert_str_ne(member(schema, "getfd", "arg-type"),
			 member(schema, "closefd", "arg-type"));
	json_decref(schema);
}
END_TEST

/* The run-time --panic-dump: a directory, or off when absent or empty. */
START_TEST(test_set_panic_dump)
{
	memset(&fk, 0, sizeof(fk));
	ck_assert_str_eq(run("__org.minivmm_set-panic-dump", "{\"dir\": \"/tmp\"}"), "{}");
	ck_assert_str_eq(fk.panic_dir, "/tmp");
	ck_assert_str_eq(run("__org.minivmm_set-panic-dump", "{}"), "{}");
	ck_assert_str_eq(fk.panic_dir, "(off)");
	ck_assert_str_eq(run("__org.minivmm_set-panic-dump", "{\"dir\": \"\"}"), "{}");
	ck_assert_str_eq(fk.panic_dir, "(off)");
	ck_assert_str_eq(run("__org.minivmm_set-panic-dump", "{\"dir\": \"/nope\"}"),
			 "error: '/nope' is not a writable directory: x");
	ck_assert_str_eq(run("__org.minivmm_set-panic-dump", "{\"dir\": 1}"),
			 "error: Invalid parameter type for 'dir', expected: string");
	ck_assert_str_eq(run("__org.minivmm_set-panic-dump", "{\"path\": \"/tmp\"}"),
			 "error: Parameter 'path' is unexpected");
	ck_assert_int_eq(fk.panic_calls, 4);
}
END_TEST

/* __org.minivmm_GUEST_PANIC_REPORT's data: member order, registers as hex, null and why. */
START_TEST(test_panic_report_event)
{
	struct panic_report r = { .cpu = 1, .have_regs = 1, .action = PANIC_SHUTDOWN };
	struct vm_event ev = { .kind = QMP_EVENT_GUEST_PANIC_REPORT, .report = &r };
	json_t *d, *regs;
	char *s;

	r.regs.rip = 0xffffffff81234567ull;
	r.regs.cs = 0x10;
	r.message = "Kernel panic - not syncing: x\n[ 1.0] more";
	r.message_len = 29;
	r.log = "[    1.000000] a\n[    2.000000] Kernel panic - not syncing: x\n";
	r.log_len = strlen(r.log);
	r.log_total = 1000;
	r.vmcore = "/d/x.vmcore";
	d = qmp_event_data(&ev);
	regs = json_object_get(d, "registers");
	ck_assert_int_eq(json_object_size(regs), 31);
	ck_assert_str_eq(json_string_value(json_object_get(regs, "rip")), "0xffffffff81234567");
	ck_assert_str_eq(json_string_value(json_object_get(regs, "cs")), "0x0000000000000010");
	ck_assert_str_eq(json_string_value(json_object_get(regs, "rax")), "0x0000000000000000");
	json_object_del(d, "registers");
	s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s, "{\"cpu\":1,\"message\":\"Kernel panic - not syncing: x\","
			    "\"action\":\"shutdown\",\"vmcore\":\"/d/x.vmcore\",\"log\":\"[    "
			    "1.000000] a\\n[    2.000000] Kernel panic - not syncing: x\\n\","
			    "\"log_total\":1000}");
	free(s);
	json_decref(d);
	/* No log, no registers, no vcpu known: nulls, and why. */
	r = (struct panic_report){ .cpu = -1, .action = PANIC_PAUSE, .log_error = "no VMCOREINFO" };
	d = qmp_event_data(&ev);
	s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s, "{\"cpu\":null,\"message\":null,\"action\":\"pause\",\"registers\":"
			    "null,\"log\":null,\"log_error\":\"no VMCOREINFO\"}");
	free(s);
	json_decref(d);
	ck_assert_str_eq(qmp_events[QMP_EVENT_GUEST_PANIC_REPORT].name,
			 "__org.minivmm_GUEST_PANIC_REPORT");
}
END_TEST

static Suite *qmp_dump_suite(void)
{
	Suite *s = suite_create("qmp_dump");
	TCase *tc = tcase_create("qmp_dump");

	tcase_add_test(tc, test_argument_errors);
	tcase_add_test(tc, test_dump_passed_on);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_dump_completed_event);
	tcase_add_test(tc, test_schema_as_qemu);
	tcase_add_test(tc, test_set_panic_dump);
	tcase_add_test(tc, test_panic_report_event);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(qmp_dump_suite());
}
