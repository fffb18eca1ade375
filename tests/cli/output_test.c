/* Tests of what the read-side commands (`lux status`, `lux best`,
 * `lux export`, `lux plot`) do with their output and with damaged stores:
 * write errors are failures, export targets that are not regular files are
 * written to and never replaced, unreadable rows are named, missing
 * checkpoints are warned about, dead drivers are told apart from running
 * ones, and nothing from the store reaches a terminal unsanitised. Run on
 * the real binary against stores built through the store API. */
#include "test.h"

#include "error.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs lux with `args` (NULL-terminated, without the program name), its
 * standard output opened from `stdout_path` for writing (lux_test_spawn
 * cannot redirect it), its standard error collected into *err (free()).
 * The child runs in its own process group, which is killed after
 * `timeout_s`. Returns the exit code, 128+signal, or -1 on a timeout. */
static int run_lux_to(const char *stdout_path, const char *const *args, double timeout_s,
                      char **err)
{
    int pipefd[2];
    LUX_CHECK_INT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    const char *argv[64] = {lux_test_lux_binary()};
    size_t n = 1;
    while (args[n - 1] != NULL && n < 63) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(stdout_path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(pipefd[1], STDERR_FILENO) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid);
    close(pipefd[1]);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    LUX_CHECK(buf != NULL);
    double deadline = lux_test_now() + timeout_s;
    int timed_out = 0;
    for (;;) {
        double left = deadline - lux_test_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        if (len + 1024 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            LUX_CHECK(buf != NULL);
        }
        ssize_t r = read(pipefd[0], buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(pipefd[0]);
    buf[len] = '\0';
    *err = buf;
    if (timed_out)
        kill(-pid, SIGKILL);
    int status = 0;
    LUX_CHECK_INT_EQ(waitpid(pid, &status, 0), pid);
    if (timed_out)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_lux(char **out, char **err, const char *const *args)
{
    char *env[] = {"COLUMNS=200", NULL};
    return lux_test_lux(args, env, 20, out, err);
}

/* An experiment "outexp" of two trials with three results each (reward
 * 1, 2, 3 and 10, 20, 30) and a checkpoint of the better one registered at
 * iteration 3, its directory created. */
static void build_experiment(const char *dir)
{
    lux_store_t *s = NULL;
    char e[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, e, sizeof e));
    lux_store_experiment_t exp = {
        .name = "outexp", .config_json = "{}", .metric = "reward", .mode = "max"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    LUX_CHECK_OK(lux_store_begin(s));
    for (int t = 0; t < 2; t++) {
        char id[32], m[256], cfg[64];
        snprintf(id, sizeof id, "outexp_%05d", t);
        snprintf(cfg, sizeof cfg, "{\"lr\":%g}", t == 0 ? 0.1 : 0.01);
        lux_store_trial_t tr = {.trial_id = id, .config_json = cfg};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        for (int it = 1; it <= 3; it++) {
            snprintf(m, sizeof m, "{\"reward\":%d,\"training_iteration\":%d,\"note\":\"n%d\"}",
                     (t == 0 ? 1 : 10) * it, it, it);
            LUX_CHECK_OK(lux_store_result_add(s, id, it, it * 0.5, m));
        }
        tr.status = LUX_TRIAL_TERMINATED;
        tr.training_iteration = 3;
        tr.time_total_s = 1.5;
        tr.last_result_json = m;
        LUX_CHECK_OK(lux_store_trial_update(s, &tr));
    }
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "outexp_00001", 3,
                                          "trials/outexp_00001/checkpoint_000003", 0, 0, 10));
    LUX_CHECK_OK(lux_store_commit(s));
    LUX_CHECK_OK(lux_store_experiment_set_status(s, "FINISHED", 0));
    lux_store_close(&s);
    char path[4096];
    snprintf(path, sizeof path, "%s/trials", dir);
    LUX_CHECK_INT_EQ(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/trials/outexp_00001", dir);
    LUX_CHECK_INT_EQ(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/trials/outexp_00001/checkpoint_000003", dir);
    LUX_CHECK_INT_EQ(mkdir(path, 0777), 0);
}

/* ---- 1. write errors on standard output ------------------------------------ */

LUX_TEST(write_errors_on_standard_output_fail_the_command)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    static const char *const cmds[][6] = {
        {"status", NULL},
        {"best", NULL},
        {"best", "--json", NULL},
        {"status", "--width", "-3", NULL}, /* a usage error keeps its own code */
    };
    static const int codes[] = {1, 1, 1, 2};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *args[8] = {cmds[i][0], dir};
        for (size_t k = 1; cmds[i][k] != NULL; k++)
            args[k + 1] = cmds[i][k];
        char *err;
        int rc = run_lux_to("/dev/full", args, 20, &err);
        LUX_CHECK_MSG(rc == codes[i], "lux %s %s > /dev/full exited %d, expected %d; stderr:\n%s",
                      cmds[i][0], cmds[i][1] ? cmds[i][1] : "", rc, codes[i], err);
        if (codes[i] == 1) {
            LUX_CHECK_CONTAINS(err, "cannot write to standard output: No space left on device");
            LUX_CHECK(strncmp(err, "lux ", 4) == 0);
        }
        free(err);
    }
    /* The same commands to /dev/null succeed: it is the failure that fails. */
    char *err;
    LUX_CHECK_INT_EQ(run_lux_to("/dev/null", (const char *const[]){"status", dir, NULL}, 20, &err),
                     0);
    LUX_CHECK_STR_EQ(err, "");
    free(err);
    LUX_CHECK_INT_EQ(run_lux_to("/dev/full", (const char *const[]){"--help", NULL}, 20, &err), 1);
    LUX_CHECK_CONTAINS(err, "lux: cannot write to standard output");
    free(err);
}

/* ---- 2. export targets ------------------------------------------------------ */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    LUX_CHECK_MSG(f != NULL, "cannot open %s: %s", path, strerror(errno));
    char *buf = calloc(1, 1 << 16);
    LUX_CHECK(buf != NULL);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A character device node in the case's directory (as root; the same node
 * as /dev/null or /dev/full), so that a lux that replaced it could only
 * damage its own copy. Without the right to make one, the real device,
 * which such a lux could not replace either. */
static const char *device(char *buf, size_t len, const char *name, unsigned minor)
{
    snprintf(buf, len, "%s/%s", lux_test_tmpdir(), name);
    if (mknod(buf, S_IFCHR | 0666, makedev(1, minor)) != 0)
        snprintf(buf, len, "/dev/%s", name);
    return buf;
}

static int is_char_device(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

/* Nothing but the expected entries is left in dir (no temporaries). */
static void check_entries(const char *dir, int expected)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq %d", dir, expected);
    LUX_CHECK_MSG(system(cmd) == 0, "%s does not hold exactly %d entries", dir, expected);
}

LUX_TEST(export_writes_to_stdout_devices_and_links_without_replacing_them)
{
    const char *dir = lux_test_tmpdir();
    char exp[4096], path[4096], link[4096], dev[4096];
    snprintf(exp, sizeof exp, "%s/exp", dir);
    build_experiment(exp);
    char *out, *err;

    /* "-": standard output, no file named "-". */
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", exp, "--csv", "-", NULL}),
                     0);
    LUX_CHECK_MSG(strncmp(out, "\"trial_id\",\"training_iteration\",", 32) == 0, "stdout: %s", out);
    LUX_CHECK_CONTAINS(out, "\n\"outexp_00001\",");
    LUX_CHECK_STR_EQ(err, "");
    LUX_CHECK(access("-", F_OK) != 0);
    char *expected = out;
    free(err);

    /* A symbolic link to a regular file: the file is replaced, the link kept. */
    snprintf(path, sizeof path, "%s/real.csv", dir);
    snprintf(link, sizeof link, "%s/link.csv", dir);
    FILE *f = fopen(path, "w");
    LUX_CHECK(f != NULL);
    fputs("old\n", f);
    fclose(f);
    LUX_CHECK_INT_EQ(symlink("real.csv", link), 0);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", exp, "--csv", link, NULL}),
                     0);
    free(out);
    free(err);
    struct stat st;
    LUX_CHECK_INT_EQ(lstat(link, &st), 0);
    LUX_CHECK(S_ISLNK(st.st_mode));
    char *text = read_all(path);
    LUX_CHECK_STR_EQ(text, expected);
    free(text);

    /* A device: written to, never replaced. /dev/null takes it all. */
    device(dev, sizeof dev, "null", 3);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", exp, "--csv", dev, NULL}),
                     0);
    LUX_CHECK_STR_EQ(err, "");
    free(out);
    free(err);
    LUX_CHECK(is_char_device(dev));
    /* A link to a device is written through, and stays a link. */
    snprintf(link, sizeof link, "%s/null-link", dir);
    LUX_CHECK_INT_EQ(symlink(dev, link), 0);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", exp, "--csv", link, NULL}),
                     0);
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(lstat(link, &st), 0);
    LUX_CHECK(S_ISLNK(st.st_mode));
    LUX_CHECK(is_char_device(dev));

    /* /dev/full: the write error is an error, and the device stays. */
    device(dev, sizeof dev, "full", 7);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", exp, "--csv", dev, NULL}),
                     1);
    LUX_CHECK_CONTAINS(err, "lux export: cannot write ");
    LUX_CHECK_CONTAINS(err, "No space left on device");
    free(out);
    free(err);
    LUX_CHECK(is_char_device(dev));
    /* So is "-" onto a full standard output. */
    LUX_CHECK_INT_EQ(
        run_lux_to("/dev/full", (const char *const[]){"export", exp, "--csv", "-", NULL}, 20, &err),
        1);
    LUX_CHECK_CONTAINS(err, "lux export: cannot write standard output: No space left on device");
    LUX_CHECK(strstr(err, "lux: ") == NULL); /* reported once */
    free(err);

    /* A directory is refused, and nothing is left in it. */
    snprintf(path, sizeof path, "%s/out", dir);
    LUX_CHECK_INT_EQ(mkdir(path, 0777), 0);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", exp, "--csv", path, NULL}),
                     2);
    LUX_CHECK_CONTAINS(err, "is a directory; give --csv a file name, such as ");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(stat(path, &st), 0);
    LUX_CHECK(S_ISDIR(st.st_mode));
    check_entries(path, 0);
    /* exp, real.csv, link.csv, null-link, out and the two devices (as root). */
    check_entries(dir, 5 + (strncmp(dev, "/dev/", 5) != 0 ? 2 : 0));
    free(expected);
}

/* ---- 3. result rows that no longer parse -------------------------------------- */

static void damage(const char *dir, const char *sql)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/experiment.db", dir);
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    LUX_CHECK_MSG(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    LUX_CHECK_INT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

LUX_TEST(export_and_plot_name_a_result_row_that_does_not_parse)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    char csv[4096];
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    char *out, *err;
    damage(dir, "UPDATE results SET metrics = '{not json' WHERE trial_id = 'outexp_00001' AND "
                "training_iteration = 2");
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", csv, NULL}),
                     1);
    LUX_CHECK_CONTAINS(err, "lux export: ");
    LUX_CHECK_CONTAINS(err, "the metrics of trial outexp_00001 at iteration 2 are not valid JSON");
    LUX_CHECK_CONTAINS(err, "repair or delete that row of the results table");
    LUX_CHECK(access(csv, F_OK) != 0); /* no partial export */
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", "-", NULL}),
                     1);
    LUX_CHECK_CONTAINS(err, "trial outexp_00001 at iteration 2");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err, (const char *const[]){"plot", dir, "--format", "svg", NULL}), 1);
    LUX_CHECK_CONTAINS(err, "lux plot: ");
    LUX_CHECK_CONTAINS(err,
                       "the metrics of trial outexp_00001 at iteration 2 are not a JSON object");
    LUX_CHECK_CONTAINS(err, "plot again");
    free(out);
    free(err);

    /* Valid JSON that is no object is no result either. */
    damage(dir, "UPDATE results SET metrics = '[1,2]' WHERE trial_id = 'outexp_00001' AND "
                "training_iteration = 2");
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", csv, NULL}),
                     1);
    LUX_CHECK_CONTAINS(err,
                       "the metrics of trial outexp_00001 at iteration 2 are not a JSON object");
    free(out);
    free(err);

    /* --per trial reads the trials' last results. */
    damage(dir, "UPDATE trials SET last_result = '{\"reward\":' WHERE trial_id = 'outexp_00000'");
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err,
                (const char *const[]){"export", dir, "--csv", csv, "--per", "trial", NULL}),
        1);
    LUX_CHECK_CONTAINS(err, "the last result of trial outexp_00000 is not a JSON object");
    free(out);
    free(err);
}

/* ---- 4. a missing checkpoint ------------------------------------------------------ */

LUX_TEST(best_warns_when_its_checkpoint_is_gone)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"best", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "trial_id: outexp_00001\n");
    LUX_CHECK_CONTAINS(out, "/trials/outexp_00001/checkpoint_000003\n");
    LUX_CHECK_STR_EQ(err, "");
    free(out);
    free(err);
    char path[4096];
    snprintf(path, sizeof path, "%s/trials/outexp_00001/checkpoint_000003", dir);
    LUX_CHECK_INT_EQ(rmdir(path), 0);
    for (int as_json = 0; as_json < 2; as_json++) {
        LUX_CHECK_INT_EQ(
            run_lux(&out, &err,
                    (const char *const[]){"best", dir, as_json ? "--json" : NULL, NULL}),
            0);
        LUX_CHECK_CONTAINS(out, "outexp_00001");
        LUX_CHECK(strstr(out, "warning") == NULL); /* stdout stays the answer */
        LUX_CHECK_CONTAINS(err, "lux best: warning: the checkpoint of trial outexp_00001, ");
        LUX_CHECK_CONTAINS(err, path);
        LUX_CHECK_CONTAINS(err, "is missing (No such file or directory)");
        LUX_CHECK(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
        free(out);
        free(err);
    }
}

/* ---- 5. a driver that died -------------------------------------------------------- */

/* A child process opens the store as a driver does, stores a RUNNING
 * experiment and a trial, says so through a pipe and waits to be killed. */
static pid_t start_driver(const char *dir, const char *name)
{
    int ready[2];
    LUX_CHECK_INT_EQ(pipe(ready), 0);
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        lux_store_t *s = NULL;
        lux_store_experiment_t exp = {.name = name, .metric = "reward", .mode = "max"};
        lux_store_trial_t tr = {.trial_id = "dead_00000", .config_json = "{\"lr\":0.1}"};
        if (lux_store_open(dir, &s, NULL, 0) != 0 || lux_store_experiment_put(s, &exp) != 0 ||
            lux_store_trial_add(s, &tr) != 0 ||
            lux_store_trial_set_status(s, "dead_00000", LUX_TRIAL_RUNNING, NULL) != 0)
            _exit(3);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c = 0;
    LUX_CHECK_INT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

LUX_TEST(status_shows_a_run_whose_driver_died_as_stopped)
{
    const char *dir = lux_test_tmpdir();
    pid_t pid = start_driver(dir, "dead");
    char *out, *err, want[4400];
    /* While the driver lives, the experiment is running. */
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "): RUNNING, 1 trials, 0 results\n");
    free(out);
    free(err);
    kill(pid, SIGKILL);
    int st = 0;
    LUX_CHECK_INT_EQ(waitpid(pid, &st, 0), pid);
    LUX_CHECK(WIFSIGNALED(st));
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    snprintf(want, sizeof want,
             "): stopped (driver pid %ld is gone; resume with lux run --resume %s), 1 trials",
             (long)pid, dir);
    LUX_CHECK_CONTAINS(out, want);
    free(out);
    free(err);
    /* A resumed driver runs again; one that closes the store cleanly leaves
     * what it stored. */
    lux_store_t *s = NULL;
    char e[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, e, sizeof e));
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "): RUNNING, 1 trials");
    free(out);
    free(err);
    lux_store_close(&s);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "): RUNNING, 1 trials");
    free(out);
    free(err);
}

/* ---- 6. terminal escapes from the experiment ------------------------------------ */

static void check_no_controls(const char *what, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        int c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        LUX_CHECK_MSG(!((*p < 0x20 && *p != '\n') || *p == 0x7f || c1),
                      "%s holds control byte 0x%02x at %ld:\n%s", what, *p,
                      (long)(p - (const unsigned char *)text), text);
    }
}

LUX_TEST(escapes_in_names_keys_and_errors_never_reach_the_terminal)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = NULL;
    char e[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, e, sizeof e));
    lux_store_experiment_t exp = {.name = "clear\x1b[2J\a\xc2\x9b"
                                          "2Jname",
                                  .metric = "reward",
                                  .mode = "max",
                                  .status = "FINISHED"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    static const char *const ids[] = {"esc\x1b[2J\a_00000", "esc_00001"};
    for (int t = 0; t < 2; t++) {
        lux_store_trial_t tr = {.trial_id = ids[t],
                                .config_json = t == 0 ? "{\"k\\u001b[2J\\u0007ey\":1,\"lr\":0.5}"
                                                      : "{\"k\\u001b[2J\\u0007ey\":2,\"lr\":0.1}"};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        LUX_CHECK_OK(
            lux_store_result_add(s, ids[t], 1, 1.0, t == 0 ? "{\"reward\":5}" : "{\"reward\":1}"));
        tr.status = t == 0 ? LUX_TRIAL_ERROR : LUX_TRIAL_TERMINATED;
        tr.error = t == 0 ? "boom\x1b[2J\a\x7f done" : NULL;
        tr.training_iteration = 1;
        tr.last_result_json = t == 0 ? "{\"reward\":5}" : "{\"reward\":1}";
        LUX_CHECK_OK(lux_store_trial_update(s, &tr));
    }
    lux_store_close(&s);

    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    check_no_controls("lux status", out);
    LUX_CHECK_CONTAINS(out, "Experiment: clear [2J  2Jname (");
    LUX_CHECK_CONTAINS(out, "k [2J ey");       /* the column of the key */
    LUX_CHECK_CONTAINS(out, "esc [2J _00000"); /* the trial's row */
    LUX_CHECK_CONTAINS(out, "Trial esc [2J _00000 failed: boom [2J   done");
    free(out);
    free(err);

    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"best", dir, NULL}), 0);
    check_no_controls("lux best", out);
    LUX_CHECK_CONTAINS(out, "trial_id: esc [2J _00000\n");
    free(out);
    free(err);

    damage(dir, "UPDATE results SET metrics = 'x' WHERE training_iteration = 1 AND trial_id "
                "LIKE 'esc_%_00000'");
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", "-", NULL}),
                     1);
    check_no_controls("lux export's message", err);
    LUX_CHECK_CONTAINS(err, "the metrics of trial esc [2J _00000 at iteration 1");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"plot", dir, NULL}), 1);
    check_no_controls("lux plot's message", err);
    LUX_CHECK_CONTAINS(err, "trial esc [2J _00000 at iteration 1");
    free(out);
    free(err);
}

/* ---- 7. numbers in CSV ------------------------------------------------------------- */

LUX_TEST(export_writes_numbers_bare_and_quotes_the_rest)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", "-", NULL}),
                     0);
    LUX_CHECK_CONTAINS(out, "\"trial_id\",\"training_iteration\",\"time_total_s\",\"reward\",");
    /* outexp_00001 at iteration 2: reward 20, time 1, note "n2", lr 0.01. */
    LUX_CHECK_CONTAINS(out, "\n\"outexp_00001\",2,1,20,\"n2\",0.01\n");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err,
                (const char *const[]){"export", dir, "--csv", "-", "--per", "trial", NULL}),
        0);
    LUX_CHECK_CONTAINS(out, "\n\"outexp_00000\",\"TERMINATED\",3,1.5,0,,");
    free(out);
    free(err);
}
