/* test_vocab.c - the vocabulary is consistent with itself and with docs/domain.md. */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/vocab.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

static void test_rule_table_is_indexed_by_id(void)
{
    for (int i = 0; i < MTR_RULE_COUNT; i++) {
        T_EQ_INT(mtr_rule(i)->id, i);
        T_EQ_INT(mtr_rule_parse(mtr_rule(i)->name), i);
    }
    T_CHECK(MTR_RULE_COUNT <= 64); /* flags are a 64-bit word */
}

static void test_every_rule_is_documented(void)
{
    char *doc = slurp("docs/domain.md");
    T_CHECK(doc != NULL);
    if (!doc)
        return;
    for (int i = 0; i < MTR_RULE_COUNT; i++) {
        char needle[80];
        snprintf(needle, sizeof needle, "`%s`", mtr_rule(i)->name);
        if (!strstr(doc, needle))
            t_fail(__FILE__, __LINE__, "rule %s is not in docs/domain.md", mtr_rule(i)->name);
    }
    free(doc);
}

static void test_status_transitions(void)
{
    T_CHECK(mtr_meter_status_can_move(MTR_METER_PENDING, MTR_METER_ACTIVE));
    T_CHECK(mtr_meter_status_can_move(MTR_METER_FAULTY, MTR_METER_MAINTENANCE));
    T_CHECK(!mtr_meter_status_can_move(MTR_METER_FAULTY, MTR_METER_ACTIVE));
    T_CHECK(!mtr_meter_status_can_move(MTR_METER_DECOMMISSIONED, MTR_METER_ACTIVE));
    T_CHECK(!mtr_meter_status_accepts_readings(MTR_METER_DECOMMISSIONED));
    T_EQ_INT(mtr_meter_status_parse("FAULTY"), MTR_METER_FAULTY);
    T_EQ_INT(mtr_tier_parse("Excellent"), MTR_TIER_EXCELLENT);
    T_EQ_INT(mtr_level_from_score(0.95), MTR_LEVEL_CRITICAL);
    T_EQ_INT(mtr_level_from_score(0.79), MTR_LEVEL_MEDIUM);
    T_EQ_INT(mtr_level_from_score(0.1), MTR_LEVEL_LOW);
}

int main(void)
{
    T_RUN(test_rule_table_is_indexed_by_id);
    T_RUN(test_every_rule_is_documented);
    T_RUN(test_status_transitions);
    return T_END();
}
