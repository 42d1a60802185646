/*
 * config_yaml.h - reads Metrify's YAML configuration files (libyaml) into struct mtr_config and
 * picks the file from --config, --env or METRIFY_ENV. Every error names the file, the line and
 * column, the key path and the problem: "config/x.yaml:4:14: api.threads: expected an integer".
 */
#ifndef MTR_CONFIG_YAML_H
#define MTR_CONFIG_YAML_H

#include "app/config.h"

/*
 * Reads the YAML file at path on top of what c already holds (normally the defaults): every key
 * given replaces the current value; a `worker.jobs` list replaces the whole job list. Records path
 * in c->file. Returns 0; MTR_EIO when the file cannot be read; MTR_EINVAL for a YAML syntax error,
 * an unknown key, a wrong type, a bad value or a secret in the file (message in eb).
 */
int mtr_config_load_file(struct mtr_config *c, const char *path, struct mtr_errbuf *eb);

/*
 * The whole start-up sequence: defaults, then the file (`file` if non-NULL; else `env` or
 * $METRIFY_ENV, one of development|staging|production, meaning config/environments/<env>.yaml
 * under $METRIFY_CONFIG_DIR or the current directory; else no file), then the METRIFY_* overrides
 * from the process environment, then mtr_config_validate. Returns 0 or the first error (eb).
 */
int mtr_config_load(struct mtr_config *c, const char *file, const char *env, struct mtr_errbuf *eb);

#endif
