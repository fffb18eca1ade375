/*
 * Centred ranks: an index sort (qsort with the index as tie-break, so the
 * order is stable and deterministic) then a scatter of rank/(K-1) - 0.5.
 */
#include "ranks.h"

#include "alloc.h"
#include "error.h"

#include <stdlib.h>

typedef struct {
    double value;
    size_t index;
} item_t;

static int cmp_item(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    if (x->value < y->value)
        return -1;
    if (x->value > y->value)
        return 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int lux_centered_ranks(const double *x, size_t n, double *out)
{
    if (n == 0)
        return 0;
    if (n == 1) {
        out[0] = 0.0;
        return 0;
    }
    item_t *items = lux_malloc(n * sizeof *items);
    if (items == NULL)
        return LUX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        items[i].value = x[i];
        items[i].index = i;
    }
    qsort(items, n, sizeof *items, cmp_item);
    for (size_t r = 0; r < n; r++)
        out[items[r].index] = (double)r / (double)(n - 1) - 0.5;
    lux_free(items);
    return 0;
}
