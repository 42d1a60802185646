/*
 * parse_bench.c - measures the readings decode path (gzip/plain read, CSV tokenizing, timestamp
 * and number parsing, record filling) through the file source port, in records per second.
 * usage: parse_bench FILE [format] ; FILE from bench/gen_readings.py. Build:
 *   make build/release/libmetrify.a && cc -O2 -D_GNU_SOURCE -Isrc bench/parse_bench.c \
 *     build/release/libmetrify.a -lz -ljansson -lm -lpthread -o build/release/parse_bench
 */
#include <stdio.h>
#include <time.h>

#include "adapters/io/source_file.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [format]\n", argv[0]);
        return 2;
    }
    struct mtr_format f;
    struct mtr_errbuf eb;
    mtr_format_init(&f);
    if (argc > 2 && mtr_format_set_name(&f, argv[2], &eb) < 0) {
        fprintf(stderr, "%s\n", eb.msg);
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct mtr_source *src;
    int rc = mtr_source_open(argv[1], MTR_KIND_READING, &f, &src, &eb);
    if (rc < 0) {
        fprintf(stderr, "%s\n", eb.msg);
        return 1;
    }
    long ok = 0, bad = 0;
    double sum = 0;
    struct mtr_record rec;
    struct mtr_record_error err;
    while ((rc = src->ops->next(src, &rec, &err)) != 0) {
        if (rc == 1) {
            ok++;
            sum += rec.u.reading.kwh;
        } else if (rc == MTR_EPARSE) {
            bad++;
        } else {
            fprintf(stderr, "%s\n", err.message);
            break;
        }
    }
    src->ops->close(src);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%ld records, %ld errors, %.3f s, %.2f M records/s (checksum %.3f)\n", ok, bad, s,
           (double)(ok + bad) / s / 1e6, sum);
    return 0;
}
