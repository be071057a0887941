/*
 * spf_macro — SPF macro strings, RFC 7208 section 7. See spf_macro.h.
 *
 * One scanner serves both the check and the expansion, so the two can
 * never disagree about what is valid: spf_macro_walk() reads the string
 * element by element and, when given an output buffer, writes the
 * expansion as it goes.
 *
 *	macro-string  = *( macro-expand / macro-literal )
 *	macro-expand  = ( "%{" macro-letter transformers *delimiter "}" )
 *	                / "%%" / "%_" / "%-"
 *	macro-literal = %x21-24 / %x26-7E
 *	transformers  = *DIGIT [ "r" ]
 *	delimiter     = "." / "-" / "+" / "," / "/" / "_" / "="
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf/spf_macro.h"
#include "core/buf.h"

static bool
is_delimiter(char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' ||
	    c == '_' || c == '=';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* RFC 3986 unreserved characters stay; everything else is %XX. */
static void
url_escape(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_append_char(out, (char)c);
		} else {
			buf_append_char(out, '%');
			buf_append_char(out, hex[c >> 4]);
			buf_append_char(out, hex[c & 15]);
		}
	}
}

bool
spf_domain_within(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain), i;

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == 0 || nl < dl)
		return false;
	for (i = 0; i < dl; i++)
		if (lower(name[nl - dl + i]) != lower(domain[i]))
			return false;
	return nl == dl || name[nl - dl - 1] == '.';
}

static bool
same_domain(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b), i;

	if (al > 0 && a[al - 1] == '.')
		al--;
	if (bl > 0 && b[bl - 1] == '.')
		bl--;
	if (al != bl)
		return false;
	for (i = 0; i < al; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

const char *
spf_macro_pick_ptr(const struct spf_macro_vars *v)
{
	size_t i;

	if (v->nvalidated == 0 || v->domain == NULL)
		return v->nvalidated ? v->validated[0] : "unknown";
	for (i = 0; i < v->nvalidated; i++)
		if (same_domain(v->validated[i], v->domain))
			return v->validated[i];
	for (i = 0; i < v->nvalidated; i++)
		if (spf_domain_within(v->validated[i], v->domain))
			return v->validated[i];
	return v->validated[0];
}

/* The raw value of one macro letter (RFC 7208 7.2), into val. */
static void
letter_value(char letter, const struct spf_macro_vars *v, struct buf *val)
{
	char ipbuf[IP_STRLEN];
	const char *s = NULL;
	size_t i;

	switch (letter) {
	case 's': s = v->sender; break;
	case 'l': s = v->local; break;
	case 'o': s = v->sender_domain; break;
	case 'd': s = v->domain; break;
	case 'h': s = v->helo; break;
	case 'r': s = v->receiver ? v->receiver : "unknown"; break;
	case 'p': s = spf_macro_pick_ptr(v); break;
	case 'v': s = v->ip.family == AF_INET6 ? "ip6" : "in-addr"; break;
	case 't': buf_printf(val, "%lld", v->now); return;
	case 'c':
		s = v->ip_text != NULL ? v->ip_text :
		    ip_format(&v->ip, ipbuf, sizeof(ipbuf));
		break;
	case 'i':
		if (v->ip.family == AF_INET6) {
			static const char hex[] = "0123456789abcdef";

			for (i = 0; i < 16; i++) {
				if (i > 0)
					buf_append_char(val, '.');
				buf_append_char(val, hex[v->ip.a[i] >> 4]);
				buf_append_char(val, '.');
				buf_append_char(val, hex[v->ip.a[i] & 15]);
			}
			return;
		}
		s = v->ip_text != NULL ? v->ip_text :
		    ip_format(&v->ip, ipbuf, sizeof(ipbuf));
		break;
	default:
		break;
	}
	if (s != NULL)
		buf_append_str(val, s);
}

struct part {
	const char	*p;
	size_t		 n;
};

/*
 * Apply the transformers (RFC 7208 7.3): split val on the delimiters,
 * reverse when asked, keep the rightmost `keep` parts (0: all), join
 * with dots.
 */
static void
transform(const struct buf *val, const char *delims, size_t ndelims,
    unsigned long keep, bool reverse, struct buf *out, bool escape)
{
	struct part parts_small[64], *parts = parts_small;
	struct buf joined = BUF_INIT;
	const char *s = buf_cstr(val);
	size_t n = val->len, nparts = 0, i, start = 0, first;

	/* Split on dots, keep all, join with dots: the value itself. */
	if (keep == 0 && !reverse && (ndelims == 0 ||
	    (ndelims == 1 && delims[0] == '.'))) {
		if (escape)
			url_escape(out, s, n);
		else
			buf_append(out, s, n);
		return;
	}

	/* At most n + 1 parts: one more than the delimiters. */
	if (n + 1 > sizeof(parts_small) / sizeof(parts_small[0])) {
		parts = calloc(n + 1, sizeof(*parts));
		if (parts == NULL)
			abort();
	}
	for (i = 0; i <= n; i++) {
		bool split = false;

		if (i < n) {
			if (ndelims == 0)
				split = s[i] == '.';
			else
				split = memchr(delims, s[i], ndelims) != NULL;
		}
		if (i == n || split) {
			parts[nparts].p = s + start;
			parts[nparts].n = i - start;
			nparts++;
			start = i + 1;
		}
	}
	if (reverse) {
		for (i = 0; i < nparts / 2; i++) {
			struct part t = parts[i];

			parts[i] = parts[nparts - 1 - i];
			parts[nparts - 1 - i] = t;
		}
	}
	first = (keep == 0 || keep >= nparts) ? 0 : nparts - keep;
	for (i = first; i < nparts; i++) {
		if (i > first)
			buf_append_char(&joined, '.');
		buf_append(&joined, parts[i].p, parts[i].n);
	}
	if (escape)
		url_escape(out, buf_cstr(&joined), joined.len);
	else
		buf_append(out, buf_cstr(&joined), joined.len);
	buf_free(&joined);
	if (parts != parts_small)
		free(parts);
}

/*
 * Walk s[0..n) per kind. With vars and out non-NULL, expand into out.
 * Returns 0 or -1 with *reason.
 */
static int
spf_macro_walk(const char *s, size_t n, enum spf_macro_kind kind,
    const struct spf_macro_vars *vars, struct buf *out, bool *ends_in_macro,
    const char **reason)
{
	size_t i = 0;
	bool last_macro = false;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c != '%') {
			size_t run = i;

			/* a run of literal bytes, appended at once */
			for (; i < n && (c = (unsigned char)s[i]) != '%';
			    i++) {
				if (c == ' ' && kind == SPF_MACRO_EXPLAIN) {
					/* explain-string allows SP between
					 * parts */
				} else if (c < 0x21 || c > 0x7e) {
					*reason = c >= 0x80 ?
					    "non-ASCII byte" : c == ' ' ?
					    "space in a macro-string" :
					    "control character";
					return -1;
				}
			}
			if (out != NULL)
				buf_append(out, s + run, i - run);
			last_macro = false;
			continue;
		}
		if (i + 1 >= n) {
			*reason = "'%' at the end of a macro-string";
			return -1;
		}
		switch (s[i + 1]) {
		case '%':
			if (out != NULL)
				buf_append_char(out, '%');
			i += 2;
			last_macro = true;
			continue;
		case '_':
			if (out != NULL)
				buf_append_char(out, ' ');
			i += 2;
			last_macro = true;
			continue;
		case '-':
			if (out != NULL)
				buf_append_str(out, "%20");
			i += 2;
			last_macro = true;
			continue;
		case '{':
			break;
		default:
			*reason = "'%' not followed by '{', '%', '_' or '-'";
			return -1;
		}
		/* "%{" letter *DIGIT [ "r" ] *delimiter "}" */
		{
			size_t j = i + 2, dstart, dend;
			char letter, lc;
			unsigned long keep = 0;
			bool reverse = false, digits = false;

			if (j >= n) {
				*reason = "unterminated macro";
				return -1;
			}
			letter = s[j++];
			lc = lower(letter);
			if (strchr("slodiphcrtv", lc) == NULL || lc == '\0') {
				*reason = "unknown macro letter";
				return -1;
			}
			if (kind == SPF_MACRO_DOMAIN &&
			    (lc == 'c' || lc == 'r' || lc == 't')) {
				*reason = "macro letters c, r and t are only "
				    "allowed in explanations";
				return -1;
			}
			while (j < n && s[j] >= '0' && s[j] <= '9') {
				digits = true;
				if (keep < 100000)
					keep = keep * 10 +
					    (unsigned long)(s[j] - '0');
				j++;
			}
			if (digits && keep == 0) {
				*reason = "macro transformer of zero parts";
				return -1;
			}
			if (j < n && (s[j] == 'r' || s[j] == 'R')) {
				reverse = true;
				j++;
			}
			dstart = j;
			while (j < n && is_delimiter(s[j]))
				j++;
			dend = j;
			if (j >= n || s[j] != '}') {
				*reason = "malformed macro";
				return -1;
			}
			j++;
			if (out != NULL && vars != NULL) {
				struct buf val = BUF_INIT;

				letter_value(lc, vars, &val);
				transform(&val, s + dstart, dend - dstart, keep,
				    reverse, out, is_upper(letter));
				buf_free(&val);
			}
			i = j;
			last_macro = true;
		}
	}
	if (ends_in_macro != NULL)
		*ends_in_macro = last_macro;
	return 0;
}

int
spf_macro_check(const char *s, size_t n, enum spf_macro_kind kind,
    bool *ends_in_macro, const char **reason)
{
	const char *why = NULL;

	if (spf_macro_walk(s, n, kind, NULL, NULL, ends_in_macro, &why) != 0) {
		if (reason != NULL)
			*reason = why;
		return -1;
	}
	return 0;
}

bool
spf_macro_uses_p(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++) {
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '{' && lower(s[i + 2]) == 'p')
			return true;
		i++;	/* skip the escaped character of %%, %_, %- */
	}
	return false;
}

/*
 * Drop a final dot from p[0..*len); then whole labels from the left until
 * it fits. Returns how many bytes to cut from the left; *len is the
 * length before the cut.
 */
static size_t
truncate_domain(const char *p, size_t *len)
{
	size_t cut = 0, n = *len;

	if (n > 0 && p[n - 1] == '.')
		n--;
	while (n - cut > SPF_DOMAIN_MAX) {
		const char *dot = memchr(p + cut, '.', n - cut);

		if (dot == NULL) {
			cut = n;	/* one label longer than a name */
			break;
		}
		cut = (size_t)(dot - p) + 1;
	}
	*len = n;
	return cut;
}

int
spf_macro_expand(struct arena *a, const char *s, size_t n,
    enum spf_macro_kind kind, const struct spf_macro_vars *vars, char **out,
    const char **reason)
{
	struct buf b = BUF_INIT;
	const char *why = NULL, *text = s;
	size_t len = n, cut = 0;

	/* No '%': the expansion is the text itself (after the check). */
	if (memchr(s, '%', n) == NULL) {
		if (spf_macro_walk(s, n, kind, NULL, NULL, NULL, &why) != 0) {
			if (reason != NULL)
				*reason = why;
			return -1;
		}
	} else {
		if (spf_macro_walk(s, n, kind, vars, &b, NULL, &why) != 0) {
			buf_free(&b);
			if (reason != NULL)
				*reason = why;
			return -1;
		}
		text = buf_cstr(&b);
		len = b.len;
	}
	if (kind == SPF_MACRO_DOMAIN)
		cut = truncate_domain(text, &len);
	*out = arena_strndup(a, text + cut, len - cut);
	buf_free(&b);
	return 0;
}
