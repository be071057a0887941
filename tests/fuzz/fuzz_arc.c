/*
 * Fuzz target for the pure parts of auth/arc/arc: the chain parser over a
 * parsed header section and the ARC-Authentication-Results instance
 * parser. A chain that passes the structure checks must hold every
 * instance 1..n with three fields of the right names, n at most 50,
 * cv=none exactly at i=1; a failure must carry a reason. The same bytes
 * then go through the verifier as a whole message, without keys: it
 * must agree with the parser on whether there is a chain at all, report
 * every set, and never pass (no key was looked up).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth/arc/arc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_verifier(const char *p, size_t size, enum arc_result parsed)
{
	struct arc_verify *v = arc_verify_new(&(struct arc_verify_options){
	    .now = 1700000000 });
	const struct arc_verdict *vd;

	arc_verify_message(v, p, size);
	vd = arc_verify_finish(v);
	if ((vd->result == ARC_RESULT_NONE) != (parsed == ARC_RESULT_NONE))
		abort();
	if (vd->result == ARC_RESULT_PASS || vd->nsets != vd->instances)
		abort();
	if (vd->result == ARC_RESULT_FAIL &&
	    (vd->reason == NULL || vd->reason[0] == '\0'))
		abort();
	arc_verify_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *rest = NULL;
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct arc_chain *c = arena_calloc(a, 1, sizeof(*c));
	enum arc_result r;
	unsigned k, inst;

	inst = arc_aar_instance(p, size, &rest);
	if (inst != 0 && (inst > 999 || rest == NULL || rest < p ||
	    rest > p + size))
		abort();
	hdr_parse(p, size, a, &hs);
	r = arc_chain_parse(&hs, a, c);
	if (c->n > ARC_MAX_INSTANCE)
		abort();
	if (r == ARC_RESULT_FAIL && (c->reason == NULL || c->reason[0] == 0))
		abort();
	if (r == ARC_RESULT_NONE && c->n != 0)
		abort();
	if (r == ARC_RESULT_PASS) {
		if (c->n == 0)
			abort();
		for (k = 1; k <= c->n; k++) {
			if (c->set[k].aar >= hs.n || c->set[k].ams >= hs.n ||
			    c->set[k].as >= hs.n)
				abort();
			if (!hdr_name_is(&hs.fields[c->set[k].as], "ARC-Seal") ||
			    !hdr_name_is(&hs.fields[c->set[k].ams],
			    "ARC-Message-Signature") ||
			    !hdr_name_is(&hs.fields[c->set[k].aar],
			    "ARC-Authentication-Results"))
				abort();
			if ((k == 1) != (c->set[k].as_sig.cv == ARC_CV_NONE))
				abort();
			if (c->set[k].ams_sig.nh == 0 ||
			    c->set[k].ams_sig.b_len == 0 ||
			    c->set[k].as_sig.b_end >
			    hs.fields[c->set[k].as].value_len)
				abort();
		}
	}
	check_verifier(p, size, r);
	arena_free(a);
	return 0;
}
