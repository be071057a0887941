/*
 * dkim_key — DKIM key record parsing and key decoding. See dkim_key.h.
 */
#include "core/reason.h"
#include "auth/common/dkim_key.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "auth/common/dkim_tags.h"
#include "core/base64.h"
#include "core/buf.h"

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
		reason_set(why, whylen, "key record syntax: %s", reason);
		return -1;
	}
	if ((t = dkim_tags_get(&tags, "v")) != NULL) {
		if (t != &tags.tag[0]) {
			reason_set(why, whylen, "key record v= is not the "
			    "first tag");
			return -1;
		}
		if (!dkim_tag_value_is(t, "DKIM1")) {
			reason_set(why, whylen, "key record version is not "
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
			reason_set(why, whylen, "unknown key type k=%.*s",
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
			reason_set(why, whylen, "key is not for email (s=)");
			return -1;
		}
	}
	if ((t = dkim_tags_get(&tags, "t")) != NULL)
		key_list_each(t, key_flag_item, k);
	if ((t = dkim_tags_get(&tags, "p")) == NULL) {
		reason_set(why, whylen, "key record has no p= tag");
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

/*
 * One DER element of the given tag at p[0..n): its content and what
 * follows it. Definite lengths up to 3 octets; false on anything else.
 */
static bool
der_take(const unsigned char *p, size_t n, unsigned char tag,
    const unsigned char **c, size_t *clen, const unsigned char **rest)
{
	size_t len, i, k;

	if (n < 2 || p[0] != tag)
		return false;
	if (p[1] < 0x80) {
		len = p[1];
		i = 2;
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k)
			return false;
		for (len = 0, i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		i = 2 + k;
	}
	if (len > n - i)
		return false;
	*c = p + i;
	*clen = len;
	*rest = p + i + len;
	return true;
}

/*
 * The RSAPublicKey (PKCS#1) inside an RSA SubjectPublicKeyInfo, or NULL
 * when der is not exactly one such SPKI. With OpenSSL 3.0, d2i_PUBKEY()
 * sets up a whole OSSL_DECODER chain per call, which cost more than the
 * RSA verify itself (bench/dkim, callgrind: 43% of a verification);
 * d2i_PublicKey() on the inner key does not.
 */
static const unsigned char *
spki_rsa_inner(const unsigned char *der, size_t n, size_t *inner_len)
{
	static const unsigned char rsa_oid[] = { 0x06, 0x09, 0x2a, 0x86,
	    0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
	const unsigned char *spki, *alg, *bits, *end;
	size_t spki_len, alg_len, bits_len;

	if (!der_take(der, n, 0x30, &spki, &spki_len, &end) ||
	    end != der + n ||
	    !der_take(spki, spki_len, 0x30, &alg, &alg_len, &bits) ||
	    !der_take(bits, spki_len - (size_t)(bits - spki), 0x03, &bits,
	    &bits_len, &end) || end != spki + spki_len)
		return NULL;
	/* AlgorithmIdentifier: rsaEncryption, parameters NULL or absent */
	if (alg_len < sizeof(rsa_oid) ||
	    memcmp(alg, rsa_oid, sizeof(rsa_oid)) != 0 ||
	    !(alg_len == sizeof(rsa_oid) || (alg_len == sizeof(rsa_oid) + 2 &&
	    alg[sizeof(rsa_oid)] == 0x05 && alg[sizeof(rsa_oid) + 1] == 0)))
		return NULL;
	if (bits_len < 2 || bits[0] != 0)	/* no unused bits */
		return NULL;
	*inner_len = bits_len - 1;
	return bits + 1;
}

EVP_PKEY *
dkim_key_public(const struct dkim_key_record *k, int *bits, char *why,
    size_t whylen)
{
	struct buf der = BUF_INIT;
	const unsigned char *q, *inner;
	size_t inner_len;
	EVP_PKEY *pk = NULL;

	*bits = 0;
	if (k->revoked) {
		reason_set(why, whylen, "key revoked (empty p=)");
		return NULL;
	}
	if (base64_decode(k->p, k->p_len, BASE64_IGNORE_WS, &der) != 0 ||
	    der.len == 0) {
		reason_set(why, whylen, "key p= is not valid base64");
		buf_free(&der);
		return NULL;
	}
	switch (k->type) {
	case DKIM_KEY_RSA:
		q = spki_rsa_inner((const unsigned char *)der.data, der.len,
		    &inner_len);
		if (q != NULL) {
			inner = q;
			pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q,
			    (long)inner_len);
			if (pk != NULL && q != inner + inner_len) {
				EVP_PKEY_free(pk);
				pk = NULL;
			}
			if (pk != NULL) {
				*bits = EVP_PKEY_get_bits(pk);
				break;
			}
		}
		/* not the common form: let OpenSSL's decoders judge it */
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
			reason_set(why, whylen, "key p= is not an RSA public key");
			break;
		}
		*bits = EVP_PKEY_get_bits(pk);
		break;
	case DKIM_KEY_ED25519:
		if (der.len != 32) {
			reason_set(why, whylen, "Ed25519 key p= is %zu bytes, "
			    "not 32", der.len);
			break;
		}
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    (const unsigned char *)der.data, der.len);
		if (pk == NULL)
			reason_set(why, whylen, "Ed25519 key p= is unusable");
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
