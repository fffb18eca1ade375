/*
 * `lux start`, `lux stop`, `lux cluster`: run the runtime's node as a daemon
 * that several drivers (lux run, lux train...) share, stop it, and show its
 * state. The node is the same library object lux_init() embeds; only the
 * process around it differs (runtime/daemon.c). Only public headers here:
 * the daemon (daemon.h) and control of a running node (nodectl.h).
 */
#include "cli.h"

#include "daemon.h"
#include "error.h"
#include "nodectl.h"
#include "units.h"

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char lux_cmd_start_help[] =
    "usage: lux start --head [--num-cpus N] [--num-gpus N] [--object-store-memory BYTES]\n"
    "                 [--log-dir DIR] [--listen ipc://PATH] [--foreground]\n\n"
    "Starts a runtime node as a daemon (scheduler, object store, worker pool) that\n"
    "drivers on this machine share: they connect with lux_init(address \"auto\"),\n"
    "which reads LUX_ADDRESS or the address file $LUX_HOME/node (~/.lux/node).\n"
    "--object-store-memory: shared memory for large objects (512M, 2G...; default\n"
    "30% of memory, or of the cgroup's memory limit when lower).\n"
    "Prints the node's address. Workers' logs go to --log-dir (default: a new\n"
    "directory in the per-user runtime directory). --address HOST:PORT (joining another node) is "
    "not\n"
    "supported yet: this release runs single-node clusters. --listen adds an ipc://\n"
    "socket; tcp:// is refused, even on loopback: TCP is unauthenticated until the\n"
    "cluster's CURVE support lands. The node's sockets are its owner's only.\n";

const char lux_cmd_stop_help[] =
    "usage: lux stop [--address ADDR]\n\n"
    "Stops the node started by 'lux start' (its workers and actors too).\n";

const char lux_cmd_cluster_help[] =
    "usage: lux cluster [--address ADDR] [--json]\n\n"
    "Shows the running node: resources total/used, workers, queued and running\n"
    "tasks, object store use. --json prints the raw status object.\n";

/* Finds the node's address (--address, LUX_ADDRESS, the address file) or
 * says on stderr why there is none. Returns 0 or LUX_EXIT_FAILURE. */
static int node_address(const char *cmd, const char *given, char *buf, size_t cap)
{
    int rc = lux_nodectl_address(given, buf, cap);
    if (rc == 0)
        return 0;
    char path[4096];
    lux_nodectl_address_path(path, sizeof path);
    if (rc == LUX_ENOENT)
        fprintf(stderr,
                "lux %s: no node is running (no address file %s, no LUX_ADDRESS); "
                "'lux start --head' starts one\n",
                cmd, path);
    else if (rc == LUX_EACCESS) {
        char msg[8192];
        lux_nodectl_access_message("the address file", path, msg, sizeof msg);
        fprintf(stderr, "lux %s: %s\n", cmd, msg);
    } else if (rc == LUX_EINVAL)
        fprintf(stderr,
                "lux %s: the address file %s is empty or holds no node address "
                "(ipc://... or tcp://...); remove it, or pass --address\n",
                cmd, path);
    else
        fprintf(stderr, "lux %s: cannot read the address file %s: %s\n", cmd, path,
                lux_strerror(rc));
    return LUX_EXIT_FAILURE;
}

/* Says that the node at addr (an ipc:// endpoint) is another user's. */
static int access_error(const char *cmd, const char *addr)
{
    char msg[8192];
    lux_nodectl_access_message("the node's socket", addr + 6, msg, sizeof msg);
    fprintf(stderr, "lux %s: %s\n", cmd, msg);
    return LUX_EXIT_FAILURE;
}

int lux_cmd_start(int argc, char **argv)
{
    int head = 0, foreground = 0;
    double cpus = 0, gpus = 0;
    long store = 0;
    const char *store_text = NULL;
    const char *log_dir = NULL, *listen = NULL, *address = NULL;
    const lux_opt_t opts[] = {
        {"--head", NULL, LUX_OPT_FLAG, &head},
        {"--num-cpus", NULL, LUX_OPT_DOUBLE, &cpus},
        {"--num-gpus", NULL, LUX_OPT_DOUBLE, &gpus},
        {"--object-store-memory", NULL, LUX_OPT_STRING, &store_text},
        {"--object-store-bytes", NULL, LUX_OPT_INT, &store}, /* the older spelling, bytes only */
        {"--log-dir", NULL, LUX_OPT_STRING, &log_dir},
        {"--listen", NULL, LUX_OPT_STRING, &listen},
        {"--address", NULL, LUX_OPT_STRING, &address},
        {"--foreground", NULL, LUX_OPT_FLAG, &foreground},
    };
    if (lux_cli_parse("start", argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, NULL))
        return LUX_EXIT_USAGE;
    if (address != NULL) {
        fprintf(stderr,
                "lux start: joining the node at %s is not supported yet; this release "
                "runs one node per cluster (use 'lux start --head')\n",
                address);
        return LUX_EXIT_FAILURE;
    }
    if (!head)
        return lux_cli_usage_error("start", "say --head to start a head node");
    if (cpus < 0 || gpus < 0 || store < 0)
        return lux_cli_usage_error("start", "resources must be >= 0");
    uint64_t store_bytes = (uint64_t)store;
    if (store_text != NULL) {
        if (store != 0)
            return lux_cli_usage_error("start", "give --object-store-memory or "
                                                "--object-store-bytes, not both");
        int prc = lux_parse_bytes(store_text, &store_bytes);
        if (prc != 0 || store_bytes > SIZE_MAX) {
            fprintf(stderr,
                    "lux start: --object-store-memory %s: %s; give bytes, or a size such as "
                    "512M or 2G (powers of 1024)\n",
                    store_text, prc == LUX_EINVAL ? "not a byte size" : "too large");
            return LUX_EXIT_USAGE;
        }
    }
    if (listen != NULL && !lux_nodectl_listen_allowed(listen)) {
        if (strncmp(listen, "tcp://", 6) == 0)
            fprintf(stderr,
                    "lux start: refusing to listen at %s: TCP is unauthenticated until the "
                    "cluster's CURVE support lands (any user who reaches the port, on this "
                    "machine too, could stop the node or run code as you); leave --listen out "
                    "and use the default ipc socket (owner-only)\n",
                    listen);
        else
            fprintf(stderr,
                    "lux start: cannot listen at %s: --listen takes ipc://PATH; leave it out "
                    "to use the default ipc socket (owner-only)\n",
                    listen);
        return LUX_EXIT_USAGE;
    }
    lux_daemon_opts_t no = {.num_cpus = cpus,
                            .num_gpus = gpus,
                            .store_bytes = (size_t)store_bytes,
                            .log_dir = log_dir,
                            .listen = listen,
                            .num_prestart = 0};
    char path[4096], addr[8192];
    lux_nodectl_address_path(path, sizeof path);
    int rc = lux_daemon_start(&no, path, !foreground, addr, sizeof addr);
    if (rc == LUX_EEXIST) {
        fprintf(stderr,
                "lux start: a node is already running (address in %s); "
                "'lux stop' stops it\n",
                path);
        return LUX_EXIT_FAILURE;
    }
    if (rc == LUX_EACCESS) {
        fprintf(stderr,
                "lux start: refusing to write the address file %s: its directory is not yours "
                "or is writable by other users, who could send drivers to another node; "
                "'chmod go-w' it, or set LUX_HOME to a directory of your own\n",
                path);
        return LUX_EXIT_FAILURE;
    }
    if (rc == LUX_ENOMEM) {
        fprintf(stderr, "lux start: cannot start the node: its object store cannot be had (see "
                        "above); lower it with --object-store-memory\n");
        return LUX_EXIT_FAILURE;
    }
    if (rc != 0) {
        fprintf(stderr, "lux start: cannot start the node: %s\n", lux_strerror(rc));
        return LUX_EXIT_FAILURE;
    }
    if (!foreground)
        printf("node started; address (also in %s):\n%s", path, addr);
    return LUX_EXIT_OK;
}

int lux_cmd_stop(int argc, char **argv)
{
    const char *address = NULL;
    const lux_opt_t opts[] = {{"--address", NULL, LUX_OPT_STRING, &address}};
    if (lux_cli_parse("stop", argc, argv, opts, 1, NULL, 0, NULL))
        return LUX_EXIT_USAGE;
    char addr[4096];
    if (node_address("stop", address, addr, sizeof addr) != 0)
        return LUX_EXIT_FAILURE;
    int rc = lux_nodectl_stop(addr, 5);
    if (rc == LUX_EACCESS)
        return access_error("stop", addr);
    if (rc != 0) {
        fprintf(stderr, "lux stop: no node answers at %s: %s\n", addr, lux_strerror(rc));
        return LUX_EXIT_FAILURE;
    }
    printf("node at %s stopped\n", addr);
    return LUX_EXIT_OK;
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

int lux_cmd_cluster(int argc, char **argv)
{
    const char *address = NULL;
    int as_json = 0;
    const lux_opt_t opts[] = {{"--address", NULL, LUX_OPT_STRING, &address},
                              {"--json", NULL, LUX_OPT_FLAG, &as_json}};
    if (lux_cli_parse("cluster", argc, argv, opts, 2, NULL, 0, NULL))
        return LUX_EXIT_USAGE;
    char addr[4096];
    if (node_address("cluster", address, addr, sizeof addr) != 0)
        return LUX_EXIT_FAILURE;
    char *text = NULL;
    int rc = lux_nodectl_status(addr, 5, &text);
    if (rc == LUX_EACCESS)
        return access_error("cluster", addr);
    if (rc != 0) {
        fprintf(stderr, "lux cluster: no node answers at %s: %s\n", addr, lux_strerror(rc));
        return LUX_EXIT_FAILURE;
    }
    if (as_json) {
        printf("%s\n", text);
        free(text);
        return LUX_EXIT_OK;
    }
    json_t *s = json_loads(text, 0, NULL);
    free(text);
    if (s == NULL) {
        fprintf(stderr, "lux cluster: the node sent a malformed status\n");
        return LUX_EXIT_FAILURE;
    }
    printf("node %s (pid %lld)\n", addr, (long long)num(s, "pid"));
    json_t *total = json_object_get(s, "resources_total"),
           *used = json_object_get(s, "resources_used");
    const char *key;
    json_t *val;
    printf("resources (used/total):");
    json_object_foreach(total, key, val)
    {
        double t = json_number_value(val), u = num(used, key);
        if (strcmp(key, "memory") == 0)
            printf("  %s %.1f/%.1f GB", key, u / 1e9, t / 1e9);
        else
            printf("  %s %g/%g", key, u, t);
    }
    printf("\n");
    json_t *w = json_object_get(s, "workers"), *t = json_object_get(s, "tasks");
    printf("workers: %lld (%lld busy, %lld idle, %lld actors, %lld starting)\n",
           (long long)num(w, "total"), (long long)num(w, "busy"), (long long)num(w, "idle"),
           (long long)num(w, "actors"), (long long)num(w, "starting"));
    printf("tasks: %lld queued, %lld waiting for arguments, %lld running, %lld finished\n",
           (long long)num(t, "queued"), (long long)num(t, "waiting_for_args"),
           (long long)num(t, "running"), (long long)num(t, "finished"));
    json_t *o = json_object_get(s, "object_store");
    printf("object store: %lld objects, %.1f MB used of %.1f MB (%.1f MB shared)\n",
           (long long)num(o, "objects"), num(o, "used_bytes") / 1e6, num(o, "capacity_bytes") / 1e6,
           num(o, "shared_bytes") / 1e6);
    printf("actors: %lld, placement groups: %lld\nlogs: %s\n", (long long)num(s, "actors"),
           (long long)num(s, "placement_groups"), json_string_value(json_object_get(s, "log_dir")));
    json_decref(s);
    return LUX_EXIT_OK;
}
