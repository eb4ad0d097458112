/* qmp_types.h - the QAPI types minivmm's commands and events use, for query-qmp-schema. */
#ifndef MINIVMM_QMP_TYPES_H
#define MINIVMM_QMP_TYPES_H

#include <stdio.h>

enum qmp_type_kind { QMP_TYPE_BUILTIN, QMP_TYPE_OBJECT, QMP_TYPE_ENUM, QMP_TYPE_ARRAY };

struct qmp_type;

struct qmp_member {
	const char *name;
	const struct qmp_type *type;
	int optional;
};

/*
 * One type as QEMU's introspection describes it (qapi/introspect.json): a builtin with its JSON
 * type, an object with its members in schema order, an enum with its values, an array of an
 * element type. @name is the QAPI name, for the docs; query-qmp-schema hides it behind a
 * number, as QEMU does, except for builtins.
 */
struct qmp_type {
	const char *name;
	enum qmp_type_kind kind;
	const char *json_type; /* builtin: "int", "string", "boolean" */
	const struct qmp_member *members;
	unsigned nmembers;
	const char *const *values;
	unsigned nvalues;
	const struct qmp_type *element;
};

/* Write a "Types" section (Markdown) describing @t and every object and enum it reaches, each
 * once; call with @t NULL to start over. */
struct qmp_type_doc {
	const struct qmp_type *seen[64];
	unsigned nseen;
};
void qmp_type_doc(FILE *out, struct qmp_type_doc *d, const struct qmp_type *t);

extern const struct qmp_type qmp_type_int, qmp_type_str, qmp_type_bool, qmp_type_any;
extern const struct qmp_type qmp_type_empty; /* {} */
extern const struct qmp_type qmp_type_status_info, qmp_type_version_info;
extern const struct qmp_type qmp_type_command_info_list, qmp_type_kvm_info, qmp_type_name_info;
extern const struct qmp_type qmp_type_uuid_info, qmp_type_target_info, qmp_type_machine_info_list;
extern const struct qmp_type qmp_type_cpu_info_fast_list, qmp_type_chardev_info_list;
extern const struct qmp_type qmp_type_pci_info_list, qmp_type_schema_info_list;
/* Event data. */
extern const struct qmp_type qmp_type_shutdown_data, qmp_type_watchdog_data;
extern const struct qmp_type qmp_type_guest_panic_data, qmp_type_panic_report_data;
/* qapi/dump.json: DumpQueryResult (query-dump), DumpGuestMemoryCapability, DUMP_COMPLETED's
 * data; the enums' names, which dump-guest-memory's arguments and the events use too. */
extern const struct qmp_type qmp_type_dump_query_result, qmp_type_dump_capability;
extern const struct qmp_type qmp_type_dump_completed_data;
#define QMP_DUMP_FORMATS 8
extern const char *const qmp_dump_status_names[4];
extern const char *const qmp_dump_format_names[QMP_DUMP_FORMATS];

#endif
