/*
 * The object store's size (runtime/storesize.h): the default follows a
 * cgroup memory limit, and a store that cannot be had fails lux_init and
 * lux start at once with a message naming the size, the limit and the
 * option, instead of a crash at the first large put.
 */
#include "runtime_helpers.h"
#include "test.h"

#include "error.h"
#include "storesize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    LUX_CHECK_MSG(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

LUX_TEST(default_store_follows_the_cgroup_limit)
{
    lux_memlimits_t l = {.physical = 10ull << 30};
    LUX_CHECK_INT_EQ(lux_storesize_default(&l), (10ull << 30) / 10 * 3);
    l.cgroup = 2ull << 30;
    LUX_CHECK_INT_EQ(lux_storesize_default(&l), (2ull << 30) / 10 * 3);

    /* A fake cgroup file system: v2's memory.max at the root of the
     * hierarchy (a container's view), then v1's memory.limit_in_bytes. */
    const char *root = lux_test_tmpdir();
    char v1[4200];
    snprintf(v1, sizeof v1, "%s/memory", root);
    LUX_CHECK_INT_EQ(mkdir(v1, 0700), 0);
    lux_memlimits_t r;
    lux_memlimits_read(root, &r);
    LUX_CHECK(r.physical > (1ull << 30));
    LUX_CHECK_INT_EQ(r.cgroup, 0); /* no files: no limit */
    LUX_CHECK_INT_EQ(lux_storesize_default(&r), r.physical / 10 * 3);

    write_file(root, "memory.max", "max\n");
    lux_memlimits_read(root, &r);
    LUX_CHECK_INT_EQ(r.cgroup, 0);

    write_file(root, "memory.max", "1073741824\n");
    lux_memlimits_read(root, &r);
    LUX_CHECK_INT_EQ(r.cgroup, 1ull << 30);
    LUX_CHECK_CONTAINS(r.cgroup_file, "memory.max");
    LUX_CHECK_INT_EQ(lux_storesize_default(&r), (1ull << 30) / 10 * 3);

    write_file(v1, "memory.limit_in_bytes", "536870912\n");
    lux_memlimits_read(root, &r);
    LUX_CHECK_INT_EQ(r.cgroup, 512ull << 20); /* the tighter one */
    LUX_CHECK_CONTAINS(r.cgroup_file, "memory.limit_in_bytes");

    /* v1's "unlimited" is a huge number: no limit. */
    write_file(v1, "memory.limit_in_bytes", "9223372036854771712\n");
    write_file(root, "memory.max", "max\n");
    lux_memlimits_read(root, &r);
    LUX_CHECK_INT_EQ(r.cgroup, 0);
}

LUX_TEST(store_check_names_size_limit_and_option)
{
    lux_memlimits_t l = {.physical = 8ull << 30, .cgroup = 1ull << 30};
    snprintf(l.cgroup_file, sizeof l.cgroup_file, "/sys/fs/cgroup/memory.max");
    char err[2048];
    LUX_CHECK_OK(lux_storesize_check(1ull << 30, &l, err, sizeof err));
    LUX_CHECK_ERR(lux_storesize_check(2ull << 30, &l, err, sizeof err), LUX_ENOMEM);
    LUX_CHECK_CONTAINS(err, "2.0 GiB (2147483648 bytes) was asked for");
    LUX_CHECK_CONTAINS(err, "cgroup limit 1.0 GiB (1073741824 bytes) in /sys/fs/cgroup/memory.max");
    LUX_CHECK_CONTAINS(err, "object_store_bytes");
    LUX_CHECK_CONTAINS(err, "--object-store-memory");
}

/* A private node whose store is larger than the machine fails lux_init at
 * once, saying why on stderr. */
LUX_TEST(lux_init_refuses_a_store_it_cannot_have)
{
    lux_memlimits_t l;
    lux_memlimits_read(NULL, &l);
    LUX_CHECK(l.physical > 0);
    char log[4200];
    snprintf(log, sizeof log, "%s/stderr.txt", lux_test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    LUX_CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    lux_init_opts_t o = {.num_cpus = 1,
                         .num_prestart = -1,
                         .log_dir = lux_test_tmpdir(),
                         .object_store_bytes = (size_t)(l.physical * 2)};
    int rc = lux_init(&o);
    if (rc == 0)
        lux_shutdown();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char err[4096];
    FILE *f = fopen(log, "r");
    LUX_CHECK(f != NULL);
    size_t n = fread(err, 1, sizeof err - 1, f);
    fclose(f);
    err[n] = '\0';
    LUX_CHECK_ERR(rc, LUX_ENOMEM);
    LUX_CHECK_CONTAINS(err, "was asked for");
    LUX_CHECK_CONTAINS(err, "physical memory");
    LUX_CHECK_CONTAINS(err, "--object-store-memory");
    /* A store that fits still works. */
    o.object_store_bytes = 64u << 20;
    LUX_CHECK_OK(lux_init(&o));
    lux_shutdown();
}
