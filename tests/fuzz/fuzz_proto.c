/*
 * Fuzz target: the runtime's wire codec (runtime/proto.h), every message
 * type.
 *
 * The input is one ZeroMQ frame: a batch of records, decoded one after the
 * other as the node and the workers do. Every record that decodes must
 * encode back to exactly its own bytes (the format has one encoding per
 * message), and the re-encoded record must decode to the same fields.
 * Decoding stops at the first malformed record, which must leave the
 * position untouched.
 *
 * Seeds: tests/fuzz/corpus/fuzz_proto, one record of each type and one
 * batch, written by gen_proto_seeds (built from the codec).
 */
#include "proto.h"

#include "error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, unsigned type)
{
    fprintf(stderr, "fuzz_proto: %s (type %u %s)\n", what, type, lux_msg_name(type));
    abort();
}

/* The fields of two decoded messages are equal. */
static int same(const lux_msg_t *a, const lux_msg_t *b)
{
    if (a->type != b->type || a->req != b->req || memcmp(&a->id, &b->id, sizeof a->id) ||
        a->a != b->a || a->b != b->b || a->code != b->code || a->name_len != b->name_len ||
        a->text_len != b->text_len || a->nids != b->nids || a->nblobs != b->nblobs ||
        a->nres != b->nres || memcmp(&a->opts, &b->opts, sizeof a->opts))
        return 0;
    if (a->name_len && memcmp(a->name, b->name, a->name_len))
        return 0;
    if (a->text_len && memcmp(a->text, b->text, a->text_len))
        return 0;
    if (a->nids && memcmp(a->ids, b->ids, 16 * (size_t)a->nids))
        return 0;
    for (uint32_t i = 0; i < a->nblobs; i++) {
        const lux_blob_t *x = &a->blobs[i], *y = &b->blobs[i];
        if (x->kind != y->kind || x->code != y->code || memcmp(&x->id, &y->id, sizeof x->id) ||
            x->off != y->off || x->len != y->len)
            return 0;
        if ((x->kind == LUX_BLOB_VALUE || x->kind == LUX_BLOB_ERROR) && x->len &&
            memcmp(x->data, y->data, x->len))
            return 0;
    }
    for (uint32_t i = 0; i < a->nres; i++)
        if (a->res[i].bundle != b->res[i].bundle || strcmp(a->res[i].name, b->res[i].name) ||
            a->res[i].amount != b->res[i].amount)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        lux_msg_t m;
        size_t before = pos;
        int rc = lux_msg_decode(data, size, &pos, &m);
        if (rc != 0) {
            if (rc != LUX_EPROTO && rc != LUX_ENOMEM)
                fail("unexpected decode error", data[before + 3 < size ? before + 3 : before]);
            if (pos != before)
                fail("a failed decode moved the position", 0);
            if (m.blobs != NULL || m.res != NULL)
                fail("a failed decode left arrays behind", m.type);
            break;
        }
        if (pos <= before || pos > size)
            fail("decode moved the position wrongly", m.type);
        lux_wbuf_t w;
        lux_wbuf_init(&w);
        rc = lux_msg_encode(&w, &m);
        if (rc != 0)
            fail("a decoded message does not encode", m.type);
        if (w.len != pos - before || memcmp(w.data, data + before, w.len) != 0)
            fail("re-encoding gives other bytes", m.type);
        size_t p2 = 0;
        lux_msg_t m2;
        if (lux_msg_decode(w.data, w.len, &p2, &m2) != 0 || p2 != w.len)
            fail("the re-encoded record does not decode", m.type);
        if (!same(&m, &m2))
            fail("the re-encoded record decodes to other fields", m.type);
        lux_msg_fini(&m2);
        lux_msg_fini(&m);
        lux_wbuf_fini(&w);
    }
    return 0;
}
