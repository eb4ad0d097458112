/*
 * qmp_introspect.c - query-qmp-schema, generated from the command and event tables and the
 * types they name (qmp_types.c), in QEMU's SchemaInfo form (qapi/introspect.json): an entry per
 * command (arg-type, ret-type), per event (arg-type) and per type they reach. As QEMU does,
 * type names are hidden behind numbers ("0" the empty object) but for builtins and arrays of
 * them ("[str]"); numbers are given in order of first use.
 */
#include "qmp_query.h"

#include <stdio.h>
#include <string.h>

#define MAX_TYPES 128

struct introspect {
	json_t *types; /* the type entries, appended as they are first reached */
	unsigned next; /* the next number; 0 is the empty object */
	struct seen {
		const void *key; /* a qmp_type, an argument list or an enum's value table */
		int array;
		char name[48];
	} seen[MAX_TYPES];
	unsigned nseen;
};

static const char *seen_find(struct introspect *in, const void *key, int array)
{
	for (unsigned i = 0; i < in->nseen; i++)
		if (in->seen[i].key == key && in->seen[i].array == array)
			return in->seen[i].name;
	return NULL;
}

/* Record @key under a fresh number, or @name when given. */
static const char *seen_add(struct introspect *in, const void *key, int array, const char *name)
{
	struct seen *s;

	if (in->nseen == MAX_TYPES)
		return "0"; /* cannot happen with the tables as they are; keep the reply valid */
	s = &in->seen[in->nseen++];
	s->key = key;
	s->array = array;
	if (name)
		snprintf(s->name, sizeof(s->name), "%s", name);
	else
		snprintf(s->name, sizeof(s->name), "%u", in->next++);
	return s->name;
}

static const char *type_name(struct introspect *in, const struct qmp_type *t);

static const char *enum_name(struct introspect *in, const char *const *values, unsigned n)
{
	const char *name = seen_find(in, values, 0);
	json_t *members, *list;

	if (name)
		return name;
	name = seen_add(in, values, 0, NULL);
	members = json_array();
	list = json_array();
	for (unsigned i = 0; i < n; i++) {
		json_array_append_new(members, json_pack("{s:s}", "name", values[i]));
		json_array_append_new(list, json_string(values[i]));
	}
	json_array_append_new(in->types,
			      json_pack("{s:s, s:s, s:o, s:o}", "name", name, "meta-type", "enum",
					"members", members, "values", list));
	return name;
}

static const char *array_name(struct introspect *in, const void *key, const char *element)
{
	const char *name = seen_find(in, key, 1);
	char buf[40];

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "[%s]", element);
	name = seen_add(in, key, 1, buf);
	json_array_append_new(in->types, json_pack("{s:s, s:s, s:s}", "name", name, "meta-type",
						   "array", "element-type", element));
	return name;
}

static json_t *member_json(const char *name, const char *type, int optional)
{
	json_t *m = json_pack("{s:s, s:s}", "name", name, "type", type);

	if (optional)
		json_object_set_new(m, "default", json_null());
	return m;
}

static const char *builtin_name(struct introspect *in, const struct qmp_type *t)
{
	const char *name = seen_find(in, t, 0);

	if (name)
		return name;
	name = seen_add(in, t, 0, t->name);
	json_array_append_new(in->types, json_pack("{s:s, s:s, s:s}", "name", name, "json-type",
						   t->json_type, "meta-type", "builtin"));
	return name;
}

/* The empty object is "0" whatever declared it. */
static const char *empty_name(struct introspect *in)
{
	if (!seen_find(in, &qmp_type_empty, 0)) {
		seen_add(in, &qmp_type_empty, 0, "0");
		json_array_append_new(in->types, json_pack("{s:s, s:[], s:s}", "name", "0",
							   "members", "meta-type", "object"));
	}
	return "0";
}

static const char *type_name(struct introspect *in, const struct qmp_type *t)
{
	const char *name;
	json_t *members, *entry;

	if (!t || (t->kind == QMP_TYPE_OBJECT && !t->nmembers))
		return empty_name(in);
	switch (t->kind) {
	case QMP_TYPE_BUILTIN:
		return builtin_name(in, t);
	case QMP_TYPE_ENUM:
		return enum_name(in, t->values, t->nvalues);
	case QMP_TYPE_ARRAY: {
		const struct qmp_type *e = t->element;
		const char *elem = type_name(in, e);

		/* Keyed by the element, so that one array type serves every use. */
		return array_name(in, e->kind == QMP_TYPE_ENUM ? (const void *)e->values : e, elem);
	}
	case QMP_TYPE_OBJECT:
		break;
	}
	name = seen_find(in, t, 0);
	if (name)
		return name;
	name = seen_add(in, t, 0, NULL);
	entry = json_pack("{s:s, s:s}", "name", name, "meta-type", "object");
	members = json_array();
	/* Reserve the entry's place before its members' types, as QEMU lists a type before the
	 * types it uses only by chance; the order of entries carries no meaning. */
	json_array_append_new(in->types, entry);
	for (unsigned i = 0; i < t->nmembers; i++) {
		const struct qmp_member *m = &t->members[i];

		json_array_append_new(members,
				      member_json(m->name, type_name(in, m->type), m->optional));
	}
	json_object_set_new(entry, "members", members);
	return name;
}

/* A command's arguments as the object type QEMU makes of them. */
static const char *args_name(struct introspect *in, const struct qmp_command *c)
{
	const char *name;
	json_t *members, *entry;

	if (!c->nargs)
		return empty_name(in);
	name = seen_find(in, c->args, 0);
	if (name)
		return name;
	name = seen_add(in, c->args, 0, NULL);
	entry = json_pack("{s:s, s:s}", "name", name, "meta-type", "object");
	json_array_append_new(in->types, entry);
	members = json_array();
	for (unsigned i = 0; i < c->nargs; i++) {
		const struct qmp_arg *a = &c->args[i];
		const char *type = NULL;

		switch (a->type) {
		case QMP_ARG_ENUM:
			type = enum_name(in, a->values, a->nvalues);
			break;
		case QMP_ARG_ENUM_LIST:
			type = array_name(in, a->values, enum_name(in, a->values, a->nvalues));
			break;
		case QMP_ARG_STR:
			type = builtin_name(in, &qmp_type_str);
			break;
		case QMP_ARG_INT:
			type = builtin_name(in, &qmp_type_int);
			break;
		case QMP_ARG_BOOL:
			type = builtin_name(in, &qmp_type_bool);
			break;
		}
		json_array_append_new(members, member_json(a->name, type, a->optional));
	}
	json_object_set_new(entry, "members", members);
	return name;
}

json_t *qmp_schema_introspect(void)
{
	struct introspect in = { .types = json_array(), .next = 1 };
	json_t *list = json_array();

	for (unsigned i = 0; i < qmp_ncommands; i++) {
		const struct qmp_command *c = &qmp_commands[i];
		const char *arg = args_name(&in, c), *ret = type_name(&in, c->ret);

		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "name", c->name,
						      "meta-type", "command", "arg-type", arg,
						      "ret-type", ret));
	}
	for (unsigned i = 0; i < QMP_EVENT__MAX; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", qmp_events[i].name,
						      "meta-type", "event", "arg-type",
						      type_name(&in, qmp_events[i].data_type)));
	json_array_extend(list, in.types);
	json_decref(in.types);
	return list;
}

QMP_HANDLER(qmp_query_qmp_schema)
{
	(void)cmd;
	(void)be;
	(void)ver;
	(void)args;
	(void)err;
	return qmp_schema_introspect();
}
