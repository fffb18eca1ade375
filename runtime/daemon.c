/*
 * The node as a daemon (`lux start`): a session leader running a node's loop
 * in its main thread (so its workers' parent-death signal follows the daemon
 * itself), with its address in a file that drivers and `lux stop` read.
 */
#include "node.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void lux_node_address_path(char *buf, size_t cap)
{
    const char *home = getenv("LUX_HOME");
    if (home && *home)
        snprintf(buf, cap, "%s/node", home);
    else
        snprintf(buf, cap, "%s/.lux/node", getenv("HOME") ? getenv("HOME") : "/tmp");
}

static int write_address(const char *path, const char *text)
{
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0700);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return LUX_EIO;
    int ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return LUX_EIO;
    }
    return 0;
}

static int existing_node(const char *address_file)
{
    FILE *f = fopen(address_file, "r");
    if (f == NULL)
        return 0;
    char addr[4096];
    int got = fgets(addr, sizeof addr, f) != NULL;
    fclose(f);
    if (!got)
        return 0;
    addr[strcspn(addr, "\r\n")] = '\0';
    return lux_node_request(addr, LUX_MSG_STATUS, 1.0, NULL) == 0;
}

static int serve(const lux_node_opts_t *opts, const char *address_file, int report_fd)
{
    lux_node_t *node = NULL;
    int rc = lux_node_new(opts, &node);
    char text[8192];
    if (rc == 0) {
        snprintf(text, sizeof text, "%s\n%s%s", lux_node_ipc_endpoint(node),
                 opts->endpoint ? opts->endpoint : "", opts->endpoint ? "\n" : "");
        rc = write_address(address_file, text);
    }
    if (report_fd >= 0) {
        char msg[8300];
        int len = snprintf(msg, sizeof msg, "%d\n%s", rc, rc == 0 ? text : "");
        if (write(report_fd, msg, (size_t)len) < 0)
            rc = rc ? rc : LUX_EIO;
        close(report_fd);
    }
    if (rc != 0) {
        lux_node_destroy(&node);
        return rc;
    }
    lux_log_info("node %ld listening at %s", (long)getpid(), lux_node_ipc_endpoint(node));
    lux_node_run(node);
    unlink(address_file);
    lux_node_destroy(&node);
    return 0;
}

int lux_node_daemon(const lux_node_opts_t *opts, const char *address_file, int detach,
                    char *addr_out, size_t cap)
{
    if (existing_node(address_file))
        return LUX_EEXIST;
    if (!detach) {
        if (addr_out && cap)
            addr_out[0] = '\0';
        return serve(opts, address_file, -1);
    }
    int fds[2];
    if (pipe(fds) != 0)
        return LUX_ESYS;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return LUX_ESYS;
    }
    if (pid == 0) {
        close(fds[0]);
        setsid();
        /* A grandchild runs the node, so the caller can reap its child now. */
        pid_t p2 = fork();
        if (p2 != 0)
            _exit(p2 < 0 ? 1 : 0);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
            if (devnull > 2)
                close(devnull);
        }
        _exit(serve(opts, address_file, fds[1]) == 0 ? 0 : 1);
    }
    close(fds[1]);
    waitpid(pid, NULL, 0);
    char buf[8300];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fds[0]);
    buf[len] = '\0';
    if (len == 0)
        return LUX_ESYS;
    int rc = atoi(buf);
    if (rc == 0 && addr_out != NULL) {
        const char *nl = strchr(buf, '\n');
        snprintf(addr_out, cap, "%s", nl ? nl + 1 : "");
    }
    return rc;
}
