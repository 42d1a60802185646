/* format.c - format names and the column map parser (see format.h). */
#include "adapters/io/format.h"

#include <string.h>
#include <strings.h>

#include "adapters/io/decode.h"

static const char *const names[MTR_FORMAT_COUNT] = {"auto", "csv", "ndjson", "lcl", "darksky"};

void mtr_format_init(struct mtr_format *f)
{
    memset(f, 0, sizeof *f);
}

const char *mtr_format_name_str(enum mtr_format_name n)
{
    return (unsigned)n < MTR_FORMAT_COUNT ? names[n] : "unknown";
}

int mtr_format_set_name(struct mtr_format *f, const char *name, struct mtr_errbuf *eb)
{
    for (int i = 0; i < MTR_FORMAT_COUNT; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            f->name = (enum mtr_format_name)i;
            return 0;
        }
    }
    if (strcasecmp(name, "json") == 0) {
        f->name = MTR_FORMAT_NDJSON;
        return 0;
    }
    return mtr_err(eb, MTR_EINVAL, "unknown format '%s' (known: auto, csv, ndjson, lcl, darksky)",
                   name);
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

int mtr_format_set_map(struct mtr_format *f, const char *spec, struct mtr_errbuf *eb)
{
    struct mtr_format tmp = *f;
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return mtr_err(eb, MTR_EINVAL, "column map entry '%.*s' has no '=' (want field=column)",
                           (int)n, p);
        const char *fs = p, *cs = eq + 1;
        size_t fl = (size_t)(eq - p), cl = n - fl - 1;
        trim(&fs, &fl);
        trim(&cs, &cl);
        if (!fl || !cl)
            return mtr_err(eb, MTR_EINVAL, "column map entry '%.*s' has an empty name", (int)n, p);
        char field[32];
        if (fl >= sizeof field || !mtr_decode_field_known(fs, fl))
            return mtr_err(eb, MTR_EINVAL, "column map: unknown field '%.*s' (known: %s)", (int)fl,
                           fs, mtr_decode_field_list());
        if (cl >= sizeof tmp.map[0].column)
            return mtr_err(eb, MTR_EINVAL, "column map: column name '%.*s' is too long", (int)cl,
                           cs);
        memcpy(field, fs, fl);
        field[fl] = 0;
        int slot = tmp.nmap;
        for (int i = 0; i < tmp.nmap; i++)
            if (strcasecmp(tmp.map[i].field, field) == 0)
                slot = i;
        if (slot == MTR_FORMAT_MAP_MAX)
            return mtr_err(eb, MTR_EINVAL, "column map: more than %d entries", MTR_FORMAT_MAP_MAX);
        for (size_t i = 0; i <= fl; i++)
            tmp.map[slot].field[i] =
                (char)((field[i] >= 'A' && field[i] <= 'Z') ? field[i] + 32 : field[i]);
        memcpy(tmp.map[slot].column, cs, cl);
        tmp.map[slot].column[cl] = 0;
        if (slot == tmp.nmap)
            tmp.nmap++;
        p = e ? e + 1 : p + n;
    }
    *f = tmp;
    return 0;
}
