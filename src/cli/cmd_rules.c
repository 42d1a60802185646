/* cmd_rules.c - `metrify rules`: the rule catalogue (ids, actions, descriptions). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/vocab.h"

static const char *action_name(enum mtr_rule_action a)
{
    static const char *const names[] = {"quarantine", "flag", "alert", "info"};
    return names[a];
}

int mtr_cmd_rules(struct mtr_cli *cli, int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: metrify rules [--json]\n\nLists every rule: its stable id, what a failure "
               "does (quarantine, flag, alert, info) and what it checks.\n");
        return MTR_EXIT_OK;
    }
    if (argc > 1) {
        mtr_cli_error("rules: unexpected argument '%s'", argv[1]);
        return MTR_EXIT_USAGE;
    }
    json_t *arr = cli->json ? json_array() : NULL;
    for (int i = 0; i < MTR_RULE_COUNT; i++) {
        const struct mtr_rule *r = mtr_rule(i);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "id", r->name, "action",
                                                 action_name(r->action), "description", r->what));
        else
            printf("%-28s %-10s %s\n", r->name, action_name(r->action), r->what);
    }
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
    }
    return MTR_EXIT_OK;
}
