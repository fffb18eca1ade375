/*
 * The node as a daemon (daemon.h): a session leader running a node's loop
 * in its main thread (so its workers' parent-death signal follows the daemon
 * itself), with its address in a file that drivers and `lux stop` read
 * (nodectl.c owns that file's format).
 */
#include "daemon.h"
#include "node.h"
#include "nodectl.h"
#include "storesize.h"

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

static int existing_node(const char *address_file)
{
    char addr[4096];
    if (lux_nodectl_read_address(address_file, addr, sizeof addr) != 0)
        return 0;
    return lux_nodectl_status(addr, 1.0, NULL) == 0;
}

static int serve(const lux_node_opts_t *opts, const char *address_file, int report_fd)
{
    /* Everything the daemon creates is its owner's alone: its sockets (who
     * can connect can stop the node and run code as its owner), the address
     * file, the workers' logs. */
    umask(077);
    lux_node_t *node = NULL;
    int rc = lux_node_new(opts, &node);
    char text[8192];
    if (rc == 0) {
        snprintf(text, sizeof text, "%s\n%s%s", lux_node_ipc_endpoint(node),
                 opts->endpoint ? opts->endpoint : "", opts->endpoint ? "\n" : "");
        rc = lux_nodectl_write_address(address_file, text);
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

int lux_daemon_start(const lux_daemon_opts_t *dopts, const char *address_file, int detach,
                     char *addr_out, size_t cap)
{
    char def[4096];
    if (address_file == NULL) {
        lux_nodectl_address_path(def, sizeof def);
        address_file = def;
    }
    if (addr_out != NULL && cap > 0)
        addr_out[0] = '\0';
    if (dopts->listen != NULL && !lux_nodectl_listen_allowed(dopts->listen))
        return LUX_EINVAL;
    lux_node_opts_t node_opts = {.num_cpus = dopts->num_cpus,
                                 .num_gpus = dopts->num_gpus,
                                 .store_bytes = dopts->store_bytes,
                                 .log_dir = dopts->log_dir,
                                 .endpoint = dopts->listen,
                                 .num_prestart = dopts->num_prestart};
    const lux_node_opts_t *opts = &node_opts;
    if (existing_node(address_file))
        return LUX_EEXIST;
    /* A store that cannot be had is said here, while the caller's stderr
     * is still ours (a detached daemon's is /dev/null). */
    lux_memlimits_t limits;
    lux_memlimits_read(NULL, &limits);
    char err[2048];
    if (lux_storesize_check(dopts->store_bytes ? dopts->store_bytes
                                               : lux_storesize_default(&limits),
                            &limits, err, sizeof err) != 0) {
        lux_log_error("%s", err);
        return LUX_ENOMEM;
    }
    if (!detach)
        return serve(opts, address_file, -1);
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
