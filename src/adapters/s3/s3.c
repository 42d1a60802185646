/*
 * s3.c - the S3 client of s3.h. One curl easy handle per client (connections are reused between
 * requests); every request is signed by curl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3") and
 * carries x-amz-content-sha256 with the SHA-256 of its body, computed here, since curl signs
 * that header's value as the payload hash for S3. Queries are written in canonical SigV4 form
 * (keys sorted, every key with '=') because curl signs the query string as given.
 */
#include "adapters/s3/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ======================= pure helpers ======================= */

int mtr_s3_parse_url(const char *url, char *bucket, size_t bcap, char *prefix, size_t pcap)
{
    if (strncmp(url, "s3://", 5) != 0)
        return MTR_EINVAL;
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t bl = slash ? (size_t)(slash - b) : strlen(b);
    if (bl == 0 || bl >= bcap)
        return MTR_EINVAL;
    memcpy(bucket, b, bl);
    bucket[bl] = 0;
    const char *p = slash ? slash + 1 : "";
    while (*p == '/')
        p++;
    size_t pl = strlen(p);
    while (pl && p[pl - 1] == '/')
        pl--;
    if (pl >= pcap)
        return MTR_EINVAL;
    memcpy(prefix, p, pl);
    prefix[pl] = 0;
    return 0;
}

static size_t xml_decode(const char *s, size_t n, char *out)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '&') {
            size_t k;
            for (k = 0; k < 5; k++) {
                size_t el = strlen(ents[k].ent);
                if (i + el <= n && memcmp(s + i, ents[k].ent, el) == 0) {
                    out[o++] = ents[k].c;
                    i += el;
                    break;
                }
            }
            if (k < 5)
                continue;
        }
        out[o++] = s[i++];
    }
    out[o] = 0;
    return o;
}

int mtr_s3_xml_next(const char *xml, size_t len, const char *tag, size_t *pos, char *out,
                    size_t cap)
{
    size_t tl = strlen(tag);
    for (size_t i = *pos; i + tl + 2 <= len; i++) {
        if (xml[i] != '<' || memcmp(xml + i + 1, tag, tl) != 0)
            continue;
        char after = xml[i + 1 + tl];
        if (after != '>' && after != ' ' && after != '/')
            continue; /* <Keys> is not <Key> */
        const char *gt = memchr(xml + i, '>', len - i);
        if (!gt)
            return 0;
        if (gt[-1] == '/') { /* <tag/>: empty */
            if (cap < 1)
                return MTR_ERANGE;
            out[0] = 0;
            *pos = (size_t)(gt - xml) + 1;
            return 1;
        }
        size_t start = (size_t)(gt - xml) + 1;
        for (size_t j = start; j + tl + 3 <= len; j++) {
            if (xml[j] == '<' && xml[j + 1] == '/' && memcmp(xml + j + 2, tag, tl) == 0 &&
                xml[j + 2 + tl] == '>') {
                if (j - start + 1 > cap)
                    return MTR_ERANGE;
                xml_decode(xml + start, j - start, out);
                *pos = j + 3 + tl;
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

int mtr_s3_creds_parse(const char *text, const char *profile, struct mtr_s3_creds *c)
{
    char line[4300];
    int in = 0;
    memset(c, 0, sizeof *c);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = 0;
        p = nl ? nl + 1 : p + strlen(p);
        trim(line);
        if (!line[0] || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            char *end = strchr(line, ']');
            if (!end)
                continue;
            *end = 0;
            char *name = line + 1;
            trim(name);
            if (strncmp(name, "profile ", 8) == 0) {
                name += 8;
                trim(name);
            }
            in = strcmp(name, profile) == 0;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *k = line, *v = eq + 1;
        trim(k);
        trim(v);
        if (strcmp(k, "aws_access_key_id") == 0)
            snprintf(c->key_id, sizeof c->key_id, "%s", v);
        else if (strcmp(k, "aws_secret_access_key") == 0)
            snprintf(c->secret, sizeof c->secret, "%s", v);
        else if (strcmp(k, "aws_session_token") == 0)
            snprintf(c->token, sizeof c->token, "%s", v);
    }
    return c->key_id[0] && c->secret[0] ? 0 : MTR_ENOTFOUND;
}

int mtr_s3_uri_encode(const char *s, int keep_slash, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
            (keep_slash && ch == '/')) {
            if (o + 1 >= cap)
                return MTR_ERANGE;
            out[o++] = (char)ch;
        } else {
            if (o + 3 >= cap)
                return MTR_ERANGE;
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    if (o >= cap)
        return MTR_ERANGE;
    out[o] = 0;
    return 0;
}

long mtr_s3_backoff_ms(int attempt, long base_ms, long cap_ms, unsigned *seed)
{
    long ceiling = base_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    *seed = *seed * 1103515245u + 12345u;
    return (long)((*seed >> 8) % (unsigned)(ceiling + 1));
}

/* ======================= the client ======================= */

struct mtr_s3 {
    CURL *curl;
    char endpoint[512], region[64], bucket[256];
    char sigv4[128], userpwd[300];
    struct mtr_s3_creds creds;
    int max_attempts;
    long base_delay_ms, timeout_s, connect_timeout_s;
    uint64_t retries, multiparts;
    unsigned seed;
};

/* Growable response body. */
struct buf {
    char *data;
    size_t len, cap, max;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct buf *b = ctx;
    size_t len = sz * n;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        if (cap > b->max)
            return 0; /* too large: curl fails the transfer */
        char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = 0;
    return len;
}

struct hdrs {
    char etag[128];
};

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct hdrs *h = ctx;
    size_t len = sz * n;
    if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
        size_t i = 5, e = len;
        while (i < e && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
            e--;
        if (e - i < sizeof h->etag) {
            memcpy(h->etag, p + i, e - i);
            h->etag[e - i] = 0;
        }
    }
    return len;
}

/* A request body: either memory, or a section of a file. */
struct body {
    const char *mem;
    FILE *fp;
    uint64_t off, len, done;
};

static size_t on_read(char *p, size_t sz, size_t n, void *ctx)
{
    struct body *b = ctx;
    size_t want = sz * n;
    if (want > b->len - b->done)
        want = (size_t)(b->len - b->done);
    if (!want)
        return 0;
    size_t got;
    if (b->mem) {
        memcpy(p, b->mem + b->done, want);
        got = want;
    } else {
        got = fread(p, 1, want, b->fp);
        if (got == 0)
            return CURL_READFUNC_ABORT;
    }
    b->done += got;
    return got;
}

/* Lets curl rewind the body itself (e.g. after a redirect or a dropped keep-alive connection). */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    struct body *b = ctx;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > b->len)
        return CURL_SEEKFUNC_CANTSEEK;
    if (b->fp && fseeko(b->fp, (off_t)(b->off + (uint64_t)offset), SEEK_SET) != 0)
        return CURL_SEEKFUNC_FAIL;
    b->done = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static int body_sha256(struct body *b, char hex[65])
{
    unsigned char md[32], chunk[65536];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = MTR_ENOMEM;
        goto out;
    }
    if (b->mem) {
        EVP_DigestUpdate(ctx, b->mem, (size_t)b->len);
    } else if (b->len) {
        if (fseeko(b->fp, (off_t)b->off, SEEK_SET) != 0) {
            rc = MTR_EIO;
            goto out;
        }
        for (uint64_t left = b->len; left;) {
            size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
            if (fread(chunk, 1, n, b->fp) != n) {
                rc = MTR_EIO;
                goto out;
            }
            EVP_DigestUpdate(ctx, chunk, n);
            left -= n;
        }
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* The S3 error of a failed response body, as "Code: Message". */
static void s3_error(const struct buf *resp, char *out, size_t cap)
{
    char code[128] = "", msg[256] = "";
    size_t pos = 0;
    if (resp->data) {
        mtr_s3_xml_next(resp->data, resp->len, "Code", &pos, code, sizeof code);
        pos = 0;
        mtr_s3_xml_next(resp->data, resp->len, "Message", &pos, msg, sizeof msg);
    }
    snprintf(out, cap, "%s%s%s", code, *code && *msg ? ": " : "", msg);
}

static int transient_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

static int transient_status(long st)
{
    return st == 408 || st == 429 || st >= 500;
}

/*
 * One S3 request with retries. method: GET, PUT, POST, DELETE; key already without the bucket
 * (encoded here); query in canonical form or NULL; body may be NULL (empty). resp receives the
 * response body (caller frees resp->data), h the ETag. Returns 0 for a 2xx status without an
 * <Error> body, else MTR_EIO with eb filled.
 */
static int request(struct mtr_s3 *s3, const char *method, const char *key, const char *query,
                   struct body *body, struct buf *resp, struct hdrs *h, struct mtr_errbuf *eb)
{
    char ekey[2048], url[3072], sha[65], hsha[100];
    struct body empty = {"", NULL, 0, 0, 0};
    if (!body)
        body = &empty;
    if (mtr_s3_uri_encode(key, 1, ekey, sizeof ekey))
        return mtr_err(eb, MTR_EINVAL, "S3 key too long: %s", key);
    snprintf(url, sizeof url, "%s/%s/%s%s%s", s3->endpoint, s3->bucket, ekey, query ? "?" : "",
             query ? query : "");
    int rc = body_sha256(body, sha);
    if (rc)
        return mtr_err(eb, rc, "%s %s: hashing the body: %s", method, key, strerror(errno));
    snprintf(hsha, sizeof hsha, "x-amz-content-sha256: %s", sha);
    for (int attempt = 1;; attempt++) {
        struct curl_slist *hl = NULL, *t;
        CURL *c = s3->curl;
        char tok[4200];
        curl_easy_reset(c);
        resp->len = 0;
        if (resp->data)
            resp->data[0] = 0;
        if (h)
            h->etag[0] = 0;
        body->done = 0;
        if (body->fp && fseeko(body->fp, (off_t)body->off, SEEK_SET) != 0)
            return mtr_err(eb, MTR_EIO, "%s %s: seek: %s", method, key, strerror(errno));
        hl = curl_slist_append(hl, hsha);
        if (hl && (t = curl_slist_append(hl, "Expect:")))
            hl = t;
        if (hl && s3->creds.token[0]) {
            snprintf(tok, sizeof tok, "x-amz-security-token: %s", s3->creds.token);
            if ((t = curl_slist_append(hl, tok)))
                hl = t;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s3->sigv4);
        curl_easy_setopt(c, CURLOPT_USERPWD, s3->userpwd);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s3->connect_timeout_s);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, s3->timeout_s);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
        if (h) {
            curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
        }
        if (strcmp(method, "PUT") == 0) {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, body);
            curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(c, CURLOPT_SEEKDATA, body);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body->len);
        } else if (strcmp(method, "POST") == 0) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->mem ? body->mem : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
        } else if (strcmp(method, "DELETE") == 0) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
        }
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hl);
        int error_body = resp->data && strstr(resp->data, "<Error>") != NULL;
        if (cc == CURLE_OK && status >= 200 && status < 300 && !error_body)
            return 0;
        int again = cc != CURLE_OK ? transient_curl(cc)
                                   : transient_status(status) || (status == 200 && error_body);
        if (!again || attempt >= s3->max_attempts) {
            char why[400];
            if (cc != CURLE_OK)
                snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
            else
                s3_error(resp, why, sizeof why);
            return mtr_err(eb, MTR_EIO, "S3 %s %s/%s: %s%s (HTTP %ld, %d attempt%s)", method,
                           s3->bucket, key, why, *why ? "" : "failed", status, attempt,
                           attempt == 1 ? "" : "s");
        }
        s3->retries++;
        long ms = mtr_s3_backoff_ms(attempt, s3->base_delay_ms, 5000, &s3->seed);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int mtr_s3_new(const struct mtr_s3_options *o, struct mtr_s3 **out, struct mtr_errbuf *eb)
{
    *out = NULL;
    static int inited;
    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return mtr_err(eb, MTR_EIO, "curl_global_init failed");
        inited = 1;
    }
    struct mtr_s3 *s3 = calloc(1, sizeof *s3);
    if (!s3)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    snprintf(s3->endpoint, sizeof s3->endpoint, "%s", o->endpoint);
    size_t el = strlen(s3->endpoint);
    while (el && s3->endpoint[el - 1] == '/')
        s3->endpoint[--el] = 0;
    snprintf(s3->region, sizeof s3->region, "%s", o->region);
    snprintf(s3->bucket, sizeof s3->bucket, "%s", o->bucket);
    s3->creds = o->creds;
    snprintf(s3->sigv4, sizeof s3->sigv4, "aws:amz:%s:s3", s3->region);
    snprintf(s3->userpwd, sizeof s3->userpwd, "%s:%s", o->creds.key_id, o->creds.secret);
    s3->max_attempts = o->max_attempts > 0 ? o->max_attempts : 5;
    s3->base_delay_ms = o->base_delay_ms > 0 ? o->base_delay_ms : 100;
    s3->timeout_s = o->timeout_s > 0 ? o->timeout_s : 300;
    s3->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 10;
    s3->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (!(s3->curl = curl_easy_init())) {
        free(s3);
        return mtr_err(eb, MTR_ENOMEM, "curl_easy_init failed");
    }
    *out = s3;
    return 0;
}

void mtr_s3_free(struct mtr_s3 *s3)
{
    if (!s3)
        return;
    curl_easy_cleanup(s3->curl);
    free(s3);
}

uint64_t mtr_s3_retries(const struct mtr_s3 *s3)
{
    return s3->retries;
}

uint64_t mtr_s3_multipart_uploads(const struct mtr_s3 *s3)
{
    return s3->multiparts;
}

static int multipart(struct mtr_s3 *s3, const char *key, FILE *fp, uint64_t size,
                     uint64_t part_size, struct mtr_errbuf *eb)
{
    struct buf resp = {NULL, 0, 0, 1 << 20};
    struct hdrs h;
    char upload_id[1024], eid[3200] = "", query[3400];
    char *xml = NULL;
    size_t xlen = 0, xcap = 0;
    int rc = request(s3, "POST", key, "uploads=", NULL, &resp, NULL, eb);
    if (rc)
        goto out;
    size_t pos = 0;
    if (mtr_s3_xml_next(resp.data, resp.len, "UploadId", &pos, upload_id, sizeof upload_id) != 1) {
        rc = mtr_err(eb, MTR_EIO, "S3 %s: no UploadId in the CreateMultipartUpload response", key);
        goto out;
    }
    mtr_s3_uri_encode(upload_id, 0, eid, sizeof eid);
    uint64_t nparts = (size + part_size - 1) / part_size;
    xcap = 128 + nparts * 200;
    if (!(xml = malloc(xcap))) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory");
        goto abort;
    }
    xlen = (size_t)snprintf(xml, xcap, "<CompleteMultipartUpload>");
    for (uint64_t i = 0; i < nparts; i++) {
        struct body b = {NULL, fp, i * part_size, 0, 0};
        b.len = size - b.off < part_size ? size - b.off : part_size;
        snprintf(query, sizeof query, "partNumber=%llu&uploadId=%s", (unsigned long long)i + 1,
                 eid);
        if ((rc = request(s3, "PUT", key, query, &b, &resp, &h, eb)))
            goto abort;
        if (!h.etag[0]) {
            rc = mtr_err(eb, MTR_EIO, "S3 %s: part %llu: no ETag in the response", key,
                         (unsigned long long)i + 1);
            goto abort;
        }
        xlen += (size_t)snprintf(xml + xlen, xcap - xlen,
                                 "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag></Part>",
                                 (unsigned long long)i + 1, h.etag);
    }
    xlen += (size_t)snprintf(xml + xlen, xcap - xlen, "</CompleteMultipartUpload>");
    snprintf(query, sizeof query, "uploadId=%s", eid);
    struct body cb = {xml, NULL, 0, xlen, 0};
    if ((rc = request(s3, "POST", key, query, &cb, &resp, NULL, eb)))
        goto abort;
    s3->multiparts++;
    goto out;
abort : {
    /* best effort: the parts are never visible, this only frees the store's space */
    struct mtr_errbuf ignored;
    snprintf(query, sizeof query, "uploadId=%s", eid);
    request(s3, "DELETE", key, query, NULL, &resp, NULL, &ignored);
}
out:
    free(xml);
    free(resp.data);
    return rc;
}

int mtr_s3_upload(struct mtr_s3 *s3, const char *key, FILE *fp, uint64_t size, uint64_t threshold,
                  uint64_t part_size, struct mtr_errbuf *eb)
{
    if (part_size == 0)
        return mtr_err(eb, MTR_EINVAL, "S3 part size must be positive");
    if (size >= threshold && size > part_size)
        return multipart(s3, key, fp, size, part_size, eb);
    struct buf resp = {NULL, 0, 0, 1 << 20};
    struct body b = {NULL, fp, 0, size, 0};
    int rc = request(s3, "PUT", key, NULL, &b, &resp, NULL, eb);
    free(resp.data);
    return rc;
}

int mtr_s3_list(struct mtr_s3 *s3, const char *prefix,
                int (*cb)(void *ctx, const char *key, uint64_t size), void *ctx,
                struct mtr_errbuf *eb)
{
    struct buf resp = {NULL, 0, 0, 64 << 20};
    char eprefix[2048], token[1024] = "", etoken[3200], query[6000], key[1100], size[32];
    int rc = 0;
    if (mtr_s3_uri_encode(prefix, 0, eprefix, sizeof eprefix))
        return mtr_err(eb, MTR_EINVAL, "S3 prefix too long");
    for (;;) {
        if (token[0]) {
            mtr_s3_uri_encode(token, 0, etoken, sizeof etoken);
            snprintf(query, sizeof query, "continuation-token=%s&list-type=2&prefix=%s", etoken,
                     eprefix);
        } else {
            snprintf(query, sizeof query, "list-type=2&prefix=%s", eprefix);
        }
        if ((rc = request(s3, "GET", "", query, NULL, &resp, NULL, eb)))
            break;
        size_t pos = 0;
        for (;;) {
            size_t cpos = pos;
            /* every <Contents> holds one <Key> and one <Size> */
            if (mtr_s3_xml_next(resp.data, resp.len, "Key", &cpos, key, sizeof key) != 1)
                break;
            size_t spos = cpos;
            if (mtr_s3_xml_next(resp.data, resp.len, "Size", &spos, size, sizeof size) != 1)
                break;
            pos = spos;
            if ((rc = cb(ctx, key, strtoull(size, NULL, 10))))
                goto out;
        }
        char trunc[16] = "";
        size_t tpos = 0;
        mtr_s3_xml_next(resp.data, resp.len, "IsTruncated", &tpos, trunc, sizeof trunc);
        tpos = 0;
        if (strcmp(trunc, "true") != 0 ||
            mtr_s3_xml_next(resp.data, resp.len, "NextContinuationToken", &tpos, token,
                            sizeof token) != 1)
            break;
    }
out:
    free(resp.data);
    return rc;
}
