/*
 * What docs/run.md promises about stopping `lux run`, checked where users
 * stop it: in a terminal. The run is started on a pseudo-terminal as the
 * foreground job of its own session, then stopped the way a user or a
 * supervisor stops it: the terminal's interrupt character (Ctrl-C, which the
 * tty driver turns into SIGINT for the whole foreground process group), or
 * SIGTERM to the whole process group (what `timeout` and `kill -TERM -PGID`
 * do). Either way the running trials are checkpointed and PAUSED (none in
 * ERROR), `lux run` exits 130, no worker is left behind, and `lux run
 * --resume` finishes every trial.
 */
#include "test.h"

#include <sqlite3.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Four cheap trials, two at a time, each long enough (a few seconds) to be
 * running when the signal comes, checkpointed at every iteration. */
static const char experiment[] = "name: intr\n"
                                 "trainable: cmaes\n"
                                 "env: CartPole-v1\n"
                                 "metric: episode_reward_mean\n"
                                 "mode: max\n"
                                 "num_samples: 4\n"
                                 "seed: 3\n"
                                 "max_concurrent_trials: 2\n"
                                 "stop: {training_iteration: 150}\n"
                                 "resources_per_trial: {cpu: 1}\n"
                                 "checkpoint: {frequency: 1}\n"
                                 "config: {popsize: 16, episodes_per_eval: 2}\n";

/* Counts the trials of the store at db by status ("RUNNING", "ERROR"...);
 * NULL counts them all. -1 when the store cannot be read (yet). */
static int count_trials(const char *db, const char *status)
{
    sqlite3 *s = NULL;
    if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s, 2000);
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(s, "select count(*) from trials where ?1 is null or status = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        if (status != NULL)
            sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(s);
    return n;
}

/* The trials' statuses, "trial_id STATUS" a line, for failure messages. */
static void trial_statuses(const char *db, char *buf, size_t cap)
{
    buf[0] = '\0';
    sqlite3 *s = NULL;
    if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s, "select trial_id, status from trials order by seq", -1, &st,
                               NULL) == SQLITE_OK) {
            size_t len = 0;
            while (sqlite3_step(st) == SQLITE_ROW && len < cap)
                len += (size_t)snprintf(buf + len, cap - len, "%s %s\n",
                                        (const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1));
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(s);
}

/* Processes named lux-worker in session sid (the run's session: workers
 * may leave the driver's process group, never its session). */
static int workers_in_session(pid_t sid)
{
    DIR *d = opendir("/proc");
    LUX_CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        /* pid (comm) state ppid pgrp session ... ; comm may hold spaces. */
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (open == NULL || close == NULL)
            continue;
        char state;
        long ppid, pgrp, session;
        if (sscanf(close + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &session) != 4)
            continue;
        if (state != 'Z' && session == (long)sid && close - open - 1 == 10 &&
            strncmp(open + 1, "lux-worker", 10) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Reads what the run wrote to its terminal (so it never blocks on a full
 * pty) for up to seconds, appending to buf. */
static void drain(int master, char *buf, size_t cap, size_t *len, double seconds)
{
    double end = lux_test_now() + seconds;
    for (;;) {
        double left = end - lux_test_now();
        if (left <= 0)
            return;
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        char chunk[4096];
        ssize_t r = read(master, chunk, sizeof chunk);
        if (r <= 0)
            return; /* EIO: the terminal's last writer is gone */
        size_t keep = (size_t)r;
        if (*len + keep >= cap) /* keep the tail */
            *len = 0;
        memcpy(buf + *len, chunk, keep);
        *len += keep;
        buf[*len] = '\0';
    }
}

/* Starts `lux run` on a new pseudo-terminal, waits until it has trials
 * running, stops it with `how` (0: the interrupt character typed on the
 * terminal; else a signal to the whole process group), then checks what a
 * user relies on and resumes the run to its end. */
static void interrupt_and_resume(int how)
{
    const char *dir = lux_test_tmpdir();
    const char *yaml = lux_test_write_tmp("x.yaml", experiment);
    char storage[4096], db[4200];
    snprintf(storage, sizeof storage, "%s/runs", dir);
    snprintf(db, sizeof db, "%s/intr/experiment.db", storage);
    const char *lux = lux_test_lux_binary();
    LUX_CHECK(lux != NULL);

    int master = -1;
    fflush(NULL);
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    LUX_CHECK_MSG(pid >= 0, "forkpty: %s", strerror(errno));
    if (pid == 0) {
        /* The harness may ignore or block signals; a shell would not. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execl(lux, lux, "run", yaml, "--storage", storage, (char *)NULL);
        _exit(127);
    }
    static char term[1 << 16];
    size_t tlen = 0;
    term[0] = '\0';

    /* Running: two trials RUNNING in the store, then a little longer so
     * they are in the middle of their work. */
    double deadline = lux_test_now() + 60;
    while (count_trials(db, "RUNNING") < 2 && lux_test_now() < deadline)
        drain(master, term, sizeof term, &tlen, 0.2);
    LUX_CHECK_MSG(count_trials(db, "RUNNING") >= 2, "no trials running after 60 s; terminal:\n%s",
                  term);
    drain(master, term, sizeof term, &tlen, 1.5);

    if (how == 0) {
        /* The run is the terminal's foreground process group: ^C reaches
         * every process in it, as when a user presses Ctrl-C. */
        LUX_CHECK_INT_EQ(tcgetpgrp(master), pid);
        LUX_CHECK_INT_EQ(write(master, "\x03", 1), 1);
    } else {
        LUX_CHECK_INT_EQ(kill(-pid, how), 0);
    }

    int status = 0;
    pid_t r = 0;
    deadline = lux_test_now() + 60;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && lux_test_now() < deadline)
        drain(master, term, sizeof term, &tlen, 0.2);
    if (r == 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        LUX_CHECK_MSG(0, "lux run did not stop within 60 s of the signal; terminal:\n%s", term);
    }
    drain(master, term, sizeof term, &tlen, 0.2);
    LUX_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 130,
                  "lux run ended with status 0x%x, expected exit 130; terminal:\n%s", status, term);

    /* No worker outlives the driver (they die with it). */
    deadline = lux_test_now() + 10;
    while (workers_in_session(pid) > 0 && lux_test_now() < deadline)
        usleep(50 * 1000);
    LUX_CHECK_INT_EQ(workers_in_session(pid), 0);
    close(master);

    char statuses[4096];
    trial_statuses(db, statuses, sizeof statuses);
    LUX_CHECK_MSG(count_trials(db, "ERROR") == 0,
                  "trials in ERROR after the interrupt:\n%s\nterminal:\n%s", statuses, term);
    LUX_CHECK_MSG(count_trials(db, "PAUSED") >= 1,
                  "no running trial was checkpointed and PAUSED:\n%s", statuses);
    LUX_CHECK_MSG(count_trials(db, "TERMINATED") < 4, "every trial finished before the signal:\n%s",
                  statuses);

    char run_dir[4200];
    snprintf(run_dir, sizeof run_dir, "%s/intr", storage);
    const char *args[] = {"run", "--resume", run_dir, NULL};
    char *out = NULL, *err = NULL;
    int rc = lux_test_lux(args, NULL, 150, &out, &err);
    trial_statuses(db, statuses, sizeof statuses);
    LUX_CHECK_MSG(rc == 0, "lux run --resume exited %d:\n%s\n%s\n%s", rc, out, err, statuses);
    LUX_CHECK_INT_EQ(count_trials(db, "TERMINATED"), 4);
    LUX_CHECK_INT_EQ(count_trials(db, NULL), 4);
    free(out);
    free(err);
}

/* Ctrl-C typed in the terminal. */
LUX_TEST_T(ctrl_c_in_terminal_pauses_trials, 240)
{
    interrupt_and_resume(0);
}

/* SIGTERM to the whole process group, as `timeout` sends it. */
LUX_TEST_T(sigterm_to_process_group_pauses_trials, 240)
{
    interrupt_and_resume(SIGTERM);
}

/* SIGINT to the whole process group (`kill -INT -PGID`). */
LUX_TEST_T(sigint_to_process_group_pauses_trials, 240)
{
    interrupt_and_resume(SIGINT);
}
