/* auth.c - API keys, JWT (HS256) and the rate limiter of auth.h, on OpenSSL's libcrypto. */
#include "api/auth.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char hexd[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[b[i] >> 4];
        out[2 * i + 1] = hexd[b[i] & 15];
    }
    out[2 * n] = 0;
}

int mtr_api_key_generate(char key[MTR_API_KEY_LEN], char id[16])
{
    unsigned char b[20];
    char hx[41];
    if (RAND_bytes(b, sizeof b) != 1)
        return MTR_EIO;
    to_hex(b, sizeof b, hx);
    memcpy(id, hx, 8);
    id[8] = 0;
    snprintf(key, MTR_API_KEY_LEN, "mtr_%.8s_%s", hx, hx + 8);
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}

/* SHA-256 fetched from the provider once: EVP_sha256() makes every EVP_Digest fetch it again,
 * under a lock, and every authenticated request hashes its key. Kept for the process. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void mtr_api_sha256_hex(const char *s, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    pthread_once(&sha256_once, sha256_fetch);
    EVP_Digest(s, len, md, &n, sha256_md ? sha256_md : EVP_sha256(), NULL);
    to_hex(md, 32, hex);
}

static const char *const role_names[] = {"public", "viewer", "operator", "admin"};

const char *mtr_api_role_name(enum mtr_role r)
{
    return (unsigned)r <= MTR_ROLE_ADMIN ? role_names[r] : "unknown";
}

int mtr_api_role_parse(const char *s)
{
    for (int i = MTR_ROLE_VIEWER; i <= MTR_ROLE_ADMIN; i++)
        if (s && strcmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

/* ---- base64url (no padding) ---- */

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes s[0..n) into out (cap bytes); returns the length or -1. */
static long b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)o;
}

static size_t b64url_encode(const unsigned char *b, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | b[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = a[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = a[(acc << (6 - bits)) & 63];
    out[o] = 0;
    return o;
}

static void hs256(const char *secret, const char *msg, size_t n, unsigned char mac[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, n, mac, &len);
}

int mtr_api_jwt_verify(const char *token, const char *secret, int64_t now, enum mtr_role *role,
                       char *sub, size_t sub_cap, struct mtr_errbuf *eb)
{
    unsigned char buf[2048], mac[32], sig[64];
    json_t *hdr = NULL, *pl = NULL;
    int rc = 0;
    const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return mtr_err(eb, MTR_EINVAL, "not a JWT (header.payload.signature)");
    long n = b64url_decode(token, (size_t)(d1 - token), buf, sizeof buf);
    if (n < 0 || !(hdr = json_loadb((const char *)buf, (size_t)n, 0, NULL))) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT header is not base64url JSON");
        goto out;
    }
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (!alg || strcmp(alg, "HS256") != 0) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT algorithm must be HS256");
        goto out;
    }
    hs256(secret, token, (size_t)(d2 - token), mac);
    long sn = b64url_decode(d2 + 1, strlen(d2 + 1), sig, sizeof sig);
    if (sn != 32 || CRYPTO_memcmp(sig, mac, 32) != 0) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT signature does not match");
        goto out;
    }
    n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf, sizeof buf);
    if (n < 0 || !(pl = json_loadb((const char *)buf, (size_t)n, 0, NULL)) || !json_is_object(pl)) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT payload is not base64url JSON");
        goto out;
    }
    json_t *exp = json_object_get(pl, "exp"), *nbf = json_object_get(pl, "nbf");
    if (!json_is_number(exp) || json_number_value(exp) <= (double)now) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT expired or without exp");
        goto out;
    }
    if (nbf && (!json_is_number(nbf) || json_number_value(nbf) > (double)now)) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT not valid yet (nbf)");
        goto out;
    }
    int r = mtr_api_role_parse(json_string_value(json_object_get(pl, "role")));
    if (r < 0) {
        rc = mtr_err(eb, MTR_EINVAL, "JWT role claim must be viewer, operator or admin");
        goto out;
    }
    *role = (enum mtr_role)r;
    const char *s = json_string_value(json_object_get(pl, "sub"));
    snprintf(sub, sub_cap, "%s", s ? s : "");
out:
    json_decref(hdr);
    json_decref(pl);
    return rc;
}

int mtr_api_jwt_sign(const char *secret, const char *sub, const char *role, int64_t exp, char *out,
                     size_t cap)
{
    char payload[512], enc[1024], msg[1200];
    unsigned char mac[32];
    char sig[64];
    static const char hdr[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; /* {"alg":"HS256","typ":"JWT"} */
    int pn = snprintf(payload, sizeof payload, "{\"sub\":\"%s\",\"role\":\"%s\",\"exp\":%lld}", sub,
                      role, (long long)exp);
    if (pn < 0 || (size_t)pn >= sizeof payload)
        return MTR_ERANGE;
    b64url_encode((const unsigned char *)payload, (size_t)pn, enc);
    int mn = snprintf(msg, sizeof msg, "%s.%s", hdr, enc);
    if (mn < 0 || (size_t)mn >= sizeof msg)
        return MTR_ERANGE;
    hs256(secret, msg, (size_t)mn, mac);
    b64url_encode(mac, 32, sig);
    int n = snprintf(out, cap, "%s.%s", msg, sig);
    return n < 0 || (size_t)n >= cap ? MTR_ERANGE : 0;
}

/* ---- rate limiter ---- */

void mtr_ratelimit_init(struct mtr_ratelimit *rl, double rate, double burst)
{
    memset(rl, 0, sizeof *rl);
    rl->rate = rate;
    rl->burst = burst >= 1 ? burst : (rate >= 1 ? rate : 1);
    pthread_mutex_init(&rl->mu, NULL);
}

void mtr_ratelimit_destroy(struct mtr_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->mu);
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h | 1; /* 0 marks an unused slot */
}

int mtr_ratelimit_take(struct mtr_ratelimit *rl, const char *key, int64_t now_ns,
                       int *retry_after_s)
{
    if (rl->rate <= 0)
        return 1;
    uint64_t h = fnv(key);
    int ok;
    pthread_mutex_lock(&rl->mu);
    __typeof__(rl->slot[0]) *sl = &rl->slot[h % MTR_RATELIMIT_SLOTS];
    if (sl->key_hash != h) { /* new key (or a colliding one takes the slot over, full) */
        sl->key_hash = h;
        sl->tokens = rl->burst;
        sl->last_ns = now_ns;
    }
    double add = (double)(now_ns - sl->last_ns) / 1e9 * rl->rate;
    if (add > 0) {
        sl->tokens = fmin(rl->burst, sl->tokens + add);
        sl->last_ns = now_ns;
    }
    if (sl->tokens >= 1) {
        sl->tokens -= 1;
        ok = 1;
    } else {
        double wait = (1 - sl->tokens) / rl->rate;
        *retry_after_s = (int)ceil(wait) < 1 ? 1 : (int)ceil(wait);
        ok = 0;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}
