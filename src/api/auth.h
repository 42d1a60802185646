/*
 * auth.h - API authentication pieces, free of HTTP: API keys (generation, SHA-256 hashing: only
 * the hash is stored), role names, HS256 JWT verification and the per-key token-bucket rate
 * limiter. The server (server.c) combines them; unit tests exercise each alone.
 */
#ifndef MTR_API_AUTH_H
#define MTR_API_AUTH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "app/ports.h"

#define MTR_API_KEY_LEN 48 /* "mtr_" + 8 hex id + "_" + 32 hex secret, plus slack */

/* Generates a new key "mtr_<id>_<secret>" (random from the OS CSPRNG) into key, its public id
 * "<id>" into id (8 hex). Returns 0 or MTR_EIO when no randomness is available. */
int mtr_api_key_generate(char key[MTR_API_KEY_LEN], char id[16]);

/* Lower-case hex SHA-256 of s[0..len) into hex (65 bytes with the NUL). */
void mtr_api_sha256_hex(const char *s, size_t len, char hex[65]);

/* "viewer", "operator", "admin" (and "public" for MTR_ROLE_NONE); parse returns the role or -1. */
const char *mtr_api_role_name(enum mtr_role r);
int mtr_api_role_parse(const char *s);

/*
 * Verifies an HS256 JWT (header.payload.signature, base64url) with secret: the algorithm must be
 * HS256, the signature must match (constant-time compare), `exp` (required) must be in the future
 * and `nbf` (optional) in the past at `now`, and the claim `role` must be a role name. Fills *role
 * and sub (the `sub` claim, "" when absent). Returns 0, or MTR_EINVAL with a reason in eb.
 */
int mtr_api_jwt_verify(const char *token, const char *secret, int64_t now, enum mtr_role *role,
                       char *sub, size_t sub_cap, struct mtr_errbuf *eb);

/* Signs a JWT with the given claims (for tests and tooling): {"alg":"HS256","typ":"JWT"} and
 * {"sub":sub,"role":role,"exp":exp}. Writes at most cap bytes; returns 0 or MTR_ERANGE. */
int mtr_api_jwt_sign(const char *secret, const char *sub, const char *role, int64_t exp, char *out,
                     size_t cap);

/* A token bucket per key: `rate` tokens per second, bucket of `burst`; fixed memory (buckets
 * beyond the table's size share slots by hash, which can only make limiting stricter). */
#define MTR_RATELIMIT_SLOTS 1024
struct mtr_ratelimit {
    double rate, burst;
    pthread_mutex_t mu;
    struct {
        uint64_t key_hash;
        double tokens;
        int64_t last_ns;
    } slot[MTR_RATELIMIT_SLOTS];
};

/* Sets up rl (rate <= 0: unlimited). Free with mtr_ratelimit_destroy. */
void mtr_ratelimit_init(struct mtr_ratelimit *rl, double rate, double burst);
void mtr_ratelimit_destroy(struct mtr_ratelimit *rl);

/* Takes one token for key at time now_ns (monotonic). Returns 1 when allowed; 0 when limited,
 * with *retry_after_s the whole seconds until a token is available (at least 1). */
int mtr_ratelimit_take(struct mtr_ratelimit *rl, const char *key, int64_t now_ns,
                       int *retry_after_s);

#endif
