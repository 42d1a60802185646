/*
 * lake_s3.c - the lake port on S3 (see lake_s3.h): staging files in a mkdtemp directory, part
 * numbers from a listing of the partition, uploads through adapters/s3/s3.c.
 */
#include "adapters/s3/lake_s3.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/s3/s3.h"

struct s3_lake {
    struct mtr_lake base;
    struct mtr_s3 *s3;
    char prefix[400];
    char staging[1024];
    size_t threshold, part_size;
    unsigned nfile;
};

struct s3_file {
    struct s3_lake *l;
    FILE *fp;
    char path[1100];
    char key[1024];
    uint64_t bytes;
};

void mtr_s3_config_default(struct mtr_s3_config *c)
{
    memset(c, 0, sizeof *c);
    c->multipart_threshold = 8u << 20;
    c->part_size = 8u << 20;
    c->max_attempts = 5;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int load_creds(const char *profile, struct mtr_s3_creds *c, struct mtr_errbuf *eb)
{
    memset(c, 0, sizeof *c);
    if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
        snprintf(c->key_id, sizeof c->key_id, "%s", env("AWS_ACCESS_KEY_ID"));
        snprintf(c->secret, sizeof c->secret, "%s", env("AWS_SECRET_ACCESS_KEY"));
        if (env("AWS_SESSION_TOKEN"))
            snprintf(c->token, sizeof c->token, "%s", env("AWS_SESSION_TOKEN"));
        return 0;
    }
    char path[PATH_MAX];
    if (env("AWS_SHARED_CREDENTIALS_FILE"))
        snprintf(path, sizeof path, "%s", env("AWS_SHARED_CREDENTIALS_FILE"));
    else if (env("HOME"))
        snprintf(path, sizeof path, "%s/.aws/credentials", env("HOME"));
    else
        return mtr_err(eb, MTR_EINVAL,
                       "no S3 credentials: set AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY, or write ~/.aws/credentials");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return mtr_err(eb, MTR_EINVAL,
                       "no S3 credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset and "
                       "%s: %s",
                       path, strerror(errno));
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    text[n] = 0;
    fclose(fp);
    if (mtr_s3_creds_parse(text, profile, c) != 0)
        return mtr_err(eb, MTR_EINVAL, "%s: no credentials for profile [%s]", path, profile);
    return 0;
}

static int s3_recover(struct mtr_lake *base, struct mtr_errbuf *eb)
{
    (void)base;
    (void)eb;
    return 0; /* staging is private to the run; incomplete multipart uploads are aborted */
}

struct max_part {
    int next;
};

static int see_part(void *ctx, const char *key, uint64_t size)
{
    struct max_part *m = ctx;
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    int n = -1, end = 0;
    if (sscanf(base, "part-%d.parquet%n", &n, &end) == 1 && end > 0 && base[end] == 0 &&
        n >= m->next)
        m->next = n + 1;
    (void)size;
    return 0;
}

/* The lake's id: the suffix of the object PREFIX/.metrify-lake-id-ID, created on first use, so
 * that a bucket prefix that was emptied is a new lake (see lake_dir.c). */
struct id_seen {
    char id[40];
};
static int see_id(void *ctx, const char *key, uint64_t size)
{
    struct id_seen *s = ctx;
    const char *p = strstr(key, ".metrify-lake-id-");
    (void)size;
    if (p && !s->id[0])
        snprintf(s->id, sizeof s->id, "%s", p + strlen(".metrify-lake-id-"));
    return 0;
}

static void full_key(const struct s3_lake *l, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s", l->prefix, l->prefix[0] ? "/" : "", key);
}

static int s3_next_part(struct mtr_lake *base, const char *partition, int *next,
                        struct mtr_errbuf *eb)
{
    struct s3_lake *l = (struct s3_lake *)base;
    char prefix[1024];
    char rel[512];
    snprintf(rel, sizeof rel, "%s/part-", partition);
    full_key(l, rel, prefix, sizeof prefix);
    struct max_part m = {0};
    int rc = mtr_s3_list(l->s3, prefix, see_part, &m, eb);
    l->base.retries = mtr_s3_retries(l->s3);
    *next = m.next;
    return rc;
}

static int s3_create(struct mtr_lake *base, const char *key, struct mtr_lake_file **out,
                     struct mtr_errbuf *eb)
{
    struct s3_lake *l = (struct s3_lake *)base;
    struct s3_file *f = calloc(1, sizeof *f);
    if (!f)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    f->l = l;
    full_key(l, key, f->key, sizeof f->key);
    snprintf(f->path, sizeof f->path, "%s/%u.parquet", l->staging, l->nfile++);
    if (!(f->fp = fopen(f->path, "w+b"))) {
        int e = errno;
        free(f);
        return mtr_err(eb, MTR_EIO, "%s: %s", f->path, strerror(e));
    }
    setvbuf(f->fp, NULL, _IOFBF, 1 << 20);
    *out = (struct mtr_lake_file *)f;
    return 0;
}

static int s3_write(struct mtr_lake_file *base, const void *buf, size_t len)
{
    struct s3_file *f = (struct s3_file *)base;
    if (len && fwrite(buf, 1, len, f->fp) != len)
        return MTR_EIO;
    f->bytes += len;
    return 0;
}

static void s3_discard(struct mtr_lake_file *base)
{
    struct s3_file *f = (struct s3_file *)base;
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    unlink(f->path);
    free(f);
}

static int s3_commit(struct mtr_lake_file *base, uint64_t *bytes, struct mtr_errbuf *eb)
{
    struct s3_file *f = (struct s3_file *)base;
    struct s3_lake *l = f->l;
    int rc;
    if (fflush(f->fp) != 0) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", f->path, strerror(errno));
        goto out;
    }
    rc = mtr_s3_upload(l->s3, f->key, f->fp, f->bytes, l->threshold, l->part_size, eb);
    l->base.retries = mtr_s3_retries(l->s3);
    if (rc == 0)
        *bytes = f->bytes;
out:
    s3_discard(base);
    return rc;
}

static void s3_close(struct mtr_lake *base)
{
    struct s3_lake *l = (struct s3_lake *)base;
    if (!l)
        return;
    mtr_s3_free(l->s3);
    if (l->staging[0])
        rmdir(l->staging);
    free(l);
}

static int lake_id(struct s3_lake *l, struct mtr_errbuf *eb)
{
    char key[600];
    struct id_seen seen = {""};
    full_key(l, ".metrify-lake-id-", key, sizeof key);
    int rc = mtr_s3_list(l->s3, key, see_id, &seen, eb);
    if (rc)
        return rc;
    if (!seen.id[0]) {
        unsigned char rnd[8];
        FILE *ur = fopen("/dev/urandom", "rb");
        size_t got = ur ? fread(rnd, 1, sizeof rnd, ur) : 0;
        if (ur)
            fclose(ur);
        if (got != sizeof rnd)
            return mtr_err(eb, MTR_EIO, "/dev/urandom: cannot read");
        for (int i = 0; i < 8; i++)
            snprintf(seen.id + 2 * i, 3, "%02x", rnd[i]);
        FILE *empty = tmpfile();
        if (!empty)
            return mtr_err(eb, MTR_EIO, "tmpfile: %s", strerror(errno));
        char idkey[700];
        snprintf(idkey, sizeof idkey, "%s%s", key, seen.id);
        rc = mtr_s3_upload(l->s3, idkey, empty, 0, l->threshold, l->part_size, eb);
        fclose(empty);
        if (rc)
            return rc;
    }
    size_t n = strlen(l->base.name);
    snprintf(l->base.name + n, sizeof l->base.name - n, " #%s", seen.id);
    return 0;
}

static const struct mtr_lake_ops s3_ops = {
    .recover = s3_recover,
    .next_part = s3_next_part,
    .create = s3_create,
    .write = s3_write,
    .commit = s3_commit,
    .discard = s3_discard,
    .close = s3_close,
};

int mtr_lake_s3_open(const struct mtr_s3_config *c, struct mtr_lake **out, struct mtr_errbuf *eb)
{
    struct mtr_s3_options o;
    char bucket[256];
    char endpoint[512];
    int rc;
    *out = NULL;
    memset(&o, 0, sizeof o);
    struct s3_lake *l = calloc(1, sizeof *l);
    if (!l)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    l->base.ops = &s3_ops;
    if (mtr_s3_parse_url(c->url, bucket, sizeof bucket, l->prefix, sizeof l->prefix)) {
        rc = mtr_err(eb, MTR_EINVAL, "%s: not an s3://BUCKET[/PREFIX] URL", c->url);
        goto fail;
    }
    o.region = c->region                   ? c->region
               : env("AWS_REGION")         ? env("AWS_REGION")
               : env("AWS_DEFAULT_REGION") ? env("AWS_DEFAULT_REGION")
                                           : "us-east-1";
    const char *ep = c->endpoint                  ? c->endpoint
                     : env("METRIFY_S3_ENDPOINT") ? env("METRIFY_S3_ENDPOINT")
                     : env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3")
                                                  : env("AWS_ENDPOINT_URL");
    if (ep)
        snprintf(endpoint, sizeof endpoint, "%s", ep);
    else
        snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", o.region);
    o.endpoint = endpoint;
    o.bucket = bucket;
    o.max_attempts = c->max_attempts;
    const char *profile = c->profile           ? c->profile
                          : env("AWS_PROFILE") ? env("AWS_PROFILE")
                                               : "default";
    if ((rc = load_creds(profile, &o.creds, eb)))
        goto fail;
    if ((rc = mtr_s3_new(&o, &l->s3, eb)))
        goto fail;
    l->threshold = c->multipart_threshold ? c->multipart_threshold : 8u << 20;
    l->part_size = c->part_size ? c->part_size : 8u << 20;
    /* the destination names the store too: the same bucket elsewhere is another lake */
    snprintf(l->base.name, sizeof l->base.name, "s3://%.100s%s%.200s%s%.150s", bucket,
             l->prefix[0] ? "/" : "", l->prefix, ep ? " at " : "", ep ? endpoint : "");
    if ((rc = lake_id(l, eb)))
        goto fail;
    const char *tmp = env("TMPDIR") ? env("TMPDIR") : "/tmp";
    snprintf(l->staging, sizeof l->staging, "%.900s/metrify-lake-XXXXXX", tmp);
    if (!mkdtemp(l->staging)) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", l->staging, strerror(errno));
        l->staging[0] = 0;
        goto fail;
    }
    *out = &l->base;
    return 0;
fail:
    s3_close(&l->base);
    return rc;
}
