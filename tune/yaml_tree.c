/*
 * The YAML document tree (see yaml_tree.h for what it promises).
 *
 * The parser pulls libyaml's events and builds nodes recursively, at most
 * MAX_DEPTH levels deep, rejecting what experiment files never need and
 * what would make positions ambiguous: aliases, non-scalar keys, duplicate
 * keys and a second document. Scalars keep their text; typing them
 * (null, boolean, integer, float, string) happens when they are read, in
 * one place (scalar_to_json), so a quoted "1" stays a string.
 */
#include "yaml_tree.h"

#include "alloc.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64

/* ---- the tree --------------------------------------------------------------- */

static void node_free(lux_yaml_node_t *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->count; i++) {
        if (node->keys)
            node_free(node->keys[i]);
        node_free(node->items[i]);
    }
    lux_free(node->keys);
    lux_free(node->items);
    lux_free(node->scalar);
    lux_free(node);
}

void lux_yaml_node_destroy(lux_yaml_node_t **node_p)
{
    if (node_p == NULL)
        return;
    node_free(*node_p);
    *node_p = NULL;
}

static lux_yaml_node_t *node_new(lux_yaml_kind_t kind, int line, int column)
{
    lux_yaml_node_t *n = lux_calloc(1, sizeof *n);
    if (n != NULL) {
        n->kind = kind;
        n->line = line;
        n->column = column;
    }
    return n;
}

static int node_append(lux_yaml_node_t *parent, lux_yaml_node_t *key, lux_yaml_node_t *item)
{
    /* Geometric growth: appending n items costs O(n), not O(n^2) copies. */
    if (parent->count == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(lux_yaml_node_t *))
            return LUX_ENOMEM;
        lux_yaml_node_t **items = lux_realloc(parent->items, cap * sizeof *items);
        if (items == NULL)
            return LUX_ENOMEM;
        parent->items = items;
        if (parent->kind == LUX_YAML_MAPPING) {
            lux_yaml_node_t **keys = lux_realloc(parent->keys, cap * sizeof *keys);
            if (keys == NULL)
                return LUX_ENOMEM;
            parent->keys = keys;
        }
        parent->cap = cap;
    }
    if (parent->kind == LUX_YAML_MAPPING)
        parent->keys[parent->count] = key;
    parent->items[parent->count] = item;
    parent->count++;
    return 0;
}

/* A set of a mapping's keys (open addressing over key indices), so that
 * finding a duplicate among n keys takes O(n) expected time: the parser's
 * duplicate check and the merge look keys up here instead of comparing
 * each key with every earlier one. */
typedef struct {
    size_t *slot; /* key index + 1; 0 = empty */
    size_t cap;   /* a power of two, or 0 */
    size_t n;
} keyset_t;

static size_t key_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

static void keyset_fini(keyset_t *ks)
{
    lux_free(ks->slot);
    memset(ks, 0, sizeof *ks);
}

/* The index in keys[] of a key equal to k, or SIZE_MAX. */
static size_t keyset_find(const keyset_t *ks, lux_yaml_node_t *const *keys, const char *k)
{
    if (ks->cap == 0)
        return SIZE_MAX;
    for (size_t i = key_hash(k) & (ks->cap - 1);; i = (i + 1) & (ks->cap - 1)) {
        if (ks->slot[i] == 0)
            return SIZE_MAX;
        if (strcmp(keys[ks->slot[i] - 1]->scalar, k) == 0)
            return ks->slot[i] - 1;
    }
}

/* Adds keys[index] (not in the set yet). Returns 0 or LUX_ENOMEM. */
static int keyset_add(keyset_t *ks, lux_yaml_node_t *const *keys, size_t index)
{
    if (2 * (ks->n + 1) > ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        size_t *slot = lux_calloc(cap, sizeof *slot);
        if (slot == NULL)
            return LUX_ENOMEM;
        for (size_t j = 0; j < ks->cap; j++) {
            if (ks->slot[j] == 0)
                continue;
            size_t i = key_hash(keys[ks->slot[j] - 1]->scalar) & (cap - 1);
            while (slot[i] != 0)
                i = (i + 1) & (cap - 1);
            slot[i] = ks->slot[j];
        }
        lux_free(ks->slot);
        ks->slot = slot;
        ks->cap = cap;
    }
    size_t i = key_hash(keys[index]->scalar) & (ks->cap - 1);
    while (ks->slot[i] != 0)
        i = (i + 1) & (ks->cap - 1);
    ks->slot[i] = index + 1;
    ks->n++;
    return 0;
}

int lux_yaml_node_merge(lux_yaml_node_t *dst, lux_yaml_node_t *src)
{
    keyset_t ks = {0};
    int rc = 0;
    for (size_t j = 0; j < dst->count && rc == 0; j++)
        if (dst->keys[j] != NULL && dst->keys[j]->scalar != NULL &&
            keyset_find(&ks, dst->keys, dst->keys[j]->scalar) == SIZE_MAX)
            rc = keyset_add(&ks, dst->keys, j);
    for (size_t i = 0; i < src->count && rc == 0; i++) {
        lux_yaml_node_t *k = src->keys[i], *v = src->items[i];
        if (k == NULL || v == NULL || k->scalar == NULL)
            continue;
        size_t j = keyset_find(&ks, dst->keys, k->scalar);
        if (j != SIZE_MAX && dst->items[j]->kind == LUX_YAML_MAPPING &&
            v->kind == LUX_YAML_MAPPING) {
            rc = lux_yaml_node_merge(dst->items[j], v);
        } else if (j != SIZE_MAX) {
            src->items[i] = dst->items[j];
            dst->items[j] = v;
        } else if ((rc = node_append(dst, k, v)) == 0) {
            src->keys[i] = NULL;
            src->items[i] = NULL;
            rc = keyset_add(&ks, dst->keys, dst->count - 1);
        }
    }
    keyset_fini(&ks);
    return rc;
}

const lux_yaml_node_t *lux_yaml_node_get(const lux_yaml_node_t *map, const char *key)
{
    if (map == NULL || map->kind != LUX_YAML_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0)
            return map->items[i];
    return NULL;
}

const lux_yaml_node_t *lux_yaml_node_key(const lux_yaml_node_t *map, const char *key)
{
    if (map == NULL || map->kind != LUX_YAML_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0)
            return map->keys[i];
    return NULL;
}

bool lux_yaml_node_is_null(const lux_yaml_node_t *n)
{
    if (n->kind != LUX_YAML_SCALAR || n->quoted)
        return false;
    const char *t = n->scalar;
    return t[0] == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
           strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}

/* Whether plain text is a YAML number: an integer [-+]?[0-9]+ or a float
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?. *integer says which. */
static bool number_text(const char *t, bool *integer)
{
    const char *p = t;
    if (*p == '-' || *p == '+')
        p++;
    size_t digits = strspn(p, "0123456789");
    *integer = digits > 0 && p[digits] == '\0';
    if (*integer)
        return true;
    const char *q = p + digits;
    size_t frac_digits = 0;
    if (*q == '.') {
        q++;
        frac_digits = strspn(q, "0123456789");
        q += frac_digits;
    }
    if (digits + frac_digits == 0)
        return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '-' || *q == '+')
            q++;
        size_t e = strspn(q, "0123456789");
        if (e == 0)
            return false;
        q += e;
    }
    return *q == '\0';
}

static json_t *scalar_to_json(const lux_yaml_node_t *n)
{
    const char *t = n->scalar;
    if (n->quoted)
        return json_string(t);
    if (lux_yaml_node_is_null(n))
        return json_null();
    if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE"))
        return json_true();
    if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE"))
        return json_false();
    bool integer;
    if (number_text(t, &integer)) {
        if (integer) {
            errno = 0;
            long long v = strtoll(t, NULL, 10);
            if (errno == 0)
                return json_integer((json_int_t)v);
        }
        /* The parser rejects number text a double cannot hold, so this is
         * finite for trees parsed from YAML. */
        double v = strtod(t, NULL);
        if (isfinite(v))
            return json_real(v);
    }
    return json_string(t);
}

json_t *lux_yaml_node_to_json(const lux_yaml_node_t *node)
{
    if (node == NULL)
        return json_null();
    switch (node->kind) {
    case LUX_YAML_SCALAR:
        return scalar_to_json(node);
    case LUX_YAML_SEQUENCE: {
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && i < node->count; i++) {
            json_t *v = lux_yaml_node_to_json(node->items[i]);
            if (v == NULL || json_array_append_new(a, v) != 0) {
                json_decref(a);
                a = NULL;
            }
        }
        return a;
    }
    case LUX_YAML_MAPPING: {
        json_t *o = json_object();
        for (size_t i = 0; o != NULL && i < node->count; i++) {
            json_t *v = lux_yaml_node_to_json(node->items[i]);
            if (v == NULL || json_object_set_new(o, node->keys[i]->scalar, v) != 0) {
                json_decref(o);
                o = NULL;
            }
        }
        return o;
    }
    }
    return NULL;
}

static lux_yaml_node_t *scalar_node(const char *text, bool quoted)
{
    lux_yaml_node_t *n = node_new(LUX_YAML_SCALAR, 0, 0);
    if (n == NULL)
        return NULL;
    n->quoted = quoted;
    if ((n->scalar = lux_strdup(text)) == NULL) {
        lux_free(n);
        return NULL;
    }
    return n;
}

lux_yaml_node_t *lux_yaml_node_from_json(const json_t *json)
{
    char buf[64];
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        lux_yaml_node_t *n = node_new(LUX_YAML_MAPPING, 0, 0);
        const char *key;
        json_t *value;
        if (n == NULL)
            return NULL;
        json_object_foreach((json_t *)json, key, value)
        {
            lux_yaml_node_t *k = scalar_node(key, true);
            lux_yaml_node_t *v = lux_yaml_node_from_json(value);
            if (k == NULL || v == NULL || node_append(n, k, v) != 0) {
                lux_yaml_node_destroy(&k);
                lux_yaml_node_destroy(&v);
                lux_yaml_node_destroy(&n);
                return NULL;
            }
        }
        return n;
    }
    case JSON_ARRAY: {
        lux_yaml_node_t *n = node_new(LUX_YAML_SEQUENCE, 0, 0);
        size_t i;
        json_t *value;
        if (n == NULL)
            return NULL;
        json_array_foreach(json, i, value)
        {
            lux_yaml_node_t *v = lux_yaml_node_from_json(value);
            if (v == NULL || node_append(n, NULL, v) != 0) {
                lux_yaml_node_destroy(&v);
                lux_yaml_node_destroy(&n);
                return NULL;
            }
        }
        return n;
    }
    case JSON_STRING:
        return scalar_node(json_string_value(json), true);
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(json));
        return scalar_node(buf, false);
    case JSON_REAL:
        snprintf(buf, sizeof buf, "%.17g", json_real_value(json));
        if (strpbrk(buf, ".eEn") == NULL)
            strcat(buf, ".0");
        return scalar_node(buf, false);
    case JSON_TRUE:
        return scalar_node("true", false);
    case JSON_FALSE:
        return scalar_node("false", false);
    case JSON_NULL:
        return scalar_node("null", false);
    }
    return NULL;
}

typedef struct {
    yaml_parser_t parser;
    const char *name;
    char *err;
    size_t errlen;
} yctx_t;

static int yfail(yctx_t *c, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int yfail(yctx_t *c, int line, int column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lux_yaml_errorv(c->err, c->errlen, c->name, line, column, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

static int next_event(yctx_t *c, yaml_event_t *ev)
{
    if (yaml_parser_parse(&c->parser, ev))
        return 0;
    yaml_parser_t *p = &c->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return LUX_ENOMEM;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->context != NULL)
        return yfail(c, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                     "YAML syntax error: %s %s (line %d); fix the YAML here (indentation, "
                     "colons, quotes, brackets)",
                     problem, p->context, (int)p->context_mark.line + 1);
    return yfail(c, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                 "YAML syntax error: %s; fix the YAML here (indentation, colons, quotes, "
                 "brackets)",
                 problem);
}

/* Builds the node starting with *ev (which it deletes). A key is a name, so
 * number text there is not checked for range. */
static int parse_node(yctx_t *c, yaml_event_t *ev, int depth, bool is_key, lux_yaml_node_t **out)
{
    int line = (int)ev->start_mark.line + 1, column = (int)ev->start_mark.column + 1;
    int rc = 0;
    lux_yaml_node_t *n = NULL;
    *out = NULL;
    if (depth > MAX_DEPTH) {
        yaml_event_delete(ev);
        return yfail(c, line, column, "nesting deeper than %d levels; flatten the config",
                     MAX_DEPTH);
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        n = node_new(LUX_YAML_SCALAR, line, column);
        if (n == NULL) {
            yaml_event_delete(ev);
            rc = LUX_ENOMEM;
            break;
        }
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                    (ev->data.scalar.tag != NULL &&
                     strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) == 0);
        n->scalar = lux_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        yaml_event_delete(ev);
        bool integer;
        if (n->scalar == NULL)
            rc = LUX_ENOMEM;
        else if (!is_key && !n->quoted && number_text(n->scalar, &integer) &&
                 !isfinite(strtod(n->scalar, NULL)))
            rc = yfail(c, line, column,
                       "the number %.40s%s is out of range (beyond +-1.8e308, the largest a "
                       "double holds); write a smaller number, or quote it to make it a string",
                       n->scalar, strlen(n->scalar) > 40 ? "..." : "");
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        yaml_event_delete(ev);
        n = node_new(map ? LUX_YAML_MAPPING : LUX_YAML_SEQUENCE, line, column);
        if (n == NULL) {
            rc = LUX_ENOMEM;
            break;
        }
        keyset_t ks = {0};
        for (;;) {
            yaml_event_t e;
            if ((rc = next_event(c, &e)) != 0)
                break;
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            lux_yaml_node_t *key = NULL, *item = NULL;
            if ((rc = parse_node(c, &e, depth + 1, map, map ? &key : &item)) != 0)
                break;
            if (map) {
                if (key->kind != LUX_YAML_SCALAR) {
                    rc = yfail(c, key->line, key->column,
                               "a mapping key must be a plain name, not a list or mapping; "
                               "write name: value");
                    lux_yaml_node_destroy(&key);
                    break;
                }
                size_t first = keyset_find(&ks, n->keys, key->scalar);
                if (first != SIZE_MAX)
                    rc = yfail(c, key->line, key->column,
                               "duplicate key '%s' (first at line %d); keep only one", key->scalar,
                               n->keys[first]->line);
                if (rc == 0 && (rc = next_event(c, &e)) == 0)
                    rc = parse_node(c, &e, depth + 1, false, &item);
                if (rc != 0) {
                    lux_yaml_node_destroy(&key);
                    break;
                }
            }
            if ((rc = node_append(n, key, item)) != 0) {
                lux_yaml_node_destroy(&key);
                lux_yaml_node_destroy(&item);
                break;
            }
            if (map && (rc = keyset_add(&ks, n->keys, n->count - 1)) != 0)
                break;
        }
        keyset_fini(&ks);
        break;
    }
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return yfail(c, line, column,
                     "YAML aliases (*name) are not supported; repeat the value instead");
    default:
        yaml_event_delete(ev);
        return yfail(c, line, column, "unexpected YAML event; fix the YAML here");
    }
    if (rc != 0) {
        lux_yaml_node_destroy(&n);
        return rc;
    }
    *out = n;
    return 0;
}

int lux_yaml_parse(const char *yaml, size_t len, const char *name, lux_yaml_node_t **out, char *err,
                   size_t errlen)
{
    yctx_t c = {.name = name ? name : "<string>", .err = err, .errlen = errlen};
    *out = NULL;
    if (!yaml_parser_initialize(&c.parser))
        return LUX_ENOMEM;
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)yaml, len);
    lux_yaml_node_t *root = NULL;
    yaml_event_t ev;
    int rc = 0;
    /* STREAM-START, then DOCUMENT-START or STREAM-END. */
    while ((rc = next_event(&c, &ev)) == 0) {
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            if ((rc = next_event(&c, &ev)) != 0)
                break;
            if (ev.type == YAML_DOCUMENT_START_EVENT)
                rc = yfail(&c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                           "a second YAML document; an experiment file holds one document, "
                           "remove the '---' and what follows");
            yaml_event_delete(&ev);
            break;
        }
        rc = parse_node(&c, &ev, 0, false, &root);
        if (rc != 0)
            break;
    }
    yaml_parser_delete(&c.parser);
    if (rc != 0) {
        lux_yaml_node_destroy(&root);
        return rc;
    }
    if (root == NULL) {
        root = node_new(LUX_YAML_SCALAR, 1, 1);
        if (root == NULL || (root->scalar = lux_strdup("")) == NULL) {
            lux_yaml_node_destroy(&root);
            return LUX_ENOMEM;
        }
    }
    *out = root;
    return 0;
}

/* ---- reading nodes and reporting errors ---------------------------------------- */

const char *lux_yaml_node_type_name(const lux_yaml_node_t *n)
{
    if (n->kind == LUX_YAML_MAPPING)
        return "a mapping";
    if (n->kind == LUX_YAML_SEQUENCE)
        return "a list";
    json_t *j = scalar_to_json(n);
    const char *r = json_is_string(j)    ? "a string"
                    : json_is_integer(j) ? "an integer"
                    : json_is_number(j)  ? "a number"
                    : json_is_boolean(j) ? "a boolean"
                                         : "null";
    json_decref(j);
    return r;
}

int lux_yaml_errorv(char *err, size_t errlen, const char *file, int line, int column,
                    const char *path, const char *fmt, va_list ap)
{
    if (err == NULL || errlen == 0)
        return LUX_ECONFIG;
    int n;
    if (line > 0)
        n = snprintf(err, errlen, "%s:%d:%d: ", file, line, column);
    else if (path != NULL)
        n = snprintf(err, errlen, "%s: at '%s': ", file, path);
    else
        n = snprintf(err, errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= errlen)
        return LUX_ECONFIG;
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    return LUX_ECONFIG;
}

int lux_yaml_error(char *err, size_t errlen, const char *file, int line, int column,
                   const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lux_yaml_errorv(err, errlen, file, line, column, path, fmt, ap);
    va_end(ap);
    return rc;
}
