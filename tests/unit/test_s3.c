/*
 * test_s3.c - the pure parts of the S3 client (adapters/s3/s3.h): s3:// URLs, XML value
 * extraction from S3 responses, the AWS shared-credentials file, SigV4 URI encoding and the
 * retry backoff. The network parts are covered by tests/integration/lake_s3.sh.
 */
#include <string.h>

#include "adapters/s3/s3.h"
#include "t.h"

static void test_parse_url(void)
{
    char b[64], p[64];
    T_EQ_INT(mtr_s3_parse_url("s3://bucket/a/b/", b, sizeof b, p, sizeof p), 0);
    T_EQ_STR(b, "bucket");
    T_EQ_STR(p, "a/b");
    T_EQ_INT(mtr_s3_parse_url("s3://bucket", b, sizeof b, p, sizeof p), 0);
    T_EQ_STR(p, "");
    T_EQ_INT(mtr_s3_parse_url("s3://bucket//x", b, sizeof b, p, sizeof p), 0);
    T_EQ_STR(p, "x");
    T_EQ_INT(mtr_s3_parse_url("s3:///x", b, sizeof b, p, sizeof p), MTR_EINVAL);
    T_EQ_INT(mtr_s3_parse_url("http://bucket/x", b, sizeof b, p, sizeof p), MTR_EINVAL);
    T_EQ_INT(mtr_s3_parse_url(
                 "s3://b/0123456789012345678901234567890123456789012345678901234567890123456789", b,
                 sizeof b, p, sizeof p),
             MTR_EINVAL);
}

static void test_xml(void)
{
    const char *x = "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3\">"
                    "<Keys>no</Keys><Contents><Key>a&amp;b/part-0001.parquet</Key>"
                    "<Size>12</Size></Contents><Contents><Key>c&lt;d&gt;&quot;&apos;</Key>"
                    "<Size>3</Size></Contents><Empty/><UploadId a=\"1\">u-1</UploadId>"
                    "</ListBucketResult>";
    size_t len = strlen(x), pos = 0;
    char v[64];
    T_EQ_INT(mtr_s3_xml_next(x, len, "Key", &pos, v, sizeof v), 1); /* <Keys> is skipped */
    T_EQ_STR(v, "a&b/part-0001.parquet");
    T_EQ_INT(mtr_s3_xml_next(x, len, "Size", &pos, v, sizeof v), 1);
    T_EQ_STR(v, "12");
    T_EQ_INT(mtr_s3_xml_next(x, len, "Key", &pos, v, sizeof v), 1);
    T_EQ_STR(v, "c<d>\"'");
    size_t after = pos;
    T_EQ_INT(mtr_s3_xml_next(x, len, "Key", &pos, v, sizeof v), 0);
    T_EQ_INT(pos, after);
    pos = 0;
    T_EQ_INT(mtr_s3_xml_next(x, len, "Empty", &pos, v, sizeof v), 1);
    T_EQ_STR(v, "");
    pos = 0;
    T_EQ_INT(mtr_s3_xml_next(x, len, "UploadId", &pos, v, sizeof v), 1);
    T_EQ_STR(v, "u-1");
    pos = 0;
    T_EQ_INT(mtr_s3_xml_next(x, len, "Key", &pos, v, 4), MTR_ERANGE);
    pos = 0;
    T_EQ_INT(mtr_s3_xml_next("<Key>unterminated", 17, "Key", &pos, v, sizeof v), 0);
}

static void test_creds(void)
{
    const char *f = "# comment\n[default]\naws_access_key_id = AKDEFAULT\n"
                    "aws_secret_access_key=SECRETDEFAULT\n\n"
                    "[profile lake]\r\n aws_access_key_id = AKLAKE \r\n"
                    "aws_secret_access_key = SKLAKE\r\naws_session_token = TOKEN==\r\n"
                    "[half]\naws_access_key_id = AKHALF\n";
    struct mtr_s3_creds c;
    T_EQ_INT(mtr_s3_creds_parse(f, "default", &c), 0);
    T_EQ_STR(c.key_id, "AKDEFAULT");
    T_EQ_STR(c.secret, "SECRETDEFAULT");
    T_EQ_STR(c.token, "");
    T_EQ_INT(mtr_s3_creds_parse(f, "lake", &c), 0);
    T_EQ_STR(c.key_id, "AKLAKE");
    T_EQ_STR(c.secret, "SKLAKE");
    T_EQ_STR(c.token, "TOKEN==");
    T_EQ_INT(mtr_s3_creds_parse(f, "half", &c), MTR_ENOTFOUND);
    T_EQ_INT(mtr_s3_creds_parse(f, "nope", &c), MTR_ENOTFOUND);
}

static void test_uri_encode(void)
{
    char o[128];
    T_EQ_INT(
        mtr_s3_uri_encode("p/dataset=readings/date=2026-01-02/part-0000.parquet", 1, o, sizeof o),
        0);
    T_EQ_STR(o, "p/dataset%3Dreadings/date%3D2026-01-02/part-0000.parquet");
    T_EQ_INT(mtr_s3_uri_encode("a b/~_.\xc3\xa9+", 0, o, sizeof o), 0);
    T_EQ_STR(o, "a%20b%2F~_.%C3%A9%2B");
    T_EQ_INT(mtr_s3_uri_encode("abc", 0, o, 4), 0);
    T_EQ_INT(mtr_s3_uri_encode("abc", 0, o, 3), MTR_ERANGE);
    T_EQ_INT(mtr_s3_uri_encode("=", 0, o, 3), MTR_ERANGE);
}

static void test_backoff(void)
{
    unsigned seed = 7;
    long max_seen[8] = {0};
    for (int k = 0; k < 2000; k++)
        for (int a = 1; a <= 7; a++) {
            long ms = mtr_s3_backoff_ms(a, 100, 1000, &seed);
            long ceiling = a == 1 ? 100 : a == 2 ? 200 : a == 3 ? 400 : a == 4 ? 800 : 1000;
            T_CHECK(ms >= 0 && ms <= ceiling);
            if (ms > max_seen[a])
                max_seen[a] = ms;
        }
    /* full jitter: the whole range is used, and it grows with the attempt until the cap */
    T_CHECK(max_seen[1] > 80);
    T_CHECK(max_seen[3] > 300);
    T_CHECK(max_seen[7] > 900);
}

int main(void)
{
    T_RUN(test_parse_url);
    T_RUN(test_xml);
    T_RUN(test_creds);
    T_RUN(test_uri_encode);
    T_RUN(test_backoff);
    return T_END();
}
