/*
 * Writes the seed corpus of fuzz_proto: one encoded record of every message
 * type in LUX_MSG_MAP (each field it carries filled in, every blob kind and
 * a resource list where the type has them) into DIR/<NAME>, and DIR/BATCH,
 * a frame of three records. Run by tests/fuzz/make_corpus; the output is
 * committed.
 *
 *   gen_proto_seeds DIR
 */
#include "proto.h"

#include <stdio.h>
#include <string.h>

static int write_file(const char *dir, const char *name, const lux_wbuf_t *w)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(w->data, 1, w->len, f) != w->len || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* A message of `type` with every field set to something plausible. */
static void fill(lux_msg_t *m, unsigned type, lux_blob_t blobs[4], lux_res_item_t res[2],
                 lux_id_t ids[2])
{
    static const char value[] = "{\"x\": 1.5}";
    static const char errtext[] = "ValueError: bad";
    static const char text[] = "{\"num_cpus\": 2, \"node\": \"n1\"}";
    memset(m, 0, sizeof *m);
    m->type = (uint8_t)type;
    m->req = 42;
    for (int i = 0; i < 16; i++) {
        m->id.b[i] = (uint8_t)(0xa0 + i);
        ids[0].b[i] = (uint8_t)i;
        ids[1].b[i] = (uint8_t)(0x10 + i);
    }
    m->a = 3;
    m->b = 1000;
    m->code = 0;
    m->name = "rollout_worker.sample";
    m->name_len = (uint32_t)strlen(m->name);
    m->text = text;
    m->text_len = sizeof text - 1;
    m->ids = ids;
    m->nids = 2;
    memset(blobs, 0, 4 * sizeof *blobs);
    blobs[0] = (lux_blob_t){.kind = LUX_BLOB_VALUE, .data = value, .len = sizeof value - 1};
    blobs[1] = (lux_blob_t){.kind = LUX_BLOB_REF, .id = ids[0]};
    blobs[2] = (lux_blob_t){.kind = LUX_BLOB_SHM, .id = ids[1], .off = 4096, .len = 128};
    blobs[3] = (lux_blob_t){
        .kind = LUX_BLOB_ERROR, .code = -5, .data = errtext, .len = sizeof errtext - 1};
    m->blobs = blobs;
    m->nblobs = 4;
    memset(res, 0, 2 * sizeof *res);
    res[0].bundle = 0;
    strcpy(res[0].name, "CPU");
    res[0].amount = lux_res_from_double(1.0);
    res[1].bundle = 1;
    strcpy(res[1].name, "GPU");
    res[1].amount = lux_res_from_double(0.5);
    m->res = res;
    m->nres = 2;
    m->opts = (lux_wire_opts_t){.max_retries = 3,
                                .retry_exceptions = 1,
                                .num_returns = 1,
                                .bundle_index = -1,
                                .max_restarts = 2,
                                .max_task_retries = 1,
                                .flags = LUX_OPT_NO_CAPTURE};
    m->opts.pg.b[0] = 7;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_proto_seeds DIR\n");
        return 2;
    }
    lux_blob_t blobs[4];
    lux_res_item_t res[2];
    lux_id_t ids[2];
    lux_msg_t m;
    lux_wbuf_t batch;
    lux_wbuf_init(&batch);
    int status = 0;
#define LUX_SEED(name, code, fields)                                                               \
    do {                                                                                           \
        lux_wbuf_t w;                                                                              \
        lux_wbuf_init(&w);                                                                         \
        fill(&m, code, blobs, res, ids);                                                           \
        if (lux_msg_encode(&w, &m) != 0) {                                                         \
            fprintf(stderr, "gen_proto_seeds: cannot encode %s\n", #name);                         \
            status = 1;                                                                            \
        } else {                                                                                   \
            status |= write_file(argv[1], #name, &w);                                              \
        }                                                                                          \
        lux_wbuf_fini(&w);                                                                         \
    } while (0);
    LUX_MSG_MAP(LUX_SEED)
#undef LUX_SEED
    /* A frame of several records, as the node batches them. */
    unsigned types[] = {LUX_MSG_SUBMIT, LUX_MSG_GET, LUX_MSG_REPLY};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        fill(&m, types[i], blobs, res, ids);
        if (lux_msg_encode(&batch, &m) != 0)
            status = 1;
    }
    status |= write_file(argv[1], "BATCH", &batch);
    lux_wbuf_fini(&batch);
    return status;
}
