/* Tests of checkpoints on disk: layout, atomic replacement, torn and
 * leftover files, a SIGKILL during a write, and retention. */
#include "test.h"

#include "alloc.h"
#include "checkpoint.h"
#include "error.h"
#include "store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int exists(const char *dir, const char *rel)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

/* Number of entries in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

LUX_TEST(relpath_layout_and_bad_ids)
{
    char buf[256];
    LUX_CHECK_OK(lux_checkpoint_relpath("cartpole_00003", 10, buf, sizeof buf));
    LUX_CHECK_STR_EQ(buf, "trials/cartpole_00003/checkpoint_000010");
    LUX_CHECK_ERR(lux_checkpoint_relpath("a/b", 1, buf, sizeof buf), LUX_EINVAL);
    LUX_CHECK_ERR(lux_checkpoint_relpath(".hidden", 1, buf, sizeof buf), LUX_EINVAL);
    LUX_CHECK_ERR(lux_checkpoint_relpath("", 1, buf, sizeof buf), LUX_EINVAL);
    LUX_CHECK_ERR(lux_checkpoint_relpath("t", 1, buf, 8), LUX_ERANGE);
}

LUX_TEST(write_read_round_trip_and_replace)
{
    const char *dir = lux_test_tmpdir();
    unsigned char bytes[1000];
    for (int i = 0; i < 1000; i++)
        bytes[i] = (unsigned char)(i * 7);
    char *rel = NULL, err[512] = "";
    LUX_CHECK_OK(lux_checkpoint_write(dir, "t1", 3, bytes, sizeof bytes, "{\"score\":1.5}", &rel,
                                      err, sizeof err));
    LUX_CHECK_STR_EQ(rel, "trials/t1/checkpoint_000003");
    LUX_CHECK(exists(dir, "trials/t1/checkpoint_000003/checkpoint.bin"));
    LUX_CHECK(exists(dir, "trials/t1/checkpoint_000003/metadata.json"));
    void *back = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_checkpoint_read(dir, rel, &back, &len, err, sizeof err));
    LUX_CHECK_INT_EQ(len, sizeof bytes);
    LUX_CHECK(memcmp(back, bytes, len) == 0);
    lux_free(back);

    /* The caller's metadata is kept next to ours. */
    char meta[8192];
    snprintf(meta, sizeof meta, "%s/%s/metadata.json", dir, rel);
    json_t *m = json_load_file(meta, 0, NULL);
    LUX_CHECK(m != NULL);
    LUX_CHECK_NEAR(json_number_value(json_object_get(m, "score")), 1.5, 0);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(m, "size")), 1000);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(m, "trial_id")), "t1");
    json_decref(m);

    /* Same iteration again (a replay after resume): replaced whole. */
    LUX_CHECK_OK(lux_checkpoint_write(dir, "t1", 3, "new", 3, NULL, NULL, err, sizeof err));
    LUX_CHECK_OK(lux_checkpoint_read(dir, rel, &back, &len, err, sizeof err));
    LUX_CHECK_INT_EQ(len, 3);
    LUX_CHECK(memcmp(back, "new", 3) == 0);
    lux_free(back);
    char tdir[8192];
    snprintf(tdir, sizeof tdir, "%s/trials/t1", dir);
    LUX_CHECK_INT_EQ(count_prefixed(tdir, "."), 2); /* only . and .. */

    /* An empty checkpoint is a checkpoint. */
    LUX_CHECK_OK(lux_checkpoint_write(dir, "t1", 4, NULL, 0, NULL, NULL, err, sizeof err));
    LUX_CHECK_OK(
        lux_checkpoint_read(dir, "trials/t1/checkpoint_000004", &back, &len, err, sizeof err));
    LUX_CHECK_INT_EQ(len, 0);
    lux_free(back);

    LUX_CHECK_ERR(lux_checkpoint_write(dir, "t1", 5, "x", 1, "[1]", NULL, err, sizeof err),
                  LUX_EINVAL);
    LUX_CHECK_ERR(
        lux_checkpoint_read(dir, "trials/t1/checkpoint_000009", &back, &len, err, sizeof err),
        LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "checkpoint_000009");
    lux_free(rel);
}

LUX_TEST(torn_and_leftover_checkpoints_are_never_read)
{
    const char *dir = lux_test_tmpdir();
    char err[512] = "";
    LUX_CHECK_OK(lux_checkpoint_write(dir, "t1", 1, "good-old", 8, NULL, NULL, err, sizeof err));

    /* A crash mid-write of iteration 2 leaves only a hidden temporary with a
     * partial file: iteration 2 does not exist for readers. */
    char tmp[8192], f[8300];
    snprintf(tmp, sizeof tmp, "%s/trials/t1/.checkpoint_000002.tmp.999.1", dir);
    LUX_CHECK_INT_EQ(mkdir(tmp, 0777), 0);
    snprintf(f, sizeof f, "%s/checkpoint.bin", tmp);
    FILE *fp = fopen(f, "w");
    fputs("half", fp);
    fclose(fp);
    void *back = NULL;
    size_t len;
    LUX_CHECK_ERR(
        lux_checkpoint_read(dir, "trials/t1/checkpoint_000002", &back, &len, err, sizeof err),
        LUX_ENOENT);
    LUX_CHECK_OK(
        lux_checkpoint_read(dir, "trials/t1/checkpoint_000001", &back, &len, err, sizeof err));
    LUX_CHECK(len == 8 && memcmp(back, "good-old", 8) == 0);
    lux_free(back);
    LUX_CHECK_ERR(lux_checkpoint_read(dir, "trials/t1/.checkpoint_000002.tmp.999.1", &back, &len,
                                      err, sizeof err),
                  LUX_EINVAL);

    /* The sweep at resume removes the temporary, nothing else. */
    long removed = -1;
    LUX_CHECK_OK(lux_checkpoint_sweep(dir, &removed, err, sizeof err));
    LUX_CHECK_INT_EQ(removed, 1);
    LUX_CHECK(!exists(dir, "trials/t1/.checkpoint_000002.tmp.999.1"));
    LUX_CHECK(exists(dir, "trials/t1/checkpoint_000001/checkpoint.bin"));

    /* Bytes that do not match the metadata (a torn or damaged file) are
     * reported, not returned. */
    snprintf(f, sizeof f, "%s/trials/t1/checkpoint_000001/checkpoint.bin", dir);
    LUX_CHECK_INT_EQ(truncate(f, 4), 0);
    LUX_CHECK_ERR(
        lux_checkpoint_read(dir, "trials/t1/checkpoint_000001", &back, &len, err, sizeof err),
        LUX_EIO);
    LUX_CHECK_CONTAINS(err, "corrupt");
    fp = fopen(f, "w");
    fputs("good-olX", fp); /* right size, wrong bytes */
    fclose(fp);
    LUX_CHECK_ERR(
        lux_checkpoint_read(dir, "trials/t1/checkpoint_000001", &back, &len, err, sizeof err),
        LUX_EIO);
}

#define BIG (2u << 20)

LUX_TEST_T(sigkill_during_writes_leaves_old_or_new_never_torn, 30)
{
    const char *dir = lux_test_tmpdir();
    char err[512];
    unsigned char *buf = malloc(BIG);
    LUX_CHECK(buf != NULL);
    memset(buf, 'A', BIG);
    LUX_CHECK_OK(lux_checkpoint_write(dir, "t", 7, buf, BIG, NULL, NULL, err, sizeof err));
    for (int round = 0; round < 4; round++) {
        int fds[2];
        LUX_CHECK_INT_EQ(pipe(fds), 0);
        pid_t pid = fork();
        LUX_CHECK(pid >= 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed case */
            /* Rewrite iteration 7 over and over, alternating contents. */
            close(fds[0]);
            for (int i = 0;; i++) {
                memset(buf, i % 2 ? 'A' : 'B', BIG);
                if (lux_checkpoint_write(dir, "t", 7, buf, BIG, NULL, NULL, NULL, 0) != 0)
                    _exit(3);
                if (i == 1 && write(fds[1], "x", 1) != 1)
                    _exit(4);
            }
        }
        close(fds[1]);
        char c;
        LUX_CHECK_INT_EQ(read(fds[0], &c, 1), 1);
        close(fds[0]);
        usleep((useconds_t)(round * 7000));
        kill(pid, SIGKILL);
        int status;
        LUX_CHECK_INT_EQ(waitpid(pid, &status, 0), pid);
        LUX_CHECK(WIFSIGNALED(status));

        void *back = NULL;
        size_t len = 0;
        LUX_CHECK_OK(
            lux_checkpoint_read(dir, "trials/t/checkpoint_000007", &back, &len, err, sizeof err));
        LUX_CHECK_INT_EQ(len, BIG);
        unsigned char first = ((unsigned char *)back)[0];
        LUX_CHECK(first == 'A' || first == 'B');
        for (size_t i = 0; i < len; i += 4093)
            LUX_CHECK_INT_EQ(((unsigned char *)back)[i], first);
        lux_free(back);
        long removed;
        LUX_CHECK_OK(lux_checkpoint_sweep(dir, &removed, err, sizeof err));
        char tdir[8192];
        snprintf(tdir, sizeof tdir, "%s/trials/t", dir);
        LUX_CHECK_INT_EQ(count_prefixed(tdir, ".checkpoint_"), 0);
    }
    free(buf);
}

static void write_and_register(lux_store_t *s, const char *dir, const char *trial, long it,
                               int has_score, double score)
{
    char *rel = NULL, err[512];
    LUX_CHECK_OK(lux_checkpoint_write(dir, trial, it, "data", 4, NULL, &rel, err, sizeof err));
    LUX_CHECK_OK(lux_store_checkpoint_add(s, trial, it, rel, has_score, score, 4));
    lux_free(rel);
}

static int kept(lux_store_t *s, long it)
{
    json_t *list = NULL;
    LUX_CHECK_OK(lux_store_checkpoints(s, "t", 0, &list));
    size_t i;
    json_t *c;
    int found = 0;
    json_array_foreach(list, i, c)
    {
        if (json_integer_value(json_object_get(c, "training_iteration")) == it)
            found = 1;
    }
    json_decref(list);
    return found;
}

LUX_TEST(retention_by_score_keeps_best_pinned_and_latest)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, err, sizeof err));
    /* iterations 1..6 with scores; 3 has none. */
    static const double scores[] = {0, 5, 9, 0, 1, 7, 2};
    for (long it = 1; it <= 6; it++)
        write_and_register(s, dir, "t", it, it != 3, scores[it]);
    LUX_CHECK_OK(lux_store_checkpoint_pin(s, "t", 4, 1)); /* a PBT donor being read */
    lux_checkpoint_retention_t policy = {
        .num_to_keep = 2, .score_attribute = "episode_reward_mean", .score_mode = "max"};
    long deleted = -1;
    LUX_CHECK_OK(lux_store_begin(s));
    LUX_CHECK_OK(lux_checkpoint_retain(s, "t", &policy, &deleted, err, sizeof err));
    LUX_CHECK_OK(lux_store_commit(s));
    /* kept: 2 (9) and 5 (7) best, 4 pinned, 6 latest; gone: 1, 3 */
    LUX_CHECK_INT_EQ(deleted, 2);
    LUX_CHECK(kept(s, 2) && kept(s, 5) && kept(s, 4) && kept(s, 6));
    LUX_CHECK(!kept(s, 1) && !kept(s, 3));
    LUX_CHECK(!exists(dir, "trials/t/checkpoint_000001"));
    LUX_CHECK(!exists(dir, "trials/t/checkpoint_000003"));
    LUX_CHECK(exists(dir, "trials/t/checkpoint_000004/checkpoint.bin"));
    json_t *all = NULL;
    LUX_CHECK_OK(lux_store_checkpoints(s, "t", 1, &all));
    LUX_CHECK_INT_EQ(json_array_size(all), 6); /* deletions are recorded, not erased */
    json_decref(all);

    /* Unpinned, 4 goes at the next pass; min mode flips the ranking. */
    LUX_CHECK_OK(lux_store_checkpoint_pin(s, "t", 4, 0));
    policy.score_mode = "min";
    LUX_CHECK_OK(lux_checkpoint_retain(s, "t", &policy, &deleted, err, sizeof err));
    /* remaining 2 (9), 4 (1), 5 (7), 6 (2): min keeps 4 and 6 (6 is latest) */
    LUX_CHECK_INT_EQ(deleted, 2);
    LUX_CHECK(kept(s, 4) && kept(s, 6) && !kept(s, 2) && !kept(s, 5));
    lux_store_close(&s);
}

LUX_TEST(retention_by_recency_and_keep_all)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, err, sizeof err));
    for (long it = 1; it <= 5; it++)
        write_and_register(s, dir, "t", it * 10, 1, (double)(10 - it));
    long deleted = -1;
    lux_checkpoint_retention_t all = {.num_to_keep = 0};
    LUX_CHECK_OK(lux_checkpoint_retain(s, "t", &all, &deleted, err, sizeof err));
    LUX_CHECK_INT_EQ(deleted, 0);
    lux_checkpoint_retention_t recent = {.num_to_keep = 2};
    LUX_CHECK_OK(lux_checkpoint_retain(s, "t", &recent, &deleted, err, sizeof err));
    LUX_CHECK_INT_EQ(deleted, 3);
    LUX_CHECK(kept(s, 40) && kept(s, 50) && !kept(s, 10) && !kept(s, 30));
    lux_store_close(&s);
}
