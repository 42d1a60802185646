/* t.c - state and failure reporting of the unit-test harness (see t.h). */
#include "t.h"

#include <stdarg.h>

int t_failed_checks, t_passed, t_failed;
const char *t_current = "";

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: [%s] ", file, line, t_current);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    t_failed_checks++;
}
