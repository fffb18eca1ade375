/*
 * JSON helpers of lux.h: arguments, returns and values as compact JSON text
 * (jansson), for callers whose data are configs and metrics.
 */
#include "lux.h"

#include "error.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

int lux_arg_json(const json_t *json, lux_arg_t *arg_out, char **buf_out)
{
    if (json == NULL || arg_out == NULL || buf_out == NULL)
        return LUX_EINVAL;
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        return LUX_ENOMEM;
    *buf_out = text;
    *arg_out = lux_arg_value(text, strlen(text));
    return 0;
}

static int parse(const void *data, size_t len, json_t **json_out)
{
    json_error_t err;
    json_t *j = json_loadb(data, len, JSON_DECODE_ANY, &err);
    if (j == NULL)
        return LUX_EINVAL;
    *json_out = j;
    return 0;
}

int lux_call_arg_json(const lux_call_t *call, size_t i, json_t **json_out)
{
    size_t len;
    const void *p = lux_call_arg(call, i, &len);
    if (p == NULL)
        return LUX_ERANGE;
    return parse(p, len, json_out);
}

int lux_call_return_json(lux_call_t *call, int i, const json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        return LUX_ENOMEM;
    int rc = lux_call_return(call, i, text, strlen(text));
    free(text);
    return rc;
}

int lux_value_json(const lux_value_t *value, json_t **json_out)
{
    if (value == NULL || json_out == NULL)
        return LUX_EINVAL;
    if (value->error)
        return value->error;
    return parse(value->data, value->len, json_out);
}
