/*
 * The YAML document tree of experiment configs: libyaml's event parser
 * builds a small tree in which every node keeps its file:line:column
 * (1-based; libyaml's marks are 0-based), so every check made on the tree
 * later can point at the text it complains about. A tree can also be built
 * from JSON (a config stored in the experiment DB); its nodes then have no
 * marks and messages name a path instead.
 *
 * This module knows YAML and positions, nothing about experiments: the
 * config loader (tune/config.c) and the search space parser (tune/space.c)
 * both read trees through it, and every "FILE:LINE:COL: what; what to do"
 * message of tune is formatted here (lux_yaml_error).
 *
 * The files are yaml_tree.{h,c}, not yaml.{h,c}: libyaml's own header is
 * <yaml.h> and tune's directory is on the include path of everything that
 * uses tune.
 *
 * A tree is immutable once built (lux_yaml_node_merge aside) and owned by
 * whoever built it.
 */
#ifndef LUX_YAML_TREE_H
#define LUX_YAML_TREE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LUX_YAML_SCALAR,
    LUX_YAML_SEQUENCE,
    LUX_YAML_MAPPING,
} lux_yaml_kind_t;

/* One YAML node. Mappings keep their keys as scalar nodes (with their own
 * marks) in keys[i], values in items[i]; sequences use items only. Scalars
 * keep their text and whether they were quoted (a quoted scalar is always a
 * string; a plain one may be null, a boolean or a number, YAML 1.2 core
 * schema, plus 1e-4 style floats). */
typedef struct lux_yaml_node {
    lux_yaml_kind_t kind;
    int line, column; /* 1-based; 0 for nodes built from JSON */
    char *scalar;     /* LUX_YAML_SCALAR: the text */
    bool quoted;
    size_t count;                /* items (and keys) */
    size_t cap;                  /* room in items (and keys); grows geometrically */
    struct lux_yaml_node **keys; /* LUX_YAML_MAPPING */
    struct lux_yaml_node **items;
} lux_yaml_node_t;

/* Parses YAML text into a tree (the first document; an empty text gives an
 * empty plain scalar). Returns 0 and *out (the caller destroys it),
 * LUX_ECONFIG with "NAME:LINE:COL: YAML syntax error: ...; ..." in err, or
 * LUX_ENOMEM. Also LUX_ECONFIG, with the position, for a duplicate key, an
 * alias, nesting deeper than 64 levels, a second document and a plain
 * scalar written as a number that a double cannot hold (1e400: it would
 * otherwise silently become a string). Time and memory are linear in the
 * text's length (keys are checked for duplicates through a hash set). */
int lux_yaml_parse(const char *yaml, size_t len, const char *name, lux_yaml_node_t **out, char *err,
                   size_t errlen);

/* Builds a tree from JSON (no marks: messages then name paths). NULL on
 * allocation failure. The caller destroys it. */
lux_yaml_node_t *lux_yaml_node_from_json(const json_t *json);

/* Frees a tree and clears *node_p. Accepts NULL and a NULL *node_p. */
void lux_yaml_node_destroy(lux_yaml_node_t **node_p);

/* Converts a node to JSON (scalars typed as above; NULL node: JSON null).
 * New reference, NULL on allocation failure. */
json_t *lux_yaml_node_to_json(const lux_yaml_node_t *node);

/* The value of `key` in a mapping node, or NULL (also when map is NULL or
 * not a mapping). */
const lux_yaml_node_t *lux_yaml_node_get(const lux_yaml_node_t *map, const char *key);

/* The key node of `key` in a mapping node (to point at the key in a
 * message), or NULL. */
const lux_yaml_node_t *lux_yaml_node_key(const lux_yaml_node_t *map, const char *key);

/* True for a plain (unquoted) null scalar: empty, ~, null, Null, NULL. */
bool lux_yaml_node_is_null(const lux_yaml_node_t *node);

/* What a node is, for messages: "a mapping", "a list", "a string",
 * "an integer", "a number", "a boolean" or "null". Static string. */
const char *lux_yaml_node_type_name(const lux_yaml_node_t *node);

/* Merges mapping src into mapping dst: a key of both whose values are both
 * mappings merges recursively; otherwise src's value replaces dst's (the
 * nodes swap places, so each stays owned by exactly one tree); keys only in
 * src move to dst. Returns 0 or LUX_ENOMEM. */
int lux_yaml_node_merge(lux_yaml_node_t *dst, lux_yaml_node_t *src);

/* The one formatter of messages about a place in a config. Writes into err
 * (when err is not NULL and errlen > 0) the prefix
 *     "FILE:LINE:COL: "   when line > 0 (a node parsed from YAML),
 *     "FILE: at 'PATH': " when line is 0 and path is not NULL,
 *     "FILE: "            otherwise,
 * followed by the formatted message, truncated to fit. Returns LUX_ECONFIG
 * so that a check can `return lux_yaml_error(...)`. Cannot fail. */
int lux_yaml_error(char *err, size_t errlen, const char *file, int line, int column,
                   const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The same with a va_list, for callers that wrap it. */
int lux_yaml_errorv(char *err, size_t errlen, const char *file, int line, int column,
                    const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

#endif
