/*
 * dkim_key — DKIM key record parsing and key decoding. See dkim_key.h.
 */
#include "auth/dkim_key.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "auth/dkim_tags.h"
#include "core/base64.h"
#include "core/buf.h"

static void
key_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
key_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static bool
is_fws_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Call fn for every item of a colon-separated list, items trimmed. */
static void
key_list_each(const struct dkim_tag *t,
    void (*fn)(const char *item, size_t len, void *arg), void *arg)
{
	const char *s = t->value, *end = t->value + t->value_len, *c;
	const char *a, *b;

	for (;;) {
		c = memchr(s, ':', (size_t)(end - s));
		if (c == NULL)
			c = end;
		a = s;
		b = c;
		while (a < b && is_fws_byte(*a))
			a++;
		while (b > a && is_fws_byte(b[-1]))
			b--;
		fn(a, (size_t)(b - a), arg);
		if (c == end)
			break;
		s = c + 1;
	}
}

static bool
item_is(const char *item, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(item, s, len) == 0;
}

static void
key_hash_item(const char *item, size_t len, void *arg)
{
	struct dkim_key_record *k = arg;

	if (item_is(item, len, "sha1"))
		k->allow_sha1 = true;
	else if (item_is(item, len, "sha256"))
		k->allow_sha256 = true;
	/* unknown hash algorithms are ignored (3.6.1) */
}

static void
key_flag_item(const char *item, size_t len, void *arg)
{
	struct dkim_key_record *k = arg;

	if (item_is(item, len, "y"))
		k->testing = true;
	else if (item_is(item, len, "s"))
		k->strict = true;
	/* unknown flags are ignored (3.6.1) */
}

static void
key_service_item(const char *item, size_t len, void *arg)
{
	bool *email = arg;

	if (item_is(item, len, "*") || item_is(item, len, "email"))
		*email = true;
}

int
dkim_key_parse(const char *txt, size_t n, struct dkim_key_record *k,
    char *why, size_t whylen)
{
	struct dkim_tags tags;
	const struct dkim_tag *t;
	char reason[160];
	bool email;
	size_t i;

	memset(k, 0, sizeof(*k));
	if (dkim_tags_parse(txt, n, &tags, reason, sizeof(reason)) != 0) {
		key_why(why, whylen, "key record syntax: %s", reason);
		return -1;
	}
	if ((t = dkim_tags_get(&tags, "v")) != NULL) {
		if (t != &tags.tag[0]) {
			key_why(why, whylen, "key record v= is not the "
			    "first tag");
			return -1;
		}
		if (!dkim_tag_value_is(t, "DKIM1")) {
			key_why(why, whylen, "key record version is not "
			    "DKIM1");
			return -1;
		}
	}
	k->type = DKIM_KEY_RSA;
	if ((t = dkim_tags_get(&tags, "k")) != NULL) {
		if (dkim_tag_value_is(t, "rsa"))
			k->type = DKIM_KEY_RSA;
		else if (dkim_tag_value_is(t, "ed25519"))
			k->type = DKIM_KEY_ED25519;
		else {
			key_why(why, whylen, "unknown key type k=%.*s",
			    (int)(t->value_len > 40 ? 40 : t->value_len),
			    t->value);
			return -1;
		}
	}
	if ((t = dkim_tags_get(&tags, "h")) != NULL)
		key_list_each(t, key_hash_item, k);
	else
		k->allow_sha1 = k->allow_sha256 = true;
	if ((t = dkim_tags_get(&tags, "s")) != NULL) {
		email = false;
		key_list_each(t, key_service_item, &email);
		if (!email) {
			key_why(why, whylen, "key is not for email (s=)");
			return -1;
		}
	}
	if ((t = dkim_tags_get(&tags, "t")) != NULL)
		key_list_each(t, key_flag_item, k);
	if ((t = dkim_tags_get(&tags, "p")) == NULL) {
		key_why(why, whylen, "key record has no p= tag");
		return -1;
	}
	k->p = t->value;
	k->p_len = t->value_len;
	k->revoked = true;
	for (i = 0; i < t->value_len; i++)
		if (!is_fws_byte(t->value[i]))
			k->revoked = false;
	return 0;
}

EVP_PKEY *
dkim_key_public(const struct dkim_key_record *k, int *bits, char *why,
    size_t whylen)
{
	struct buf der = BUF_INIT;
	const unsigned char *q;
	EVP_PKEY *pk = NULL;

	*bits = 0;
	if (k->revoked) {
		key_why(why, whylen, "key revoked (empty p=)");
		return NULL;
	}
	if (base64_decode(k->p, k->p_len, BASE64_IGNORE_WS, &der) != 0 ||
	    der.len == 0) {
		key_why(why, whylen, "key p= is not valid base64");
		buf_free(&der);
		return NULL;
	}
	switch (k->type) {
	case DKIM_KEY_RSA:
		q = (const unsigned char *)der.data;
		pk = d2i_PUBKEY(NULL, &q, (long)der.len);
		if (pk != NULL && (q != (const unsigned char *)der.data +
		    der.len || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		if (pk == NULL) {
			q = (const unsigned char *)der.data;
			pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q,
			    (long)der.len);
			if (pk != NULL && q != (const unsigned char *)der.data +
			    der.len) {
				EVP_PKEY_free(pk);
				pk = NULL;
			}
		}
		if (pk == NULL) {
			key_why(why, whylen, "key p= is not an RSA public key");
			break;
		}
		*bits = EVP_PKEY_get_bits(pk);
		break;
	case DKIM_KEY_ED25519:
		if (der.len != 32) {
			key_why(why, whylen, "Ed25519 key p= is %zu bytes, "
			    "not 32", der.len);
			break;
		}
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    (const unsigned char *)der.data, der.len);
		if (pk == NULL)
			key_why(why, whylen, "Ed25519 key p= is unusable");
		else
			*bits = 256;
		break;
	}
	buf_free(&der);
	return pk;
}

const char *
dkim_key_type_name(enum dkim_key_type t)
{
	return t == DKIM_KEY_ED25519 ? "ed25519" : "rsa";
}
