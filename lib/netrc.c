/*
 * netrc: --netrc and --netrc-file, credentials per machine as curl and ftp
 * read them (the httpcli options module loads them; requests take theirs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base64.h"
#include "httpcli.h"
#include "secret.h"

/* The next whitespace-separated word of a .netrc (quotes as curl reads them). */
static int netrc_word(const char **p, struct strbuf *w)
{
	const char *s = *p;

	strbuf_reset(w);
	s += strspn(s, " \t\r\n");
	if (!*s)
		return 0;
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			strbuf_addch(w, *s);
		}
		if (*s)
			s++;
	} else {
		size_t n = strcspn(s, " \t\r\n");

		strbuf_add(w, s, n);
		s += n;
	}
	*p = s;
	return 1;
}

/*
 * --netrc: credentials per machine, as curl and ftp read them.  The file
 * holds passwords, so it must be private (like a token store); each entry
 * becomes a Basic Authorization header for its host only.
 */
int http_cli_netrc_load(struct http_cli *h, struct aperr *e)
{
	struct strbuf text = STRBUF_INIT, w = STRBUF_INIT, hdr = STRBUF_INIT, cred = STRBUF_INIT;
	char *machine = NULL, *login = NULL, *pass = NULL;
	const char *p;
	struct stat st;
	FILE *f = fopen(h->netrc, "r");
	char buf[4096];
	size_t got;
	int rc = 0, more = 1;

	if (!f)
		return aperr_errno(e, EX_NOINPUT, "--netrc %s", h->netrc);
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
		fclose(f);
		return aperr_set(e, EX_CONFIG, "%s holds passwords and others may read it: chmod 600 "
				 "%s", h->netrc, h->netrc);
	}
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&text, buf, got);
	fclose(f);
	p = text.buf;
	while (more) {
		more = netrc_word(&p, &w);
		if (!more || !strcmp(w.buf, "machine") || !strcmp(w.buf, "default")) {
			if (machine && login && pass) {
				struct netrc_entry *n = realloc(h->netrc_entries,
								(h->nnetrc + 1) * sizeof(*n));

				if (!n) {
					rc = aperr_set(e, EX_OSERR, "out of memory");
					break;
				}
				h->netrc_entries = n;
				strbuf_reset(&cred);
				strbuf_addf(&cred, "%s:%s", login, pass);
				strbuf_reset(&hdr);
				strbuf_addstr(&hdr, "Authorization: Basic ");
				base64_encode(&hdr, cred.buf, cred.len);
				secrets_add(&h->secrets, pass);
				secrets_add(&h->secrets, hdr.buf + 21);
				n[h->nnetrc].machine = machine;
				n[h->nnetrc].header = strbuf_detach(&hdr, NULL);
				h->nnetrc++;
				machine = NULL;
			}
			free(machine);
			free(login);
			if (pass)
				explicit_bzero(pass, strlen(pass));
			free(pass);
			machine = login = pass = NULL;
			if (!more)
				break;
			if (!strcmp(w.buf, "default"))
				machine = strdup("");
			else if (netrc_word(&p, &w))
				machine = strdup(w.buf);
		} else if (!strcmp(w.buf, "login") && netrc_word(&p, &w)) {
			free(login);
			login = strdup(w.buf);
		} else if (!strcmp(w.buf, "password") && netrc_word(&p, &w)) {
			free(pass);
			pass = strdup(w.buf);
		} else if (!strcmp(w.buf, "macdef")) {
			const char *end = strstr(p, "\n\n");	/* a macro runs to a blank line */

			p = end ? end + 2 : p + strlen(p);
		}
	}
	explicit_bzero(text.buf, text.len);
	explicit_bzero(cred.buf, cred.len);
	strbuf_release(&text);
	strbuf_release(&w);
	strbuf_release(&hdr);
	strbuf_release(&cred);
	return rc;
}

/* The netrc entry for url's host (else "default"), or NULL. */
const struct netrc_entry *http_cli_netrc_for(const struct http_cli *h, const char *url)
{
	struct strbuf host = STRBUF_INIT;
	const struct netrc_entry *dflt = NULL, *hit = NULL;
	const char *s = strstr(url, "://");
	size_t i, n;

	if (!s)
		return NULL;
	s += 3;
	n = strcspn(s, "/?#");
	strbuf_add(&host, s, n);
	if (host.buf && strchr(host.buf, '@'))
		return NULL;		/* credentials in the URL: not apipe's */
	if (host.buf && host.buf[0] != '[' && strchr(host.buf, ':'))
		strbuf_setlen(&host, (size_t)(strchr(host.buf, ':') - host.buf));
	for (i = 0; i < h->nnetrc && !hit; i++) {
		if (!h->netrc_entries[i].machine[0])
			dflt = &h->netrc_entries[i];
		else if (host.buf && !strcasecmp(h->netrc_entries[i].machine, host.buf))
			hit = &h->netrc_entries[i];
	}
	strbuf_release(&host);
	return hit ? hit : dflt;
}
