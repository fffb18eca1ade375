/*
 * Name suggestions by edit distance. Inputs are short (command and key
 * names), so the O(len^2) dynamic programme with two rows is plenty.
 */
#include "suggest.h"

#include <string.h>

#define MAXLEN 255

int lux_edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, MAXLEN), lb = strnlen(b, MAXLEN);
    int prev[MAXLEN + 1], cur[MAXLEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *lux_suggest(const char *name, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    size_t len = strlen(name);
    int limit = (int)(len / 3) > 2 ? (int)(len / 3) : 2;
    for (size_t i = 0; i < n; i++) {
        if (candidates[i] == NULL)
            continue;
        int d = lux_edit_distance(name, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (best != NULL && best_d <= limit)
        return best;
    /* A prefix ("opt" for "optimize") is a plausible abbreviation. */
    if (len > 0)
        for (size_t i = 0; i < n; i++)
            if (candidates[i] != NULL && strncmp(candidates[i], name, len) == 0)
                return candidates[i];
    return NULL;
}
