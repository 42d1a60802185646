/*
 * host.c - clocks, atomic file writes, shell commands and the job state file for the background
 * workers. The state file is tiny (one line per job) and rewritten whole through a temporary file
 * and rename, so a crash leaves either the old or the new content.
 */
#include "adapters/worker/host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t sys_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int sys_sleep_until(void *ctx, int64_t t, volatile int *stop)
{
    while (!*stop) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec >= t)
            return 0;
        /* wake at the next whole second at the latest, so a stop request is seen quickly */
        struct timespec d = {0, 1000000000L - now.tv_nsec};
        if (d.tv_nsec >= 1000000000L)
            d = (struct timespec){1, 0};
        nanosleep(&d, NULL); /* EINTR from the signal: the loop re-checks *stop */
    }
    return 1;
}

void mtr_clock_system(struct mtr_clock_ops *out)
{
    *out = (struct mtr_clock_ops){sys_now, sys_sleep_until, NULL};
}

static int64_t fixed_now(void *ctx)
{
    return *(int64_t *)ctx;
}

static int fixed_sleep_until(void *ctx, int64_t t, volatile int *stop)
{
    (void)ctx;
    (void)t;
    (void)stop;
    return 1;
}

void mtr_clock_fixed(struct mtr_clock_ops *out, int64_t *t)
{
    *out = (struct mtr_clock_ops){fixed_now, fixed_sleep_until, t};
}

int mtr_mkdirs(const char *path, struct mtr_errbuf *eb)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return mtr_err(eb, MTR_EIO, "cannot create directory %s: %s", buf, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int write_atomic(const char *path, const char *data, size_t len, struct mtr_errbuf *eb)
{
    char tmp[1100];
    int rc = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return mtr_err(eb, MTR_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = mtr_err(eb, MTR_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && !rc)
        rc = mtr_err(eb, MTR_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = mtr_err(eb, MTR_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

static int host_write_file(void *ctx, const char *path, const char *data, size_t len,
                           struct mtr_errbuf *eb)
{
    (void)ctx;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        int rc = mtr_mkdirs(dir, eb);
        if (rc)
            return rc;
    }
    return write_atomic(path, data, len, eb);
}

static int host_run_command(void *ctx, const char *cmdline, int *exit_status, struct mtr_errbuf *eb)
{
    (void)ctx;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return mtr_err(eb, MTR_EIO, "cannot start \"%s\": %s", cmdline, strerror(errno));
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return mtr_err(eb, MTR_EIO, "waiting for \"%s\": %s", cmdline, strerror(errno));
    }
    *exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}

/* Reads the state file into buf (NUL-terminated); an absent file is empty. */
static int read_state(const char *path, char *buf, size_t cap)
{
    buf[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : MTR_EIO;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    int err = ferror(f);
    fclose(f);
    return err ? MTR_EIO : 0;
}

enum { STATE_CAP = 16384 };

static int host_state_get(void *ctx, const char *name, int64_t *at)
{
    struct mtr_worker_host *h = ctx;
    char *buf = malloc(STATE_CAP);
    if (!buf)
        return MTR_ENOMEM;
    int rc = read_state(h->state_file, buf, STATE_CAP);
    if (rc)
        goto out;
    rc = MTR_ENOTFOUND;
    size_t n = strlen(name);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, name, n) == 0 && line[n] == ' ') {
            *at = strtoll(line + n + 1, NULL, 10);
            rc = 0;
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
out:
    free(buf);
    return rc;
}

static int host_state_put(void *ctx, const char *name, int64_t at, struct mtr_errbuf *eb)
{
    struct mtr_worker_host *h = ctx;
    char *buf = malloc(STATE_CAP), *out = malloc(STATE_CAP);
    size_t o = 0, n = strlen(name);
    int rc;
    if (!buf || !out) {
        rc = MTR_ENOMEM;
        goto done;
    }
    if ((rc = read_state(h->state_file, buf, STATE_CAP))) {
        mtr_err(eb, rc, "cannot read the job state file %s: %s", h->state_file, strerror(errno));
        goto done;
    }
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (!(strncmp(line, name, n) == 0 && line[n] == ' ') && len && o + len + 1 < STATE_CAP) {
            memcpy(out + o, line, len);
            o += len;
            out[o++] = '\n';
        }
        line = nl ? nl + 1 : NULL;
    }
    o += (size_t)snprintf(out + o, STATE_CAP - o, "%s %lld\n", name, (long long)at);
    if (o >= STATE_CAP) {
        rc = mtr_err(eb, MTR_EIO, "job state file %s is full", h->state_file);
        goto done;
    }
    rc = host_write_file(NULL, h->state_file, out, o, eb);
done:
    free(buf);
    free(out);
    return rc;
}

void mtr_worker_host_init(struct mtr_worker_host *h, const char *state_file,
                          struct mtr_worker_host_ops *out)
{
    h->state_file = state_file;
    *out = (struct mtr_worker_host_ops){host_write_file, host_run_command, host_state_get,
                                        host_state_put, h};
}
