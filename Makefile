# Metrify build.
#   make          build build/release/metrify (optimised)
#   make demo     install dependencies, build, run `metrify demo` end to end
#   make test     install dependencies, build under ASan+UBSan, run every test
#   make bench    run the benchmarks in bench/ (see docs/performance.md)
#   make format   clang-format every C file; `make format-check` is what CI runs
# Sources are discovered: every src/**/*.c goes into libmetrify, except src/cli/main.c, which is
# the entry point. Every tests/unit/test_*.c is one test binary.

PKGS     := sqlite3 zlib jansson libzstd libpq rdkafka libmosquitto libmicrohttpd libcurl \
            yaml-0.1 libcrypto
CC       ?= cc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
DEFS     := -D_GNU_SOURCE
CFLAGS_release := -O2 -g
CFLAGS_asan    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_asan   := -fsanitize=address,undefined

SRCS     := $(shell find src -name '*.c' ! -path 'src/cli/main.c' | sort)
TESTS    := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
HARNESS  := $(wildcard tests/harness/*.c)
TOOLS    := $(patsubst tests/tools/%.c,%,$(wildcard tests/tools/*.c))

.SECONDARY:
.PHONY: all deps demo test unit integration bench format format-check clean
all: build/release/metrify

# $(1) = flavour (release|asan)
define flavour
build/$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(WARN) $$(DEFS) $$(CFLAGS_$(1)) -Isrc -Itests/harness $$(PKG_CFLAGS) -MMD -MP -c $$< -o $$@
build/$(1)/libmetrify.a: $$(SRCS:%.c=build/$(1)/obj/%.o)
	@rm -f $$@
	ar rcs $$@ $$^
build/$(1)/metrify: build/$(1)/obj/src/cli/main.o build/$(1)/libmetrify.a
	$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(PKG_LIBS) -lm -lpthread
build/$(1)/tests/%: build/$(1)/obj/tests/unit/%.o $$(HARNESS:%.c=build/$(1)/obj/%.o) build/$(1)/libmetrify.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(PKG_LIBS) -lm -lpthread
# tests/tools/<name>.c -> build/<flavour>/tools/<name>: drivers the integration tests run
build/$(1)/tools/%: tests/tools/%.c build/$(1)/libmetrify.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(WARN) $$(DEFS) $$(CFLAGS_$(1)) -Isrc $$(PKG_CFLAGS) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(PKG_LIBS) -lm -lpthread
endef
# bench/<name>.c -> build/release/bench/<name>, linked like the CLI
build/release/bench/%: bench/%.c build/release/libmetrify.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) $(CFLAGS_release) -Isrc $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread
$(eval $(call flavour,release))
$(eval $(call flavour,asan))

-include $(shell find build -name '*.d' 2>/dev/null)

deps:
	@scripts/deps.sh

demo: deps build/release/metrify
	rm -rf demo && build/release/metrify --db demo/metrify.db demo --out demo

unit: build/asan/metrify $(TESTS:%=build/asan/tests/%)
	@scripts/run-tests.sh unit build/asan

integration: build/asan/metrify build/release/metrify $(TOOLS:%=build/asan/tools/%)
	@scripts/run-tests.sh integration build/asan

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory -j2 build/asan/metrify build/release/metrify $(TESTS:%=build/asan/tests/%) \
	  $(TOOLS:%=build/asan/tools/%)
	@scripts/run-tests.sh all build/asan

bench: deps build/release/metrify
	bench/run-all.sh

format:
	clang-format -i $$(find src tests bench -name '*.[ch]')

format-check:
	@scripts/format-check.sh

clean:
	rm -rf build
