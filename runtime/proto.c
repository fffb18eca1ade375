/*
 * The codec of runtime/proto.h. Encoding writes the fields a type carries
 * (LUX_MSG_MAP) in the fixed order of the LUX_F_* bits; decoding reads them
 * back through a bounds-checked reader that fails on the first byte that is
 * missing or out of range, and rejects trailing bytes.
 */
#include "proto.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned fields;
} msg_table[LUX_MSG_MAX_] = {
#define LUX_MSG_ROW(name, code, fields) [code] = {#name, (fields)},
    LUX_MSG_MAP(LUX_MSG_ROW)
#undef LUX_MSG_ROW
};

unsigned lux_msg_fields(unsigned type)
{
    return type < LUX_MSG_MAX_ && msg_table[type].name ? msg_table[type].fields : 0;
}

const char *lux_msg_name(unsigned type)
{
    return type < LUX_MSG_MAX_ && msg_table[type].name ? msg_table[type].name : "?";
}

int64_t lux_res_from_double(double v)
{
    if (!(v >= 0) || v > 1e15)
        return -1;
    return (int64_t)llround(v * LUX_RES_UNIT);
}

void lux_wbuf_init(lux_wbuf_t *w)
{
    memset(w, 0, sizeof *w);
}

void lux_wbuf_fini(lux_wbuf_t *w)
{
    lux_free(w->data);
    memset(w, 0, sizeof *w);
}

static int wb_reserve(lux_wbuf_t *w, size_t n)
{
    if (w->len + n <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
        cap *= 2;
    uint8_t *d = lux_realloc(w->data, cap);
    if (d == NULL)
        return LUX_ENOMEM;
    w->data = d;
    w->cap = cap;
    return 0;
}

static void put_bytes(lux_wbuf_t *w, const void *p, size_t n)
{
    if (n)
        memcpy(w->data + w->len, p, n);
    w->len += n;
}

static void put_u64(lux_wbuf_t *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 8);
}

static void put_u32(lux_wbuf_t *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 4);
}

static void put_u8(lux_wbuf_t *w, uint8_t v)
{
    put_bytes(w, &v, 1);
}

static size_t blob_size(const lux_blob_t *b)
{
    switch (b->kind) {
    case LUX_BLOB_VALUE:
        return 1 + 8 + b->len;
    case LUX_BLOB_REF:
        return 1 + 16;
    case LUX_BLOB_SHM:
        return 1 + 16 + 8 + 8;
    default:
        return 1 + 4 + 8 + b->len;
    }
}

static int body_size(const lux_msg_t *m, unsigned f, size_t *out)
{
    size_t n = 0;
    if (f & LUX_F_REQ)
        n += 8;
    if (f & LUX_F_ID)
        n += 16;
    if (f & LUX_F_A)
        n += 8;
    if (f & LUX_F_B)
        n += 8;
    if (f & LUX_F_CODE)
        n += 4;
    if (f & LUX_F_NAME) {
        if (m->name_len > LUX_PROTO_MAX_NAME)
            return LUX_EINVAL;
        n += 1 + m->name_len;
    }
    if (f & LUX_F_TEXT)
        n += 8 + m->text_len;
    if (f & LUX_F_IDS) {
        if (m->nids > LUX_PROTO_MAX_ITEMS * 16u)
            return LUX_EINVAL;
        n += 4 + 16 * (size_t)m->nids;
    }
    if (f & LUX_F_BLOBS) {
        if (m->nblobs > LUX_PROTO_MAX_ITEMS)
            return LUX_EINVAL;
        n += 4;
        for (uint32_t i = 0; i < m->nblobs; i++) {
            if (m->blobs[i].kind > LUX_BLOB_ERROR)
                return LUX_EINVAL;
            n += blob_size(&m->blobs[i]);
        }
    }
    if (f & LUX_F_RES) {
        if (m->nres > 4096)
            return LUX_EINVAL;
        n += 4;
        for (uint32_t i = 0; i < m->nres; i++)
            n += 4 + 1 + strnlen(m->res[i].name, 31) + 8;
    }
    if (f & LUX_F_OPTS)
        n += 7 * 4 + 16;
    *out = n;
    return 0;
}

int lux_msg_encode(lux_wbuf_t *w, const lux_msg_t *m)
{
    unsigned f = lux_msg_fields(m->type);
    if (f == 0)
        return LUX_EINVAL;
    size_t body;
    int rc = body_size(m, f, &body);
    if (rc)
        return rc;
    if (body > UINT32_MAX - LUX_PROTO_HEADER)
        return LUX_EINVAL;
    if (wb_reserve(w, LUX_PROTO_HEADER + body))
        return LUX_ENOMEM;
    uint8_t hdr[4] = {LUX_PROTO_MAGIC & 0xff, LUX_PROTO_MAGIC >> 8, LUX_PROTO_VERSION, m->type};
    put_bytes(w, hdr, 4);
    put_u32(w, (uint32_t)body);
    if (f & LUX_F_REQ)
        put_u64(w, m->req);
    if (f & LUX_F_ID)
        put_bytes(w, m->id.b, 16);
    if (f & LUX_F_A)
        put_u64(w, m->a);
    if (f & LUX_F_B)
        put_u64(w, m->b);
    if (f & LUX_F_CODE)
        put_u32(w, (uint32_t)m->code);
    if (f & LUX_F_NAME) {
        put_u8(w, (uint8_t)m->name_len);
        put_bytes(w, m->name, m->name_len);
    }
    if (f & LUX_F_TEXT) {
        put_u64(w, m->text_len);
        put_bytes(w, m->text, m->text_len);
    }
    if (f & LUX_F_IDS) {
        put_u32(w, m->nids);
        put_bytes(w, m->ids, 16 * (size_t)m->nids);
    }
    if (f & LUX_F_BLOBS) {
        put_u32(w, m->nblobs);
        for (uint32_t i = 0; i < m->nblobs; i++) {
            const lux_blob_t *b = &m->blobs[i];
            put_u8(w, b->kind);
            switch (b->kind) {
            case LUX_BLOB_VALUE:
                put_u64(w, b->len);
                put_bytes(w, b->data, b->len);
                break;
            case LUX_BLOB_REF:
                put_bytes(w, b->id.b, 16);
                break;
            case LUX_BLOB_SHM:
                put_bytes(w, b->id.b, 16);
                put_u64(w, b->off);
                put_u64(w, b->len);
                break;
            default:
                put_u32(w, (uint32_t)b->code);
                put_u64(w, b->len);
                put_bytes(w, b->data, b->len);
            }
        }
    }
    if (f & LUX_F_RES) {
        put_u32(w, m->nres);
        for (uint32_t i = 0; i < m->nres; i++) {
            size_t nl = strnlen(m->res[i].name, 31);
            put_u32(w, m->res[i].bundle);
            put_u8(w, (uint8_t)nl);
            put_bytes(w, m->res[i].name, nl);
            put_u64(w, (uint64_t)m->res[i].amount);
        }
    }
    if (f & LUX_F_OPTS) {
        const lux_wire_opts_t *o = &m->opts;
        put_u32(w, (uint32_t)o->max_retries);
        put_u32(w, (uint32_t)o->retry_exceptions);
        put_u32(w, (uint32_t)o->num_returns);
        put_u32(w, (uint32_t)o->bundle_index);
        put_u32(w, (uint32_t)o->max_restarts);
        put_u32(w, (uint32_t)o->max_task_retries);
        put_u32(w, o->flags);
        put_bytes(w, o->pg.b, 16);
    }
    return 0;
}

/* ---- decoding ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
    int bad;
} reader_t;

static const uint8_t *take(reader_t *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint64_t get_u64(reader_t *r)
{
    const uint8_t *p = take(r, 8);
    uint64_t v = 0;
    if (p)
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | p[i];
    return v;
}

static uint32_t get_u32(reader_t *r)
{
    const uint8_t *p = take(r, 4);
    uint32_t v = 0;
    if (p)
        for (int i = 3; i >= 0; i--)
            v = (v << 8) | p[i];
    return v;
}

static uint8_t get_u8(reader_t *r)
{
    const uint8_t *p = take(r, 1);
    return p ? *p : 0;
}

void lux_msg_fini(lux_msg_t *m)
{
    if (m->owns_arrays) {
        lux_free(m->blobs);
        lux_free(m->res);
    }
    m->blobs = NULL;
    m->res = NULL;
    m->owns_arrays = 0;
}

int lux_msg_decode(const void *data, size_t len, size_t *pos, lux_msg_t *m)
{
    memset(m, 0, sizeof *m);
    if (*pos > len || len - *pos < LUX_PROTO_HEADER)
        return LUX_EPROTO;
    const uint8_t *h = (const uint8_t *)data + *pos;
    unsigned magic = h[0] | (unsigned)h[1] << 8;
    uint32_t body = h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    unsigned f = lux_msg_fields(h[3]);
    if (magic != LUX_PROTO_MAGIC || h[2] != LUX_PROTO_VERSION || f == 0 ||
        body > len - *pos - LUX_PROTO_HEADER)
        return LUX_EPROTO;
    m->type = h[3];
    m->owns_arrays = 1;
    reader_t r = {h + LUX_PROTO_HEADER, body, 0};
    if (f & LUX_F_REQ)
        m->req = get_u64(&r);
    if (f & LUX_F_ID) {
        const uint8_t *p = take(&r, 16);
        if (p)
            memcpy(m->id.b, p, 16);
    }
    if (f & LUX_F_A)
        m->a = get_u64(&r);
    if (f & LUX_F_B)
        m->b = get_u64(&r);
    if (f & LUX_F_CODE)
        m->code = (int32_t)get_u32(&r);
    if (f & LUX_F_NAME) {
        m->name_len = get_u8(&r);
        m->name = (const char *)take(&r, m->name_len);
        if (m->name && memchr(m->name, 0, m->name_len))
            r.bad = 1;
    }
    if (f & LUX_F_TEXT) {
        m->text_len = get_u64(&r);
        m->text = take(&r, m->text_len);
    }
    if (f & LUX_F_IDS) {
        m->nids = get_u32(&r);
        if (m->nids > r.left / 16)
            r.bad = 1;
        else
            m->ids = (const lux_id_t *)take(&r, 16 * (size_t)m->nids);
    }
    if ((f & LUX_F_BLOBS) && !r.bad) {
        uint32_t n = get_u32(&r);
        if (n > LUX_PROTO_MAX_ITEMS || n > r.left) {
            r.bad = 1;
        } else if (n > 0) {
            m->blobs = lux_calloc(n, sizeof *m->blobs);
            if (m->blobs == NULL)
                return LUX_ENOMEM;
            m->nblobs = n;
        }
        for (uint32_t i = 0; i < m->nblobs && !r.bad; i++) {
            lux_blob_t *b = &m->blobs[i];
            b->kind = get_u8(&r);
            const uint8_t *p;
            switch (b->kind) {
            case LUX_BLOB_VALUE:
                b->len = get_u64(&r);
                b->data = take(&r, b->len);
                break;
            case LUX_BLOB_REF:
                if ((p = take(&r, 16)) != NULL)
                    memcpy(b->id.b, p, 16);
                break;
            case LUX_BLOB_SHM:
                if ((p = take(&r, 16)) != NULL)
                    memcpy(b->id.b, p, 16);
                b->off = get_u64(&r);
                b->len = get_u64(&r);
                break;
            case LUX_BLOB_ERROR:
                b->code = (int32_t)get_u32(&r);
                b->len = get_u64(&r);
                b->data = take(&r, b->len);
                if (b->code >= 0)
                    r.bad = 1;
                break;
            default:
                r.bad = 1;
            }
        }
    }
    if ((f & LUX_F_RES) && !r.bad) {
        uint32_t n = get_u32(&r);
        if (n > 4096 || n > r.left / 13) {
            r.bad = 1;
        } else if (n > 0) {
            m->res = lux_calloc(n, sizeof *m->res);
            if (m->res == NULL) {
                lux_msg_fini(m);
                return LUX_ENOMEM;
            }
            m->nres = n;
        }
        for (uint32_t i = 0; i < m->nres && !r.bad; i++) {
            m->res[i].bundle = get_u32(&r);
            uint8_t nl = get_u8(&r);
            const uint8_t *p = nl <= 31 ? take(&r, nl) : NULL;
            if (p == NULL || nl == 0 || memchr(p, 0, nl)) {
                r.bad = 1;
                break;
            }
            memcpy(m->res[i].name, p, nl);
            m->res[i].name[nl] = '\0';
            m->res[i].amount = (int64_t)get_u64(&r);
            if (m->res[i].amount < 0)
                r.bad = 1;
        }
    }
    if (f & LUX_F_OPTS) {
        lux_wire_opts_t *o = &m->opts;
        o->max_retries = (int32_t)get_u32(&r);
        o->retry_exceptions = (int32_t)get_u32(&r);
        o->num_returns = (int32_t)get_u32(&r);
        o->bundle_index = (int32_t)get_u32(&r);
        o->max_restarts = (int32_t)get_u32(&r);
        o->max_task_retries = (int32_t)get_u32(&r);
        o->flags = get_u32(&r);
        const uint8_t *p = take(&r, 16);
        if (p)
            memcpy(o->pg.b, p, 16);
        if (o->num_returns < 0 || o->num_returns > 64)
            r.bad = 1;
    }
    if (r.bad || r.left != 0) {
        lux_msg_fini(m);
        return LUX_EPROTO;
    }
    *pos += LUX_PROTO_HEADER + body;
    return 0;
}
