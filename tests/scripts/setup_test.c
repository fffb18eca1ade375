/* Tests of scripts/setup: idempotence and what it would install. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_setup(const char *arg, char *const env[], char **out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/scripts/setup", lux_test_source_dir());
    char *argv[] = {"/bin/bash", path, (char *)arg, NULL};
    return lux_test_spawn(argv, env, NULL, 120, out, NULL);
}

/* Hash of the installed-package database, to prove a second run changes
 * nothing. */
static char *dpkg_state(void)
{
    char *argv[] = {"/bin/sh", "-c",
                    "dpkg-query -W -f='${Package} ${Version} ${Status}\\n' | md5sum", NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_spawn(argv, NULL, NULL, 60, &out, NULL), 0);
    return out;
}

LUX_TEST_T(second_run_changes_nothing, 200)
{
    char *out;
    /* The first run installs whatever is missing (the suite normally runs
     * after setup, so this is usually already a no-op). */
    int rc = run_setup(NULL, NULL, &out);
    LUX_CHECK_MSG(rc == 0, "setup failed (%d):\n%s", rc, out);
    free(out);
    char *before = dpkg_state();
    double t0 = lux_test_now();
    LUX_CHECK_INT_EQ(run_setup(NULL, NULL, &out), 0);
    double took = lux_test_now() - t0;
    LUX_CHECK_CONTAINS(out, "packages present");
    free(out);
    char *after = dpkg_state();
    LUX_CHECK_STR_EQ(before, after);
    LUX_CHECK_DBL(took, <, 2.0);
    free(before);
    free(after);
}

LUX_TEST(dry_run_names_missing_packages_only)
{
    char *env[] = {"LUX_SETUP_PACKAGES=bash lux-no-such-package-xyz", NULL};
    char *out;
    LUX_CHECK_INT_EQ(run_setup("--dry-run", env, &out), 0);
    LUX_CHECK_CONTAINS(out, "would run: apt-get update && apt-get install -y "
                            "--no-install-recommends lux-no-such-package-xyz");
    LUX_CHECK(strstr(out, " bash") == NULL);
    free(out);
}

LUX_TEST(list_and_bad_option)
{
    char *out;
    LUX_CHECK_INT_EQ(run_setup("--list", NULL, &out), 0);
    LUX_CHECK_CONTAINS(out, "libzmq3-dev\n");
    LUX_CHECK_CONTAINS(out, "libcsv-dev\n");
    free(out);
    LUX_CHECK_INT_EQ(run_setup("--bogus", NULL, &out), 2);
    LUX_CHECK_CONTAINS(out, "unknown option '--bogus'");
    free(out);
}
