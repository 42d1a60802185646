/*
 * s3.h - a small S3 client over libcurl: PUT object, multipart upload (create, upload part,
 * complete, abort), ListObjectsV2 and GET, signed with AWS Signature V4 by curl
 * (CURLOPT_AWS_SIGV4), path-style URLs so that MinIO, s3rver and other S3-compatible stores work,
 * bounded retries with exponential backoff and full jitter on connection errors, timeouts, 429
 * and 5xx. Plus the pure pieces it is made of (URL, XML, credentials-file parsing, encoding),
 * exported for unit tests.
 */
#ifndef MTR_S3_H
#define MTR_S3_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

struct mtr_s3_creds {
    char key_id[128];
    char secret[128];
    char token[4096]; /* session token, "" when none */
};

/* Splits "s3://bucket[/prefix[/]]" into bucket and prefix (no leading or trailing '/').
 * 0 or MTR_EINVAL. */
int mtr_s3_parse_url(const char *url, char *bucket, size_t bcap, char *prefix, size_t pcap);

/* Finds the next <tag>text</tag> in xml[0..len) at or after *pos, copies text with the five XML
 * entities decoded into out (NUL-terminated) and moves *pos past it. Returns 1 when found, 0 when
 * not, MTR_ERANGE when the text does not fit in cap. Tags with attributes (<tag a="x">) match. */
int mtr_s3_xml_next(const char *xml, size_t len, const char *tag, size_t *pos, char *out,
                    size_t cap);

/* Reads the [profile] section of an AWS shared credentials file's text (aws_access_key_id,
 * aws_secret_access_key, aws_session_token). "default" may also be written [default].
 * 0, MTR_ENOTFOUND (no such profile or no keys in it). */
int mtr_s3_creds_parse(const char *text, const char *profile, struct mtr_s3_creds *c);

/* Percent-encodes s per SigV4 (unreserved A-Z a-z 0-9 - _ . ~ kept; '/' kept when keep_slash).
 * Returns 0, or MTR_ERANGE when out (cap bytes) is too small. */
int mtr_s3_uri_encode(const char *s, int keep_slash, char *out, size_t cap);

/* Milliseconds to sleep before retry `attempt` (1-based): uniform in [0, min(cap, base*2^n)]
 * ("full jitter"); *seed is the caller's PRNG state. */
long mtr_s3_backoff_ms(int attempt, long base_ms, long cap_ms, unsigned *seed);

struct mtr_s3_options {
    const char *endpoint; /* "http://127.0.0.1:9000"; no trailing slash needed */
    const char *region;
    const char *bucket;
    struct mtr_s3_creds creds;
    int max_attempts;       /* per request (default 5) */
    long base_delay_ms;     /* backoff base (default 100) */
    long timeout_s;         /* per request (default 300) */
    long connect_timeout_s; /* default 10 */
};

struct mtr_s3;

/* A client for one bucket. opts (strings copied) ; *out freed with mtr_s3_free. */
int mtr_s3_new(const struct mtr_s3_options *opts, struct mtr_s3 **out, struct mtr_errbuf *eb);
void mtr_s3_free(struct mtr_s3 *s3);

/* Uploads `size` bytes of fp (from offset 0; borrowed) under key: one PUT below `threshold`
 * bytes, else a multipart upload in `part_size` parts, aborted on failure so that nothing
 * becomes visible. Errors: MTR_EIO (network, HTTP status, S3 error; eb has the S3 code). */
int mtr_s3_upload(struct mtr_s3 *s3, const char *key, FILE *fp, uint64_t size, uint64_t threshold,
                  uint64_t part_size, struct mtr_errbuf *eb);

/* Lists keys under prefix (all pages), calling cb(ctx, key, size); a non-zero cb return stops. */
int mtr_s3_list(struct mtr_s3 *s3, const char *prefix,
                int (*cb)(void *ctx, const char *key, uint64_t size), void *ctx,
                struct mtr_errbuf *eb);

/* Transient failures retried so far, and multipart uploads completed (for reports and tests). */
uint64_t mtr_s3_retries(const struct mtr_s3 *s3);
uint64_t mtr_s3_multipart_uploads(const struct mtr_s3 *s3);

#endif
