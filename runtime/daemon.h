/*
 * The node as a daemon (`lux start`): a node's loop run by a session leader
 * that outlives the command, with its address in the address file
 * (nodectl.h) for drivers and `lux stop`. Public so the command line needs
 * no internal header; the node itself stays behind node.h.
 */
#ifndef LUX_RUNTIME_DAEMON_H
#define LUX_RUNTIME_DAEMON_H

#include <stddef.h>

typedef struct {
    double num_cpus;     /* 0: every online core */
    double num_gpus;     /* whole GPUs */
    size_t store_bytes;  /* 0: 30% of memory or of the cgroup limit (storesize.h) */
    const char *log_dir; /* NULL: a fresh directory in the runtime directory (rundir.h) */
    const char *listen;  /* extra endpoint (ipc://PATH), or NULL */
    int num_prestart;    /* workers started at once: -1 none, 0 one per CPU */
} lux_daemon_opts_t;

/* Runs a node as a daemon. With detach, forks a session leader that runs
 * the node and returns in the caller once the node listens (0) or failed;
 * without, runs the node in this process until it is stopped. The node's
 * address (its ipc:// endpoint, then opts->listen if any, one per line) is
 * written to address_file (NULL: the default path) while it runs and into
 * addr_out (may be NULL) on return. Returns 0; LUX_EEXIST when a node
 * already answers at address_file; LUX_ENOMEM (with a message on stderr)
 * when the object store asked for is larger than the memory the process may
 * have or cannot be had; LUX_EINVAL when opts->listen is not
 * allowed (lux_nodectl_listen_allowed); LUX_ESYS, LUX_EIO or
 * another LUX_E* code when the node cannot start. Blocks until the node
 * listens (detach) or stops (no detach). */
int lux_daemon_start(const lux_daemon_opts_t *opts, const char *address_file, int detach,
                     char *addr_out, size_t cap);

#endif
