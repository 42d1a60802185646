/*
 * project.h - loads a dbt project from disk into struct mtr_dbt_project (app/transform.h):
 * dbt_project.yml, every .sql and .yml under models/ (schema tests, sources), the CSV files of
 * seeds/. YAML is read with libyaml; only the keys `metrify transform` implements are interpreted,
 * and a test or setting outside that set is an error with file:line rather than silently ignored.
 */
#ifndef MTR_DBT_PROJECT_H
#define MTR_DBT_PROJECT_H

#include "app/transform.h"

/*
 * Loads the project in directory dir into *p (zeroed first; free with mtr_dbt_project_free,
 * also after a failure). Errors: MTR_ENOTFOUND (no dir/dbt_project.yml), MTR_EIO, MTR_EPARSE (bad
 * YAML or CSV, with file:line), MTR_EINVAL (a key or test outside the implemented set, a schema
 * entry for an unknown model, duplicate names), MTR_ENOMEM.
 */
int mtr_dbt_project_load(const char *dir, struct mtr_dbt_project *p, struct mtr_errbuf *eb);

/* Parses dbt_project.yml text (name, model/seed paths, vars, per-directory materialized) into p.
 * file names the text in messages. Errors as for mtr_dbt_project_load. */
int mtr_dbt_project_parse_config(struct mtr_dbt_project *p, const char *file, const char *text,
                                 struct mtr_errbuf *eb);

/* Parses a properties file (version 2: models and seeds with column tests, sources with tables)
 * into p. The models and seeds it describes must already be in p. Errors as for
 * mtr_dbt_project_load. */
int mtr_dbt_project_parse_properties(struct mtr_dbt_project *p, const char *file, const char *text,
                                     struct mtr_errbuf *eb);

/* Parses --vars text, a YAML mapping of scalars ("{k: v, k2: 3}"), and sets each var in p
 * (overriding the project's). MTR_EPARSE / MTR_EINVAL with a message, MTR_ENOMEM. */
int mtr_dbt_project_parse_vars(struct mtr_dbt_project *p, const char *text, struct mtr_errbuf *eb);

#endif
