/*
 * The registry of trainable classes: a small fixed array, filled by main()
 * before any experiment starts and read-only afterwards (so no locking).
 */
#include "trainable.h"

#include "error.h"

#include <string.h>
#include <time.h>

#define MAX_CLASSES 64

static const lux_trainable_class_t *classes[MAX_CLASSES];
static size_t class_count;

int lux_trainable_register(const lux_trainable_class_t *cls)
{
    if (cls == NULL || cls->name == NULL || cls->setup == NULL || cls->step == NULL ||
        cls->save == NULL || cls->restore == NULL || cls->cleanup == NULL)
        return LUX_EINVAL;
    if (lux_trainable_find(cls->name) != NULL)
        return LUX_EEXIST;
    if (class_count >= MAX_CLASSES)
        return LUX_EFULL;
    classes[class_count++] = cls;
    return 0;
}

const lux_trainable_class_t *lux_trainable_find(const char *name)
{
    for (size_t i = 0; i < class_count; i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}

size_t lux_trainable_names(const char **names, size_t max)
{
    for (size_t i = 0; i < class_count && i < max; i++)
        names[i] = classes[i]->name;
    return class_count;
}

void lux_trainable_registry_clear(void)
{
    class_count = 0;
}

int lux_trainable_autofill(json_t *result, long training_iteration, double time_this_iter_s,
                           double time_total_s, const char *trial_id)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int rc = 0;
    rc |= json_object_set_new(result, "training_iteration", json_integer(training_iteration));
    rc |= json_object_set_new(result, "time_this_iter_s", json_real(time_this_iter_s));
    rc |= json_object_set_new(result, "time_total_s", json_real(time_total_s));
    rc |= json_object_set_new(result, "timestamp", json_integer((json_int_t)ts.tv_sec));
    if (trial_id != NULL)
        rc |= json_object_set_new(result, "trial_id", json_string(trial_id));
    return rc ? LUX_ENOMEM : 0;
}
