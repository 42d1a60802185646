/*
 * body.h - typed access to the fields of a JSON request body for the API handlers: each getter
 * returns 0 when the field is absent (or null), 1 when it was read, and -1 after writing a 422
 * error naming the field into the request. Internal to src/api.
 */
#ifndef MTR_API_BODY_H
#define MTR_API_BODY_H

#include <jansson.h>

#include "api/route.h"

int mtr_api_f_str(struct mtr_api_req *r, json_t *o, const char *name, char *dst, size_t cap);
int mtr_api_f_num(struct mtr_api_req *r, json_t *o, const char *name, double lo, double hi,
                  double *dst);
int mtr_api_f_time(struct mtr_api_req *r, json_t *o, const char *name, int64_t *dst);
/* A vocabulary value: parse returns the enum value or -1; `choices` is for the message. */
int mtr_api_f_enum(struct mtr_api_req *r, json_t *o, const char *name, int (*parse)(const char *),
                   const char *choices, int *dst);
/* 0 when every key of o is in the comma-separated `allowed`, else -1 with a 422 written. Also
 * fails (422) when o is not an object. */
int mtr_api_f_known(struct mtr_api_req *r, json_t *o, const char *allowed);

#endif
