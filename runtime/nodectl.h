/*
 * Control of a running node from another process: the daemon's address file,
 * stop and status. This is what `lux stop`, `lux cluster` and a driver's
 * lux_init(address "auto") need, and nothing more, so the command line uses
 * this header and lux.h only, never the node's internals or the protocol.
 *
 * The address file ($LUX_HOME/node, else ~/.lux/node) holds the node's
 * endpoints, one per line, its ipc:// endpoint first; `lux start` writes it
 * and removes it when the node stops. Nothing here keeps state or threads:
 * every function is safe to call from any thread.
 */
#ifndef LUX_RUNTIME_NODECTL_H
#define LUX_RUNTIME_NODECTL_H

#include <stddef.h>

/* Writes the address file's path ($LUX_HOME/node, else $HOME/.lux/node,
 * else /tmp/.lux/node) into buf, cut to cap bytes. Cannot fail. */
void lux_nodectl_address_path(char *buf, size_t cap);

/* Reads the first line of the address file at path (NULL: the default
 * path) into buf. Returns 0; LUX_ENOENT when there is no such file;
 * LUX_EINVAL when the file is empty or its first line is not an ipc:// or
 * tcp:// endpoint that fits in buf (a truncated or corrupt file: the caller
 * should say so and name the file); LUX_EACCESS when this user may not read
 * it (another user's node: lux_nodectl_access_message says so); LUX_EIO
 * when it cannot be read otherwise. buf is a
 * NUL-terminated string on every return (empty on failure). */
int lux_nodectl_read_address(const char *path, char *buf, size_t cap);

/* The address of the node to talk to: given (when not NULL), else
 * $LUX_ADDRESS (when set and not empty), else the address file's first
 * line. Returns what lux_nodectl_read_address returns in the last case,
 * else 0. */
int lux_nodectl_address(const char *given, char *buf, size_t cap);

/* Writes text as the address file at path (NULL: the default path),
 * creating its directory, atomically (a reader sees the old file or the
 * new one, never half of it). Returns 0; LUX_EACCESS when the directory
 * belongs to another user (not root) or is writable by group or others
 * (whoever can write it can redirect drivers to another node); LUX_EIO
 * when the directory or file cannot be written. */
int lux_nodectl_write_address(const char *path, const char *text);

/* 1 when a node may listen at endpoint as well as at its own ipc socket:
 * ipc://PATH only. 0 for anything else, tcp:// included, even on loopback:
 * the node's TCP endpoint is plaintext and unauthenticated until the
 * cluster's CURVE support lands, and any local user who reaches a loopback
 * port could stop the node or run code as its owner, while an ipc socket is
 * owner-only (the daemon creates it with umask 077). Cannot fail. */
int lux_nodectl_listen_allowed(const char *endpoint);

/* LUX_EACCESS when address is an ipc:// endpoint this user may not connect
 * to (the socket, or a directory on its path, belongs to another user),
 * else 0: ZeroMQ itself would only retry the connection in silence, which
 * looks like "no node answers". Cannot fail otherwise. */
int lux_nodectl_check_access(const char *address);

/* Writes into buf (cut to cap) a message for a person saying that `what`
 * ("the address file", "the node's socket") at path belongs to another user
 * (named with its uid, found on path or its nearest visible parent) and
 * what to do. Cannot fail. */
void lux_nodectl_access_message(const char *what, const char *path, char *buf, size_t cap);

/* Asks the node at address to stop (its workers and actors with it) and
 * waits up to timeout_s seconds for its answer. Returns 0, LUX_EACCESS when
 * this user may not connect to it (lux_nodectl_check_access), or
 * LUX_ECLOSED when no node answers. */
int lux_nodectl_stop(const char *address, double timeout_s);

/* Gets the status of the node at address as a JSON object (resources,
 * workers, tasks, object store; see docs/runtime.md) into *json_out, to free
 * with free(); waits up to timeout_s seconds. json_out may be NULL to only
 * ask whether a node answers. Returns 0, LUX_EACCESS when this user may not
 * connect to it, LUX_ECLOSED when no node answers, LUX_EPROTO for an answer
 * that is not a status. */
int lux_nodectl_status(const char *address, double timeout_s, char **json_out);

#endif
