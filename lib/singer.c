#include <string.h>
#include <strings.h>

#include "singer.h"

static int named(const char *ty, size_t tn, const char *name)
{
	return tn == strlen(name) && !strncasecmp(ty, name, tn);
}

static int classify(const struct json_doc *d, struct singer_msg *m, const char *ty, size_t tn,
		    struct aperr *e);

int singer_read(const struct json_doc *d, struct singer_msg *m, struct aperr *e)
{
	struct strbuf buf = STRBUF_INIT;
	const char *tp = "";
	size_t tn = 0;
	uint32_t ty;
	int r;

	memset(m, 0, sizeof(*m));
	if (json_type(d, 0) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "a Singer message is a JSON object, not %s",
				 json_type_name(json_type(d, 0)));
	ty = json_get(d, 0, "type", 4);
	if (!ty || json_type(d, ty) != JSON_STRING || json_str_view(d, ty, &buf, &tp, &tn) < 0) {
		strbuf_release(&buf);
		return aperr_set(e, EX_DATAERR, "a Singer message needs a \"type\" string");
	}
	r = classify(d, m, tp, tn, e);
	strbuf_release(&buf);
	return r;
}

static int classify(const struct json_doc *d, struct singer_msg *m, const char *ty, size_t tn,
		    struct aperr *e)
{
	m->stream = json_get(d, 0, "stream", 6);
	if (m->stream && json_type(d, m->stream) != JSON_STRING)
		return aperr_set(e, EX_DATAERR, "\"stream\" is not a string");
	if (named(ty, tn, "RECORD")) {
		m->type = SINGER_RECORD;
		m->record = json_get(d, 0, "record", 6);
		if (!m->stream || !m->record || json_type(d, m->record) != JSON_OBJECT)
			return aperr_set(e, EX_DATAERR, "a RECORD needs a \"stream\" string and a "
					 "\"record\" object");
	} else if (named(ty, tn, "SCHEMA")) {
		uint32_t k = json_get(d, 0, "key_properties", 14);

		m->type = SINGER_SCHEMA;
		m->schema = json_get(d, 0, "schema", 6);
		if (!m->stream || !m->schema || json_type(d, m->schema) != JSON_OBJECT || !k ||
		    json_type(d, k) != JSON_ARRAY)
			return aperr_set(e, EX_DATAERR, "a SCHEMA needs \"stream\", a \"schema\" object "
					 "and a \"key_properties\" array");
	} else if (named(ty, tn, "STATE")) {
		m->type = SINGER_STATE;
		m->value = json_get(d, 0, "value", 5);
		if (!m->value)
			return aperr_set(e, EX_DATAERR, "a STATE needs a \"value\"");
	} else if (named(ty, tn, "ACTIVATE_VERSION")) {
		m->type = SINGER_ACTIVATE;
	}
	return 0;
}

int singer_record(struct strbuf *out, const char *stream, size_t sn, const char *rec, size_t n)
{
	strbuf_addstr(out, "{\"type\":\"RECORD\",\"stream\":");
	strbuf_add(out, stream, sn);
	strbuf_addstr(out, ",\"record\":");
	strbuf_add(out, rec, n);
	return strbuf_addch(out, '}');
}

int singer_schema(struct strbuf *out, const char *stream, size_t sn, const char *schema,
		  size_t schn, const char *keys, size_t kn)
{
	strbuf_addstr(out, "{\"type\":\"SCHEMA\",\"stream\":");
	strbuf_add(out, stream, sn);
	strbuf_addstr(out, ",\"schema\":");
	strbuf_add(out, schema, schn);
	strbuf_addstr(out, ",\"key_properties\":");
	strbuf_add(out, keys, kn);
	return strbuf_addch(out, '}');
}

int singer_state(struct strbuf *out, const char *v, size_t n)
{
	strbuf_addstr(out, "{\"type\":\"STATE\",\"value\":");
	strbuf_add(out, v, n);
	return strbuf_addch(out, '}');
}
