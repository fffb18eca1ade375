/*
 * Unit tests of the runtime's building blocks: the message codec (round
 * trips, truncation, corruption, limits), the id map, the shared-memory
 * arena allocator and resource accounting.
 */
#include "proto.h"
#include "nodectl.h"
#include "objstore.h"
#include "test.h"

#include "alloc.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

static lux_msg_t sample(lux_blob_t *blobs, lux_res_item_t *res, lux_id_t *ids)
{
    static const char payload[] = "hello world";
    memset(blobs, 0, 4 * sizeof *blobs);
    blobs[0].kind = LUX_BLOB_VALUE;
    blobs[0].data = payload;
    blobs[0].len = sizeof payload;
    blobs[1].kind = LUX_BLOB_REF;
    memset(blobs[1].id.b, 0xab, 16);
    blobs[2].kind = LUX_BLOB_SHM;
    blobs[2].off = 4096;
    blobs[2].len = 1 << 20;
    blobs[3].kind = LUX_BLOB_ERROR;
    blobs[3].code = LUX_ETASK;
    blobs[3].data = "boom";
    blobs[3].len = 4;
    memset(res, 0, 2 * sizeof *res);
    strcpy(res[0].name, "CPU");
    res[0].amount = 100;
    strcpy(res[1].name, "accel");
    res[1].bundle = 3;
    res[1].amount = 20000;
    for (int i = 0; i < 3; i++)
        memset(ids[i].b, i + 1, 16);
    lux_msg_t m = {.type = LUX_MSG_SUBMIT, .req = 0x1122334455667788ull};
    m.name = "rollout";
    m.name_len = 7;
    m.blobs = blobs;
    m.nblobs = 4;
    m.res = res;
    m.nres = 2;
    m.opts.max_retries = -1;
    m.opts.num_returns = 3;
    m.opts.bundle_index = 2;
    m.opts.flags = LUX_OPT_NO_CAPTURE;
    memset(m.opts.pg.b, 7, 16);
    (void)ids;
    return m;
}

LUX_TEST(codec_round_trip)
{
    lux_blob_t blobs[4];
    lux_res_item_t res[2];
    lux_id_t ids[3];
    lux_msg_t m = sample(blobs, res, ids);
    lux_wbuf_t w;
    lux_wbuf_init(&w);
    LUX_CHECK_OK(lux_msg_encode(&w, &m));
    lux_msg_t g = {.type = LUX_MSG_GET, .req = 9, .a = 1234, .ids = ids, .nids = 3};
    LUX_CHECK_OK(lux_msg_encode(&w, &g)); /* a batch of two records */
    size_t pos = 0;
    lux_msg_t d;
    LUX_CHECK_OK(lux_msg_decode(w.data, w.len, &pos, &d));
    LUX_CHECK_INT_EQ(d.type, LUX_MSG_SUBMIT);
    LUX_CHECK(d.req == m.req);
    LUX_CHECK_INT_EQ(d.name_len, 7);
    LUX_CHECK(memcmp(d.name, "rollout", 7) == 0);
    LUX_CHECK_INT_EQ(d.nblobs, 4);
    LUX_CHECK_INT_EQ(d.blobs[0].len, 12);
    LUX_CHECK_STR_EQ((const char *)d.blobs[0].data, "hello world");
    LUX_CHECK_INT_EQ(d.blobs[1].kind, LUX_BLOB_REF);
    LUX_CHECK_INT_EQ(d.blobs[1].id.b[15], 0xab);
    LUX_CHECK_INT_EQ(d.blobs[2].off, 4096);
    LUX_CHECK_INT_EQ(d.blobs[2].len, 1 << 20);
    LUX_CHECK_INT_EQ(d.blobs[3].code, LUX_ETASK);
    LUX_CHECK_INT_EQ(d.nres, 2);
    LUX_CHECK_STR_EQ(d.res[1].name, "accel");
    LUX_CHECK_INT_EQ(d.res[1].bundle, 3);
    LUX_CHECK_INT_EQ(d.res[1].amount, 20000);
    LUX_CHECK_INT_EQ(d.opts.max_retries, -1);
    LUX_CHECK_INT_EQ(d.opts.num_returns, 3);
    LUX_CHECK_INT_EQ(d.opts.bundle_index, 2);
    LUX_CHECK_INT_EQ(d.opts.flags, LUX_OPT_NO_CAPTURE);
    LUX_CHECK_INT_EQ(d.opts.pg.b[0], 7);
    lux_msg_fini(&d);
    LUX_CHECK_OK(lux_msg_decode(w.data, w.len, &pos, &d));
    LUX_CHECK_INT_EQ(d.type, LUX_MSG_GET);
    LUX_CHECK_INT_EQ(d.nids, 3);
    LUX_CHECK_INT_EQ(d.a, 1234);
    LUX_CHECK_INT_EQ(d.ids[2].b[0], 3);
    lux_msg_fini(&d);
    LUX_CHECK_INT_EQ(pos, w.len);
    lux_wbuf_fini(&w);
}

LUX_TEST(codec_rejects_truncated_and_corrupt)
{
    lux_blob_t blobs[4];
    lux_res_item_t res[2];
    lux_id_t ids[3];
    lux_msg_t m = sample(blobs, res, ids);
    lux_wbuf_t w;
    lux_wbuf_init(&w);
    LUX_CHECK_OK(lux_msg_encode(&w, &m));
    /* Every truncation fails cleanly. */
    for (size_t cut = 0; cut < w.len; cut++) {
        size_t pos = 0;
        lux_msg_t d;
        LUX_CHECK_ERR(lux_msg_decode(w.data, cut, &pos, &d), LUX_EPROTO);
        LUX_CHECK_INT_EQ(pos, 0);
    }
    /* Bad magic, version, type. */
    for (int field = 0; field < 4; field++) {
        uint8_t *copy = malloc(w.len);
        memcpy(copy, w.data, w.len);
        copy[field] = field == 3 ? 200 : (uint8_t)(copy[field] + 1);
        size_t pos = 0;
        lux_msg_t d;
        LUX_CHECK_ERR(lux_msg_decode(copy, w.len, &pos, &d), LUX_EPROTO);
        free(copy);
    }
    /* Random corruption never crashes and never reads out of bounds (ASan
     * checks the latter); whatever decodes must be self-consistent. */
    srand(42);
    for (int trial = 0; trial < 20000; trial++) {
        uint8_t *copy = malloc(w.len);
        memcpy(copy, w.data, w.len);
        int flips = 1 + rand() % 4;
        for (int f = 0; f < flips; f++)
            copy[LUX_PROTO_HEADER + (size_t)rand() % (w.len - LUX_PROTO_HEADER)] = (uint8_t)rand();
        size_t pos = 0;
        lux_msg_t d;
        if (lux_msg_decode(copy, w.len, &pos, &d) == 0) {
            LUX_CHECK_INT_EQ(pos, w.len);
            for (uint32_t i = 0; i < d.nblobs; i++)
                if (d.blobs[i].kind == LUX_BLOB_VALUE)
                    LUX_CHECK((const uint8_t *)d.blobs[i].data + d.blobs[i].len <= copy + w.len);
            lux_msg_fini(&d);
        }
        free(copy);
    }
    /* Trailing garbage inside a record's declared body is rejected. */
    lux_wbuf_t t;
    lux_wbuf_init(&t);
    lux_msg_t s = {.type = LUX_MSG_STATUS, .req = 5};
    LUX_CHECK_OK(lux_msg_encode(&t, &s));
    uint8_t buf[64];
    memcpy(buf, t.data, t.len);
    buf[4] += 1; /* body length one more than the fields */
    buf[t.len] = 0;
    size_t pos = 0;
    lux_msg_t d;
    LUX_CHECK_ERR(lux_msg_decode(buf, t.len + 1, &pos, &d), LUX_EPROTO);
    lux_wbuf_fini(&t);
    lux_wbuf_fini(&w);
}

LUX_TEST(codec_limits)
{
    lux_wbuf_t w;
    lux_wbuf_init(&w);
    char name[300];
    memset(name, 'x', sizeof name);
    lux_msg_t m = {.type = LUX_MSG_SUBMIT, .name = name, .name_len = 300};
    LUX_CHECK_ERR(lux_msg_encode(&w, &m), LUX_EINVAL);
    lux_msg_t u = {.type = 99};
    LUX_CHECK_ERR(lux_msg_encode(&w, &u), LUX_EINVAL);
    LUX_CHECK_STR_EQ(lux_msg_name(LUX_MSG_EXECUTE), "EXECUTE");
    LUX_CHECK_STR_EQ(lux_msg_name(77), "?");
    lux_wbuf_fini(&w);
}

LUX_TEST(idmap_put_get_del)
{
    lux_idmap_t m;
    lux_idmap_init(&m);
    enum { N = 20000 };
    static int vals[N];
    for (int i = 0; i < N; i++) {
        lux_id_t k = lux_id_u64((uint64_t)i * 7919);
        LUX_CHECK_OK(lux_idmap_put(&m, &k, &vals[i]));
    }
    LUX_CHECK_INT_EQ(m.count, N);
    for (int i = 0; i < N; i += 2) {
        lux_id_t k = lux_id_u64((uint64_t)i * 7919);
        LUX_CHECK(lux_idmap_del(&m, &k) == &vals[i]);
    }
    for (int i = 0; i < N; i++) {
        lux_id_t k = lux_id_u64((uint64_t)i * 7919);
        void *v = lux_idmap_get(&m, &k);
        LUX_CHECK(i % 2 ? v == &vals[i] : v == NULL);
    }
    LUX_CHECK_INT_EQ(m.count, N / 2);
    lux_idmap_fini(&m);
}

LUX_TEST(arena_first_fit_and_coalesce)
{
    lux_arena_t a;
    LUX_CHECK_OK(lux_arena_init(&a, 1024));
    uint64_t o1, o2, o3, o4;
    LUX_CHECK_OK(lux_arena_alloc(&a, 100, &o1)); /* 128 */
    LUX_CHECK_OK(lux_arena_alloc(&a, 256, &o2));
    LUX_CHECK_OK(lux_arena_alloc(&a, 640, &o3));
    LUX_CHECK_INT_EQ(o1, 0);
    LUX_CHECK_INT_EQ(o2, 128);
    LUX_CHECK_INT_EQ(o3, 384);
    LUX_CHECK_INT_EQ(a.used, 1024);
    LUX_CHECK_ERR(lux_arena_alloc(&a, 1, &o4), LUX_EFULL);
    lux_arena_free(&a, o1, 100);
    lux_arena_free(&a, o3, 640);
    LUX_CHECK_ERR(lux_arena_alloc(&a, 700, &o4), LUX_EFULL); /* fragmented */
    lux_arena_free(&a, o2, 256);                             /* merges all three */
    LUX_CHECK_INT_EQ(a.nfree, 1);
    LUX_CHECK_INT_EQ(a.used, 0);
    LUX_CHECK_OK(lux_arena_alloc(&a, 1024, &o4));
    LUX_CHECK_INT_EQ(o4, 0);
    lux_arena_fini(&a);
}

LUX_TEST(arena_random_never_overlaps)
{
    lux_arena_t a;
    LUX_CHECK_OK(lux_arena_init(&a, 1 << 20));
    enum { SLOTS = 64 };
    uint64_t off[SLOTS], len[SLOTS];
    int live[SLOTS] = {0};
    srand(7);
    for (int step = 0; step < 20000; step++) {
        int s = rand() % SLOTS;
        if (live[s]) {
            lux_arena_free(&a, off[s], len[s]);
            live[s] = 0;
        } else {
            len[s] = 1 + (uint64_t)(rand() % 40000);
            if (lux_arena_alloc(&a, len[s], &off[s]) == 0) {
                live[s] = 1;
                for (int t = 0; t < SLOTS; t++) {
                    if (t == s || !live[t])
                        continue;
                    uint64_t e1 = off[s] + lux_arena_round(len[s]);
                    uint64_t e2 = off[t] + lux_arena_round(len[t]);
                    LUX_CHECK(e1 <= off[t] || e2 <= off[s]);
                }
                LUX_CHECK(off[s] + len[s] <= (1 << 20));
            }
        }
    }
    for (int s = 0; s < SLOTS; s++)
        if (live[s])
            lux_arena_free(&a, off[s], len[s]);
    LUX_CHECK_INT_EQ(a.used, 0);
    LUX_CHECK_INT_EQ(a.nfree, 1);
    lux_arena_fini(&a);
}

LUX_TEST(resources_fractional_accounting)
{
    lux_resnames_t names;
    lux_resnames_init(&names);
    LUX_CHECK_INT_EQ(lux_resnames_index(&names, "CPU", 0), LUX_RES_CPU);
    LUX_CHECK_INT_EQ(lux_resnames_index(&names, "accel", 0), -1);
    int accel = lux_resnames_index(&names, "accel", 1);
    LUX_CHECK_INT_EQ(accel, 3);
    lux_resv_t node = {{0}}, small = {{0}}, big = {{0}};
    node.v[LUX_RES_CPU] = lux_res_from_double(2);
    node.v[accel] = lux_res_from_double(1);
    small.v[LUX_RES_CPU] = lux_res_from_double(0.01);
    /* 200 tasks of 0.01 CPU fit exactly in 2 CPUs, without float drift. */
    for (int i = 0; i < 200; i++) {
        LUX_CHECK(lux_resv_fits(&node, &small));
        lux_resv_sub(&node, &small);
    }
    LUX_CHECK(!lux_resv_fits(&node, &small));
    LUX_CHECK_INT_EQ(node.v[LUX_RES_CPU], 0);
    for (int i = 0; i < 200; i++)
        lux_resv_add(&node, &small);
    LUX_CHECK_INT_EQ(node.v[LUX_RES_CPU], 2 * LUX_RES_UNIT);
    big.v[accel] = lux_res_from_double(1.5);
    LUX_CHECK(!lux_resv_fits(&node, &big));
    big.v[accel] = lux_res_from_double(1);
    LUX_CHECK(lux_resv_fits(&node, &big));
    LUX_CHECK_INT_EQ(lux_res_from_double(-1), -1);
}

LUX_TEST(codec_survives_allocation_failure)
{
    lux_blob_t blobs[4];
    lux_res_item_t res[2];
    lux_id_t ids[3];
    lux_msg_t m = sample(blobs, res, ids);
    lux_wbuf_t w;
    lux_wbuf_init(&w);
    LUX_CHECK_OK(lux_msg_encode(&w, &m));
    for (long k = 0; k < 3; k++) {
        lux_alloc_fail_after(k);
        size_t pos = 0;
        lux_msg_t d;
        int rc = lux_msg_decode(w.data, w.len, &pos, &d);
        lux_alloc_fail_reset();
        if (rc == 0)
            lux_msg_fini(&d);
        else
            LUX_CHECK_ERR(rc, LUX_ENOMEM);
    }
    lux_wbuf_fini(&w);
}

/* What `lux start --listen` accepts: ipc sockets only; TCP, loopback
 * included, is unauthenticated until CURVE lands. */
LUX_TEST(listen_endpoints_ipc_only)
{
    const char *allowed[] = {"ipc:///tmp/x/node.sock", "ipc://node.sock"};
    const char *refused[] = {NULL,
                             "",
                             "ipc://",
                             "tcp://127.0.0.1:6380",
                             "tcp://127.1.2.3:1",
                             "tcp://[::1]:6380",
                             "tcp://::1:6380",
                             "tcp://[::ffff:127.0.0.1]:9",
                             "tcp://127.0.0.1:*",
                             "tcp://0.0.0.0:6380",
                             "tcp://*:6380",
                             "tcp://192.168.1.1:6380",
                             "tcp://localhost:6380",
                             "udp://127.0.0.1:6380",
                             "inproc://x"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        LUX_CHECK_MSG(lux_nodectl_listen_allowed(allowed[i]) == 1, "%s refused", allowed[i]);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        LUX_CHECK_MSG(lux_nodectl_listen_allowed(refused[i]) == 0, "%s accepted",
                      refused[i] ? refused[i] : "NULL");
}
