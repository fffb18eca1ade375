/*
 * The runtime's wire protocol: message types, their fields, and the codec.
 *
 * Every ZeroMQ frame exchanged between drivers, workers and nodes is a batch
 * of one or more records. A record is a 8-byte header (magic "LX", protocol
 * version, type, body length) followed by the fields its type carries, in a
 * fixed order. The message types and the fields each one carries are
 * declared once (LUX_MSG_MAP); the enum, the names and the generic
 * encoder/decoder are generated from that list. Integers are little-endian.
 *
 * Decoding never trusts the input: every length and count is checked
 * against the bytes that remain, strings and counts have limits, unknown
 * types or versions and trailing bytes are rejected with LUX_EPROTO. A
 * decoded message points into the frame (zero-copy); it is valid while the
 * frame is.
 */
#ifndef LUX_RUNTIME_PROTO_H
#define LUX_RUNTIME_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define LUX_PROTO_VERSION   1
#define LUX_PROTO_MAGIC     0x584c /* "LX" */
#define LUX_PROTO_HEADER    8
#define LUX_PROTO_MAX_NAME  255
#define LUX_PROTO_MAX_ITEMS 65536

typedef struct {
    uint8_t b[16];
} lux_id_t;

/* Fields a message may carry (bit flags). */
enum {
    LUX_F_REQ = 1 << 0,   /* u64 req: request or task id */
    LUX_F_ID = 1 << 1,    /* 16-byte id: object, actor or group */
    LUX_F_A = 1 << 2,     /* u64 a */
    LUX_F_B = 1 << 3,     /* u64 b */
    LUX_F_CODE = 1 << 4,  /* i32 code: 0 or LUX_E* */
    LUX_F_NAME = 1 << 5,  /* short string (function, method, class, path) */
    LUX_F_TEXT = 1 << 6,  /* long bytes (message, JSON, bitmap) */
    LUX_F_IDS = 1 << 7,   /* list of 16-byte ids */
    LUX_F_BLOBS = 1 << 8, /* list of values: inline bytes, ref, shm extent, error */
    LUX_F_RES = 1 << 9,   /* list of (bundle, resource name, amount in 1/10000) */
    LUX_F_OPTS = 1 << 10, /* task/actor options */
};

/* X(name, code, fields) */
#define LUX_MSG_MAP(X)                                                                             \
    X(HELLO, 1, LUX_F_REQ | LUX_F_A | LUX_F_B | LUX_F_CODE)                                        \
    X(WELCOME, 2, LUX_F_REQ | LUX_F_A | LUX_F_B | LUX_F_NAME | LUX_F_TEXT | LUX_F_RES)             \
    X(SUBMIT, 3, LUX_F_REQ | LUX_F_NAME | LUX_F_BLOBS | LUX_F_RES | LUX_F_OPTS)                    \
    X(ACTOR_CREATE, 4, LUX_F_REQ | LUX_F_ID | LUX_F_NAME | LUX_F_BLOBS | LUX_F_RES | LUX_F_OPTS)   \
    X(ACTOR_CALL, 5, LUX_F_REQ | LUX_F_ID | LUX_F_NAME | LUX_F_BLOBS | LUX_F_OPTS)                 \
    X(EXECUTE, 6, LUX_F_REQ | LUX_F_ID | LUX_F_A | LUX_F_NAME | LUX_F_BLOBS | LUX_F_OPTS)          \
    X(RESULT, 7, LUX_F_REQ | LUX_F_CODE | LUX_F_TEXT | LUX_F_BLOBS)                                \
    X(PUT, 8, LUX_F_ID | LUX_F_A | LUX_F_BLOBS)                                                    \
    X(PUT_ALLOC, 9, LUX_F_REQ | LUX_F_ID | LUX_F_A | LUX_F_B)                                      \
    X(PUT_SEAL, 10, LUX_F_ID | LUX_F_A | LUX_F_B)                                                  \
    X(GET, 11, LUX_F_REQ | LUX_F_A | LUX_F_IDS)                                                    \
    X(VALUES, 12, LUX_F_REQ | LUX_F_CODE | LUX_F_BLOBS)                                            \
    X(WAIT, 13, LUX_F_REQ | LUX_F_A | LUX_F_B | LUX_F_IDS)                                         \
    X(RETAIN, 14, LUX_F_IDS)                                                                       \
    X(RELEASE, 15, LUX_F_IDS)                                                                      \
    X(UNPIN, 16, LUX_F_IDS)                                                                        \
    X(CANCEL, 17, LUX_F_REQ | LUX_F_ID | LUX_F_A)                                                  \
    X(ACTOR_KILL, 18, LUX_F_REQ | LUX_F_ID | LUX_F_A)                                              \
    X(ACTOR_PID, 19, LUX_F_REQ | LUX_F_ID)                                                         \
    X(PG_CREATE, 20, LUX_F_REQ | LUX_F_ID | LUX_F_A | LUX_F_B | LUX_F_RES)                         \
    X(PG_WAIT, 21, LUX_F_REQ | LUX_F_ID | LUX_F_A)                                                 \
    X(PG_REMOVE, 22, LUX_F_REQ | LUX_F_ID)                                                         \
    X(STATUS, 23, LUX_F_REQ)                                                                       \
    X(REPLY, 24, LUX_F_REQ | LUX_F_CODE | LUX_F_A | LUX_F_TEXT)                                    \
    X(STOP, 25, LUX_F_REQ)                                                                         \
    X(BYE, 26, LUX_F_REQ)                                                                          \
    X(DEFER, 27, LUX_F_REQ)

typedef enum {
#define LUX_MSG_ENUM(name, code, fields) LUX_MSG_##name = (code),
    LUX_MSG_MAP(LUX_MSG_ENUM)
#undef LUX_MSG_ENUM
        LUX_MSG_MAX_
} lux_msg_type_t;

/* Kinds of blob. */
enum {
    LUX_BLOB_VALUE = 0, /* bytes inline */
    LUX_BLOB_REF = 1,   /* an object id (task argument not yet resolved) */
    LUX_BLOB_SHM = 2,   /* an extent of the node's shared arena: offset, len */
    LUX_BLOB_ERROR = 3, /* error code + NUL-less message bytes */
};

typedef struct {
    uint8_t kind;
    int32_t code;     /* LUX_BLOB_ERROR */
    lux_id_t id;      /* LUX_BLOB_REF, LUX_BLOB_SHM (the object's id) */
    uint64_t off;     /* LUX_BLOB_SHM */
    const void *data; /* LUX_BLOB_VALUE, LUX_BLOB_ERROR */
    uint64_t len;
} lux_blob_t;

typedef struct {
    uint32_t bundle;
    char name[32];
    int64_t amount; /* units of 1/10000 */
} lux_res_item_t;

typedef struct {
    int32_t max_retries;
    int32_t retry_exceptions;
    int32_t num_returns;
    int32_t bundle_index;
    int32_t max_restarts;
    int32_t max_task_retries;
    uint32_t flags; /* LUX_OPT_* */
    lux_id_t pg;
} lux_wire_opts_t;

enum { LUX_OPT_NO_CAPTURE = 1 };

/* A decoded (or to-be-encoded) message. Pointers refer to the frame it was
 * decoded from, or to the caller's data when encoding. */
typedef struct {
    uint8_t type;
    uint64_t req;
    lux_id_t id;
    uint64_t a, b;
    int32_t code;
    const char *name;
    uint32_t name_len;
    const void *text;
    uint64_t text_len;
    const lux_id_t *ids; /* unaligned bytes: read with memcpy */
    uint32_t nids;
    lux_blob_t *blobs;
    uint32_t nblobs;
    lux_res_item_t *res;
    uint32_t nres;
    lux_wire_opts_t opts;
    int owns_arrays; /* decoder allocated blobs/res */
} lux_msg_t;

/* A growable output buffer holding a batch of encoded records. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} lux_wbuf_t;

void lux_wbuf_init(lux_wbuf_t *w);
void lux_wbuf_fini(lux_wbuf_t *w);

/* Fields carried by a type (0 for an unknown type) and its name ("?"). */
unsigned lux_msg_fields(unsigned type);
const char *lux_msg_name(unsigned type);

/* Appends one record. Returns 0, LUX_EINVAL (unknown type or a field over
 * its limit) or LUX_ENOMEM. */
int lux_msg_encode(lux_wbuf_t *w, const lux_msg_t *m);

/* Decodes the record at data[*pos..len) and advances *pos. Returns 0,
 * LUX_EPROTO for anything malformed (nothing to free then), LUX_ENOMEM.
 * Call lux_msg_fini on success. */
int lux_msg_decode(const void *data, size_t len, size_t *pos, lux_msg_t *m);

/* Frees what decode allocated. Accepts a zeroed message. */
void lux_msg_fini(lux_msg_t *m);

/* Fixed-point resource amounts. */
#define LUX_RES_UNIT 10000
int64_t lux_res_from_double(double v);

#endif
