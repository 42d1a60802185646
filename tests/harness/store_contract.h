/*
 * store_contract.h - the behaviour every store adapter (SQLite now, PostgreSQL later) must show,
 * as one test suite that talks to the store only through the port of app/ports.h. An adapter's
 * unit test calls mtr_store_contract_run() with its open function and a location.
 */
#ifndef MTR_STORE_CONTRACT_H
#define MTR_STORE_CONTRACT_H

#include "app/ports.h"

/*
 * Runs every contract test (T_RUN each) against the store at `loc`, opened and closed with `open`
 * as often as the tests need. The store may already hold data: the tests use ids unique to this
 * run and compare counts as deltas. They write timestamps in 2001 (retention) and 2023 only.
 * Backups go to a temporary file that the suite removes; the suite reopens a backup with `open`
 * unless `open` refuses the path with MTR_EINVAL (then it checks the file is not empty).
 */
void mtr_store_contract_run(int (*open)(const char *loc, struct mtr_store **out,
                                        struct mtr_errbuf *eb),
                            const char *loc);

#endif
