/*
 * lake_s3.h - the lake port (app/ports.h) on an S3-compatible object store. Each file is staged
 * complete in a private local temporary directory and only then uploaded under its final key
 * (one PUT, or a multipart upload that is completed last or aborted), so an object is visible
 * complete or not at all. Configuration follows the AWS conventions (environment variables,
 * ~/.aws/credentials profiles); any endpoint works, path-style.
 */
#ifndef MTR_LAKE_S3_H
#define MTR_LAKE_S3_H

#include <stddef.h>

#include "app/ports.h"

struct mtr_s3_config {
    const char *url;      /* s3://bucket[/prefix] (required) */
    const char *endpoint; /* NULL: $METRIFY_S3_ENDPOINT, $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL,
                             else https://s3.REGION.amazonaws.com */
    const char *region;   /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1 */
    const char *profile;  /* NULL: $AWS_PROFILE, else "default" */
    size_t multipart_threshold; /* default 8 MiB */
    size_t part_size;           /* default 8 MiB */
    int max_attempts;           /* default 5 */
};

/* Fills c with the defaults (NULLs and sizes above). */
void mtr_s3_config_default(struct mtr_s3_config *c);

/* Resolves endpoint, region and credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, else the profile of $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) and
 * returns a new lake in *out (freed by its close op). c is borrowed for the call.
 * Errors: MTR_EINVAL (bad URL, no credentials), MTR_EIO, MTR_ENOMEM. */
int mtr_lake_s3_open(const struct mtr_s3_config *c, struct mtr_lake **out, struct mtr_errbuf *eb);

#endif
