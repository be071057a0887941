/*
 * privmsg — wire format between server and key holder. See privmsg.h.
 */
#include "priv/privmsg.h"

static void
privmsg_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
privmsg_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int
privmsg_header(unsigned char *out, uint32_t type, uint32_t arg, size_t len)
{
	if (len > PRIVMSG_PAYLOAD_MAX)
		return -1;
	privmsg_put32(out, type);
	privmsg_put32(out + 4, arg);
	privmsg_put32(out + 8, (uint32_t)len);
	return 0;
}

int
privmsg_parse_header(const unsigned char *buf, size_t n, struct privmsg *m)
{
	if (n < PRIVMSG_HEADER_LEN)
		return -1;
	m->type = privmsg_get32(buf);
	m->arg = privmsg_get32(buf + 4);
	m->len = privmsg_get32(buf + 8);
	m->payload = NULL;
	if (m->type < PRIVMSG_CONFIG || m->type > PRIVMSG_ERROR ||
	    m->len > PRIVMSG_PAYLOAD_MAX)
		return -1;
	return 0;
}

int
privmsg_parse_sign(const struct privmsg *m, enum privmsg_op *op,
    const unsigned char **in, size_t *inlen)
{
	if (m->type != PRIVMSG_SIGN || m->len < 2 ||
	    m->len - 1 > PRIVMSG_SIGN_MAX || m->payload == NULL)
		return -1;
	switch (m->payload[0]) {
	case PRIVMSG_OP_RSA_PKCS1:
	case PRIVMSG_OP_RSA_RAW:
	case PRIVMSG_OP_ECDSA:
		*op = (enum privmsg_op)m->payload[0];
		break;
	default:
		return -1;
	}
	*in = m->payload + 1;
	*inlen = m->len - 1;
	return 0;
}

const char *
privmsg_type_name(uint32_t type)
{
	static const char *const names[] = {
		"unknown", "config", "config-text", "tls", "tls-ident",
		"sign", "signature", "forget", "done", "error",
	};

	return type < sizeof(names) / sizeof(*names) ? names[type] :
	    names[0];
}
