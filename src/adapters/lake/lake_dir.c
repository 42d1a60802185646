/*
 * lake_dir.c - a data lake on a local directory (see lake_dir.h). Visibility is a rename(2) of
 * a fully written, fsynced temporary in the same directory, followed by an fsync of the
 * directory, so a part file is either absent or complete, also across power loss.
 */
#include "adapters/lake/lake_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_PREFIX ".tmp-"

struct dir_lake {
    struct mtr_lake base;
    char root[PATH_MAX];
    int lock_fd;
    long kill_after; /* test hook; -1 = off */
    long committed;
};

struct dir_file {
    struct dir_lake *l;
    FILE *fp;
    char tmp[PATH_MAX], final[PATH_MAX];
    uint64_t bytes;
};

/* Creates dir and its missing parents (mode 0777 & umask). 0 or MTR_EIO with errno kept. */
static int mkdirs(const char *dir)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return MTR_EIO;
    }
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return MTR_EIO;
        *c = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return MTR_EIO;
    return 0;
}

/* dst = a + "/" + b (+ c); 0, or -1 when it does not fit (dst is then ""). */
static int join(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    dst[0] = 0;
    if (la + 1 + lb + lc + 1 > cap)
        return -1;
    memcpy(dst, a, la);
    dst[la] = '/';
    memcpy(dst + la + 1, b, lb);
    memcpy(dst + la + 1 + lb, c ? c : "", lc + 1);
    return 0;
}

static int sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return MTR_EIO;
    int rc = fsync(fd) == 0 ? 0 : MTR_EIO;
    close(fd);
    return rc;
}

/* Removes the temporaries of interrupted runs: DIR/dataset=*\/date=*\/.tmp-* */
static int dir_recover(struct mtr_lake *base, struct mtr_errbuf *eb)
{
    struct dir_lake *l = (struct dir_lake *)base;
    DIR *top = opendir(l->root);
    if (!top)
        return mtr_err(eb, MTR_EIO, "%s: %s", l->root, strerror(errno));
    struct dirent *de;
    char p[PATH_MAX];
    while ((de = readdir(top))) {
        if (strncmp(de->d_name, "dataset=", 8) != 0)
            continue;
        if (join(p, sizeof p, l->root, de->d_name, NULL))
            continue;
        DIR *ds = opendir(p);
        if (!ds)
            continue;
        struct dirent *pe;
        while ((pe = readdir(ds))) {
            if (strncmp(pe->d_name, "date=", 5) != 0)
                continue;
            char pp[PATH_MAX];
            if (join(pp, sizeof pp, p, pe->d_name, NULL))
                continue;
            DIR *part = opendir(pp);
            if (!part)
                continue;
            struct dirent *fe;
            while ((fe = readdir(part))) {
                if (strncmp(fe->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
                    continue;
                char fp[PATH_MAX];
                if (join(fp, sizeof fp, pp, fe->d_name, NULL) == 0)
                    unlink(fp);
            }
            closedir(part);
        }
        closedir(ds);
    }
    closedir(top);
    return 0;
}

static int dir_next_part(struct mtr_lake *base, const char *partition, int *next,
                         struct mtr_errbuf *eb)
{
    struct dir_lake *l = (struct dir_lake *)base;
    char p[PATH_MAX];
    *next = 0;
    if (join(p, sizeof p, l->root, partition, NULL))
        return mtr_err(eb, MTR_EIO, "%s/%s: path too long", l->root, partition);
    DIR *d = opendir(p);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return mtr_err(eb, MTR_EIO, "%s: %s", p, strerror(errno));
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        int n = -1, end = 0;
        if (sscanf(de->d_name, "part-%d.parquet%n", &n, &end) == 1 && end > 0 &&
            de->d_name[end] == 0 && n >= *next)
            *next = n + 1;
    }
    closedir(d);
    return 0;
}

static int dir_create(struct mtr_lake *base, const char *key, struct mtr_lake_file **out,
                      struct mtr_errbuf *eb)
{
    struct dir_lake *l = (struct dir_lake *)base;
    struct dir_file *f = calloc(1, sizeof *f);
    if (!f)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    f->l = l;
    if (join(f->final, sizeof f->final, l->root, key, NULL)) {
        free(f);
        return mtr_err(eb, MTR_EIO, "%s/%s: path too long", l->root, key);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", f->final);
    char *slash = strrchr(dir, '/');
    *slash = 0;
    if (mkdirs(dir) != 0) {
        int e = errno;
        free(f);
        return mtr_err(eb, MTR_EIO, "%s: %s", dir, strerror(e));
    }
    char name[512];
    snprintf(name, sizeof name, TMP_PREFIX "%.400s-%ld", slash + 1, (long)getpid());
    if (join(f->tmp, sizeof f->tmp, dir, name, NULL)) {
        free(f);
        return mtr_err(eb, MTR_EIO, "%s: path too long", dir);
    }
    f->fp = fopen(f->tmp, "wbx");
    if (!f->fp) {
        int e = errno;
        free(f);
        return mtr_err(eb, MTR_EIO, "%s: %s", f->tmp, strerror(e));
    }
    setvbuf(f->fp, NULL, _IOFBF, 1 << 20);
    *out = (struct mtr_lake_file *)f;
    return 0;
}

static int dir_write(struct mtr_lake_file *base, const void *buf, size_t len)
{
    struct dir_file *f = (struct dir_file *)base;
    if (len && fwrite(buf, 1, len, f->fp) != len)
        return MTR_EIO;
    f->bytes += len;
    if (f->l->kill_after >= 0 && f->l->committed >= f->l->kill_after && f->bytes > 4) {
        fflush(f->fp); /* a partial file on disk, as a crash would leave it */
        raise(SIGKILL);
    }
    return 0;
}

static void dir_discard(struct mtr_lake_file *base)
{
    struct dir_file *f = (struct dir_file *)base;
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    unlink(f->tmp);
    free(f);
}

static int dir_commit(struct mtr_lake_file *base, uint64_t *bytes, struct mtr_errbuf *eb)
{
    struct dir_file *f = (struct dir_file *)base;
    int rc = 0;
    if (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", f->tmp, strerror(errno));
        goto fail;
    }
    int cr = fclose(f->fp);
    f->fp = NULL;
    if (cr != 0) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", f->tmp, strerror(errno));
        goto fail;
    }
    if (rename(f->tmp, f->final) != 0) {
        rc = mtr_err(eb, MTR_EIO, "%s -> %s: %s", f->tmp, f->final, strerror(errno));
        goto fail;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", f->final);
    *strrchr(dir, '/') = 0;
    if (sync_dir(dir) != 0) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", dir, strerror(errno));
        unlink(f->final);
        goto fail;
    }
    *bytes = f->bytes;
    f->l->committed++;
    free(f);
    return 0;
fail:
    dir_discard(base);
    return rc;
}

static void dir_close(struct mtr_lake *base)
{
    struct dir_lake *l = (struct dir_lake *)base;
    if (!l)
        return;
    if (l->lock_fd >= 0)
        close(l->lock_fd); /* releases the flock */
    free(l);
}

/* Names this lake in its destination name (the watermark key): a lake directory that was
 * deleted and recreated is a new lake and gets everything, not only what changed since. The id
 * is created once, with O_EXCL, before any part file. */
static int lake_id(struct dir_lake *l, struct mtr_errbuf *eb)
{
    char path[PATH_MAX], id[40] = "";
    if (join(path, sizeof path, l->root, ".metrify-lake-id", NULL))
        return mtr_err(eb, MTR_EIO, "%s: path too long", l->root);
    for (int attempt = 0; attempt < 2 && !id[0]; attempt++) {
        FILE *fp = fopen(path, "r");
        if (fp) {
            if (!fgets(id, sizeof id, fp))
                id[0] = 0;
            fclose(fp);
            id[strcspn(id, "\r\n")] = 0;
            if (!id[0])
                return mtr_err(eb, MTR_EIO, "%s: empty lake id", path);
            break;
        }
        unsigned char rnd[8];
        FILE *ur = fopen("/dev/urandom", "rb");
        size_t got = ur ? fread(rnd, 1, sizeof rnd, ur) : 0;
        if (ur)
            fclose(ur);
        if (got != sizeof rnd)
            return mtr_err(eb, MTR_EIO, "/dev/urandom: cannot read");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0) {
            if (errno == EEXIST)
                continue; /* created meanwhile: read it */
            return mtr_err(eb, MTR_EIO, "%s: %s", path, strerror(errno));
        }
        char buf[24];
        for (int i = 0; i < 8; i++)
            snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
        buf[16] = '\n';
        int ok = write(fd, buf, 17) == 17 && fsync(fd) == 0;
        close(fd);
        if (!ok)
            return mtr_err(eb, MTR_EIO, "%s: %s", path, strerror(errno));
        memcpy(id, buf, 16);
        id[16] = 0;
    }
    size_t n = strlen(l->base.name);
    if (n + 1 + strlen(id) + 1 > sizeof l->base.name)
        return mtr_err(eb, MTR_EINVAL, "%s: path too long for a lake destination", l->root);
    snprintf(l->base.name + n, sizeof l->base.name - n, "#%s", id);
    return 0;
}

static const struct mtr_lake_ops dir_ops = {
    .recover = dir_recover,
    .next_part = dir_next_part,
    .create = dir_create,
    .write = dir_write,
    .commit = dir_commit,
    .discard = dir_discard,
    .close = dir_close,
};

int mtr_lake_dir_open(const char *dir, struct mtr_lake **out, struct mtr_errbuf *eb)
{
    int rc = 0;
    *out = NULL;
    struct dir_lake *l = calloc(1, sizeof *l);
    if (!l)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    l->base.ops = &dir_ops;
    l->lock_fd = -1;
    l->kill_after = -1;
    const char *k = getenv("METRIFY_TEST_KILL_AFTER_FILES");
    if (k && *k)
        l->kill_after = strtol(k, NULL, 10);
    if (mkdirs(dir) != 0 || !realpath(dir, l->root)) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if (strlen(l->root) + 8 > sizeof l->base.name) {
        rc = mtr_err(eb, MTR_EINVAL, "%s: path too long for a lake destination", l->root);
        goto fail;
    }
    memcpy(l->base.name, "file://", 7);
    memcpy(l->base.name + 7, l->root, strlen(l->root) + 1);
    if ((rc = lake_id(l, eb)))
        goto fail;
    char lock[PATH_MAX + 32];
    join(lock, sizeof lock, l->root, ".metrify-export.lock", NULL);
    l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (l->lock_fd < 0) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", lock, strerror(errno));
        goto fail;
    }
    if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = mtr_err(eb, errno == EWOULDBLOCK ? MTR_ECONFLICT : MTR_EIO,
                     "%s: another export is writing to this directory (%s)", l->root,
                     strerror(errno));
        goto fail;
    }
    *out = &l->base;
    return 0;
fail:
    dir_close(&l->base);
    return rc;
}
