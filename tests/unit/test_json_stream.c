/* test_json_stream.c - the JSON stream splitter alone: framing across feeds, strings, scalars,
 * QEMU's error messages, the size and depth caps and recovery after them, stopping. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_stream.h"
#include "tests/unit/unit.h"

/* What came out, in order: "V:<compact JSON>" or "E:<message>". */
static char got[64][256];
static unsigned ngot;
static int stop_after; /* stop once this many events were seen; 0: never */

static int record(const char *kind, const char *text)
{
	ck_assert_uint_lt(ngot, 64);
	snprintf(got[ngot++], sizeof(got[0]), "%s:%s", kind, text);
	return stop_after && ngot >= (unsigned)stop_after;
}

static int on_value(void *ctx, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	int ret = record("V", text);

	(void)ctx;
	free(text);
	return ret;
}

static int on_error(void *ctx, const char *desc)
{
	(void)ctx;
	return record("E", desc);
}

static struct json_stream js;

static void setup(void)
{
	struct json_stream_ops ops = { on_value, on_error, NULL };

	ngot = 0;
	stop_after = 0;
	json_stream_init(&js, &ops);
}

static void teardown(void)
{
	json_stream_destroy(&js);
}

static void feed(const char *s)
{
	ck_assert_int_eq(json_stream_feed(&js, s, strlen(s)), (long)strlen(s));
}

static void expect(unsigned i, const char *want)
{
	ck_assert_uint_gt(ngot, i);
	ck_assert_str_eq(got[i], want);
}

START_TEST(test_values_across_feeds)
{
	feed("{\"execute\"");
	ck_assert_uint_eq(ngot, 0);
	feed(": \"stop\"}");
	expect(0, "V:{\"execute\":\"stop\"}");
	/* Several in one feed, whitespace between, arrays too; byte by byte the same. */
	feed(" \r\n\t{\"a\": [1, {\"b\": []}]}[2]{}");
	expect(1, "V:{\"a\":[1,{\"b\":[]}]}");
	expect(2, "V:[2]");
	expect(3, "V:{}");
	for (const char *p = "{\"x\": [true, false, null]}"; *p; p++)
		ck_assert_int_eq(json_stream_feed(&js, p, 1), 1);
	expect(4, "V:{\"x\":[true,false,null]}");
	ck_assert_uint_eq(ngot, 5);
}
END_TEST

START_TEST(test_strings_do_not_count)
{
	feed("{\"id\": \"}{[\\\"]\"}");
	expect(0, "V:{\"id\":\"}{[\\\"]\"}");
	/* An escaped backslash before the closing quote ends the string. */
	feed("{\"id\": \"\\\\\"}");
	expect(1, "V:{\"id\":\"\\\\\"}");
	ck_assert_uint_eq(ngot, 2);
}
END_TEST

START_TEST(test_top_level_scalars)
{
	/* A number or literal ends at its delimiter, which then counts on its own. */
	feed("42 true\"s\"-1.5{}");
	expect(0, "V:42");
	expect(1, "V:true");
	expect(2, "V:\"s\"");
	expect(3, "V:-1.5");
	expect(4, "V:{}");
	ck_assert_uint_eq(ngot, 5);
}
END_TEST

START_TEST(test_errors_and_recovery)
{
	feed("}");
	expect(0, "E:JSON parse error, expecting value");
	feed("@");
	expect(1, "E:JSON parse error, stray '@'");
	feed("\x01"); /* as it is: the reply escapes it, "\u0001" as QEMU's does */
	expect(2, "E:JSON parse error, stray '\x01'");
	feed("{\"a\": nope}");
	expect(3, "E:JSON parse error, invalid keyword 'nope'");
	feed("{\"a\" 1}"); /* balanced but not JSON: jansson's own words */
	ck_assert_uint_eq(ngot, 5);
	ck_assert(!strncmp(got[4], "E:JSON parse error, ", 20));
	feed("{\"ok\": 1}");
	expect(5, "V:{\"ok\":1}");
}
END_TEST

/*
 * QEMU 10.0.2's lexer, case by case: what each input gives (every event joined by " | "),
 * each as qemu-system-x86_64 10.0.2 answered it (its "QMP input must be a JSON object" being
 * a value here). A stray byte ends the value and skips to a bracket, brace, comma, colon or
 * control character, which is read anew.
 */
START_TEST(test_lexer_as_qemu)
{
	static const char *const cases[][2] = {
		{ "#abc}\n",
		  "E:JSON parse error, stray '#' | E:JSON parse error, expecting value" },
		{ "# \"a\" [1]\n", "E:JSON parse error, stray '#' | V:[1]" },
		{ "[0123, 4]\n", "E:JSON parse error, stray '01' | E:JSON parse error, expecting "
				 "value | V:4 | E:JSON parse error, expecting value" },
		{ "0e5\n", "V:0 | E:JSON parse error, invalid keyword 'e' | V:5" },
		{ "0E5\n", "V:0 | E:JSON parse error, stray 'E'" },
		{ "[1E5, -0.5e+3, 0.25]\n", "V:[100000.0,-500.0,0.25]" },
		{ "1.\n", "E:JSON parse error, stray '1.\n'" },
		{ "--1\n", "E:JSON parse error, stray '--'" },
		{ "[-]\n", "E:JSON parse error, stray '-]'" },
		{ "[1e+]\n", "E:JSON parse error, stray '1e+]'" },
		{ "True\n", "E:JSON parse error, stray 'T'" },
		{ "12abc\n", "V:12 | E:JSON parse error, invalid keyword 'abc'" },
		{ "x@\n",
		  "E:JSON parse error, invalid keyword 'x' | E:JSON parse error, stray '@'" },
		{ "[\"abc\x01"
		  "def\"]\n",
		  "E:JSON parse error, stray '\"abc\x01' | E:JSON parse error, "
		  "expecting value" },
		{ "['x\x1f']\n", "E:JSON parse error, stray ''x\x1f' | E:JSON parse error, "
				 "expecting value" },
		{ "[\"\xc3\xa9\xff\"]\n", "E:JSON parse error, stray '\"\xc3\xa9\xef\xbf\xbd' | "
					  "E:JSON parse error, expecting value" },
		{ "#\x01[1]\n",
		  "E:JSON parse error, stray '#' | E:JSON parse error, stray '\x01' | "
		  "V:[1]" },
		{ "[\"a\xc3(b\"]\n", "E:JSON parse error, invalid UTF-8 sequence in string" },
		{ "[\"a\xed\xa0\x80\"]\n", "E:JSON parse error, invalid UTF-8 sequence in string" },
		{ "[\"a\xc0\x80\"]\n", "V:[\"a\\u0000\"]" },
		{ "%d\n", "E:JSON parse error, stray '%'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char all[2048] = "";

		teardown(); /* each case on a fresh stream ("1.\n" leaves it skipping to a resync)
			     */
		setup();
		feed(cases[i][0]);
		for (unsigned k = 0; k < ngot; k++)
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%.250s",
				 k ? " | " : "", got[k]);
		ck_assert_msg(!strcmp(all, cases[i][1]), "%s: got %s", cases[i][0], all);
	}
}
END_TEST

START_TEST(test_depth_cap)
{
	char *buf = malloc(4 * JSON_STREAM_MAX_NESTING + 64);
	size_t n = 2 * JSON_STREAM_MAX_NESTING;

	memset(buf, '[', n);
	memset(buf + n, ']', n);
	strcpy(buf + 2 * n, "[\"]\"][1]");
	feed(buf);
	/* One error, the rest of the over-deep value skipped (a ']' in a string does not end
	 * it), the next ones served. */
	expect(0, "E:JSON nesting depth limit exceeded");
	expect(1, "V:[\"]\"]");
	expect(2, "V:[1]");
	ck_assert_uint_eq(ngot, 3);
	/* Exactly at the cap is fine. */
	memset(buf, '[', JSON_STREAM_MAX_NESTING);
	memset(buf + JSON_STREAM_MAX_NESTING, ']', JSON_STREAM_MAX_NESTING);
	buf[2 * JSON_STREAM_MAX_NESTING] = 0;
	feed(buf);
	ck_assert_uint_eq(ngot, 4);
	ck_assert(!strncmp(got[3], "V:[[[", 5));
	free(buf);
}
END_TEST

START_TEST(test_size_cap)
{
	size_t big = JSON_STREAM_MAX_VALUE + 100;
	char *buf = malloc(big + 64);

	strcpy(buf, "{\"id\": \"");
	memset(buf + 8, '{', big); /* braces inside a string: skipped, not counted */
	strcpy(buf + 8 + big, "\"}{\"next\": 1}");
	feed(buf);
	expect(0, "E:JSON token size limit exceeded");
	expect(1, "V:{\"next\":1}");
	ck_assert_uint_eq(ngot, 2);
	/* Memory stayed bounded by the cap. */
	ck_assert_uint_le(js.vcap, JSON_STREAM_MAX_VALUE);
	/* An oversized top-level number is skipped up to its delimiter. */
	memset(buf, '7', big);
	strcpy(buf + big, " [3]");
	feed(buf);
	expect(2, "E:JSON token size limit exceeded");
	expect(3, "V:[3]");
	ck_assert_uint_eq(ngot, 4);
	free(buf);
}
END_TEST

/*
 * A value whose byte at offset JSON_STREAM_MAX_VALUE (the first one over the cap) is @at_cap:
 * @head, then 'x' up to the cap, then @at_cap and @tail. The command after it must come out.
 */
static void feed_cap_case(const char *head, const char *at_cap, const char *tail)
{
	size_t hl = strlen(head), fill = JSON_STREAM_MAX_VALUE - hl;
	char *buf = malloc(JSON_STREAM_MAX_VALUE + 128);

	ck_assert_uint_lt(hl, JSON_STREAM_MAX_VALUE);
	memcpy(buf, head, hl);
	memset(buf + hl, 'x', fill);
	snprintf(buf + hl + fill, 128, "%s%s{\"execute\":\"next\"}", at_cap, tail);
	ngot = 0;
	feed(buf);
	expect(0, "E:JSON token size limit exceeded");
	expect(1, "V:{\"execute\":\"next\"}");
	ck_assert_uint_eq(ngot, 2);
	free(buf);
}

START_TEST(test_size_cap_on_structural_byte)
{
	/* The cap hit on a closing brace, bracket or string quote, or on an opening one: the
	 * byte still counts, so the skipped value ends where it really ends. */
	feed_cap_case("{\"a\":\"", "\"", "}");	 /* the string's closing quote */
	feed_cap_case("{\"a\":[\"", "\"]", "}"); /* a string's quote, then ] and } */
	feed_cap_case("[\"", "\"", "]");
	feed_cap_case("{\"a\":1", "}", "");		/* the closing brace */
	feed_cap_case("[[1,2", "]", "]");		/* a closing bracket */
	feed_cap_case("[\"a\",1", "[", "1]]");		/* an opening bracket */
	feed_cap_case("{\"a\":1", ",", "\"b\":\"}\"}"); /* brace in a string after the cap */
	feed_cap_case("[1", "\"", "}\"]"); /* an opening quote: the } is inside a string */
}
END_TEST

START_TEST(test_size_cap_on_top_level_string_end)
{
	/* A top-level string whose closing quote is the first byte over the cap. */
	feed_cap_case("\"", "\"", "");
	feed_cap_case("'", "'", ""); /* QEMU's single-quoted strings too */
}
END_TEST

START_TEST(test_stop)
{
	const char *s = "[1][2][3]";

	/* The consumer goes away after the first value: the feed ends at that byte. */
	stop_after = 1;
	ck_assert_int_eq(json_stream_feed(&js, s, strlen(s)), 3);
	ck_assert_uint_eq(ngot, 1);
	stop_after = 0;
	ck_assert_int_eq(json_stream_feed(&js, s + 3, strlen(s) - 3), 6);
	expect(1, "V:[2]");
	expect(2, "V:[3]");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json_stream");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_values_across_feeds);
	tcase_add_test(tc, test_strings_do_not_count);
	tcase_add_test(tc, test_top_level_scalars);
	tcase_add_test(tc, test_errors_and_recovery);
	tcase_add_test(tc, test_lexer_as_qemu);
	tcase_add_test(tc, test_depth_cap);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_size_cap_on_structural_byte);
	tcase_add_test(tc, test_size_cap_on_top_level_string_end);
	tcase_add_test(tc, test_stop);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
