/*
 * Control of a running node (nodectl.h): the address file and one-shot
 * requests. A request opens its own ZeroMQ context and DEALER socket with
 * the routing id "C<pid>" (a control client, which the node neither
 * registers nor tracks), sends one record and waits for its REPLY, so it
 * shares nothing with the process's driver connection (client.c) and can
 * be used by the command line, the daemon and drivers alike.
 */
#include "nodectl.h"
#include "proto.h"

#include "error.h"

#include <zmq.h>

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void lux_nodectl_address_path(char *buf, size_t cap)
{
    const char *home = getenv("LUX_HOME");
    if (home && *home)
        snprintf(buf, cap, "%s/node", home);
    else
        snprintf(buf, cap, "%s/.lux/node", getenv("HOME") ? getenv("HOME") : "/tmp");
}

/* An endpoint as the node writes it: a transport we speak, then printable
 * characters only. */
static int looks_like_endpoint(const char *s)
{
    if (strncmp(s, "ipc://", 6) != 0 && strncmp(s, "tcp://", 6) != 0)
        return 0;
    if (s[6] == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int lux_nodectl_read_address(const char *path, char *buf, size_t cap)
{
    char def[4096];
    if (cap == 0)
        return LUX_EINVAL;
    buf[0] = '\0';
    if (path == NULL) {
        lux_nodectl_address_path(def, sizeof def);
        path = def;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT || errno == ENOTDIR ? LUX_ENOENT
               : errno == EACCES || errno == EPERM ? LUX_EACCESS
                                                   : LUX_EIO;
    char line[4096];
    int got = fgets(line, sizeof line, f) != NULL;
    /* A first line longer than the buffer is no address we wrote. */
    int too_long = got && strchr(line, '\n') == NULL && fgetc(f) != EOF;
    int err = ferror(f);
    fclose(f);
    if (err)
        return LUX_EIO;
    if (!got || too_long)
        return LUX_EINVAL; /* empty, or not an address */
    line[strcspn(line, "\r\n")] = '\0';
    if (!looks_like_endpoint(line) || strlen(line) >= cap)
        return LUX_EINVAL;
    snprintf(buf, cap, "%s", line);
    return 0;
}

int lux_nodectl_address(const char *given, char *buf, size_t cap)
{
    if (given != NULL) {
        snprintf(buf, cap, "%s", given);
        return 0;
    }
    const char *env = getenv("LUX_ADDRESS");
    if (env != NULL && *env) {
        snprintf(buf, cap, "%s", env);
        return 0;
    }
    return lux_nodectl_read_address(NULL, buf, cap);
}

int lux_nodectl_write_address(const char *path, const char *text)
{
    char def[4096], dir[4096], tmp[4200];
    if (path == NULL) {
        lux_nodectl_address_path(def, sizeof def);
        path = def;
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0700);
    } else {
        snprintf(dir, sizeof dir, "%s", slash == dir ? "/" : ".");
    }
    /* Whoever can write the directory can replace the address and send
     * drivers to a node of their own: it must be ours (or root's) and
     * writable by no one else. */
    struct stat st;
    if (stat(dir, &st) != 0)
        return LUX_EIO;
    if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022) != 0)
        return LUX_EACCESS;
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

int lux_nodectl_check_access(const char *address)
{
    if (address == NULL || strncmp(address, "ipc://", 6) != 0)
        return 0;
    const char *path = address + 6;
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == EACCES || errno == EPERM ? LUX_EACCESS : 0;
    /* Connecting to a unix socket needs write permission on it. */
    if (access(path, W_OK) != 0 && (errno == EACCES || errno == EPERM))
        return LUX_EACCESS;
    return 0;
}

void lux_nodectl_access_message(const char *what, const char *path, char *buf, size_t cap)
{
    /* The owner of path, or of its nearest ancestor this user can see (the
     * directory that stops it). */
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    struct stat st;
    int found = 0;
    while (p[0] != '\0') {
        if (stat(p, &st) == 0) {
            found = 1;
            break;
        }
        char *slash = strrchr(p, '/');
        if (slash == NULL || slash == p)
            break;
        *slash = '\0';
    }
    char owner[128] = "another user";
    if (found && st.st_uid != geteuid()) {
        struct passwd *pw = getpwuid(st.st_uid);
        snprintf(owner, sizeof owner, "another user (%s%suid %lu)", pw ? pw->pw_name : "",
                 pw ? ", " : "", (unsigned long)st.st_uid);
    }
    snprintf(buf, cap,
             "permission denied on %s %s: it belongs to %s, and only its owner can use a node "
             "(you are uid %lu); ask them, or start your own with 'lux start --head' and your "
             "own LUX_HOME",
             what, path, owner, (unsigned long)geteuid());
}

int lux_nodectl_listen_allowed(const char *ep)
{
    return ep != NULL && strncmp(ep, "ipc://", 6) == 0 && ep[6] != '\0';
}

/* Sends one request of the given type to the node at address and waits up
 * to timeout_s for its REPLY; *text_out (may be NULL) gets the reply's text,
 * to free with free(). Returns 0, the reply's code, LUX_EPROTO for another
 * answer, or LUX_ECLOSED when no node answers. */
static int node_request(const char *address, int type, double timeout_s, char **text_out)
{
    if (text_out)
        *text_out = NULL;
    /* ZeroMQ retries a refused ipc connection silently: say it now. */
    if (lux_nodectl_check_access(address) != 0)
        return LUX_EACCESS;
    void *ctx = zmq_ctx_new();
    if (ctx == NULL)
        return LUX_ESYS;
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, rc = LUX_ECLOSED;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    char ident[5] = {'C'};
    uint32_t pid = (uint32_t)getpid();
    memcpy(ident + 1, &pid, 4);
    zmq_setsockopt(s, ZMQ_ROUTING_ID, ident, 5);
    lux_wbuf_t w;
    lux_wbuf_init(&w);
    lux_msg_t m = {.type = (uint8_t)type, .req = 1};
    if (zmq_connect(s, address) == 0 && lux_msg_encode(&w, &m) == 0 &&
        zmq_send(s, w.data, w.len, 0) >= 0) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)(timeout_s * 1000)) == 1) {
            zmq_msg_t f;
            zmq_msg_init(&f);
            if (zmq_msg_recv(&f, s, 0) >= 0) {
                size_t pos = 0;
                lux_msg_t r;
                if (lux_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), &pos, &r) == 0) {
                    rc = r.type == LUX_MSG_REPLY ? r.code : LUX_EPROTO;
                    if (rc == 0 && text_out && (*text_out = malloc(r.text_len + 1)) != NULL) {
                        memcpy(*text_out, r.text, r.text_len);
                        (*text_out)[r.text_len] = '\0';
                    }
                    lux_msg_fini(&r);
                } else {
                    rc = LUX_EPROTO;
                }
            }
            zmq_msg_close(&f);
        }
    }
    lux_wbuf_fini(&w);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}

int lux_nodectl_stop(const char *address, double timeout_s)
{
    return node_request(address, LUX_MSG_STOP, timeout_s, NULL);
}

int lux_nodectl_status(const char *address, double timeout_s, char **json_out)
{
    return node_request(address, LUX_MSG_STATUS, timeout_s, json_out);
}
