/*
 * A plugin for runtime_tasks_test: a shared library whose remote function
 * registers itself when the library is loaded (driver and workers).
 */
#include "lux.h"

LUX_REMOTE(plugin_triple)
{
    size_t len;
    const long *x = lux_call_arg(call, 0, &len);
    if (x == NULL || len != sizeof *x)
        return lux_call_fail(call, "plugin_triple wants one long");
    long y = 3 * *x;
    return lux_call_return(call, 0, &y, sizeof y);
}
