# apipe — build, test, benchmark, install.
#
#   make                      build the programs into $(O)/bin
#   make check                run every test with prove
#   make DEVELOPER=1          warnings are errors
#   make SANITIZE=address,undefined check
#   make bench | demo | fuzz | lint | install | uninstall | clean

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
PROGRAMS = fetch-page paginate records validate schema dedupe store-raw watermark upsert webhook-recv oauth-login tabulate singer

ifdef SANITIZE
O ?= build-san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
O ?= build
SANFLAGS =
endif

WARN = -Wall -Wextra
ifeq ($(DEVELOPER),1)
WARN += -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wvla -Wformat=2 -Wundef -Wcast-align -Wwrite-strings -Wmissing-declarations \
	-Wfloat-conversion -Wcast-qual -Wimplicit-fallthrough
endif

# make lint: STYLE.md's checkable rules (tools/style-check.sh), then
# clang's -Weverything less the families that flag sound code here
# (padding, sign and width conversions, declarations after statements, enum
# switches with a default, float equality with the 0 that means "unset").
LINT_CC ?= clang
LINT_FLAGS = -std=c11 -D_GNU_SOURCE -fsyntax-only -Werror -Weverything -Wno-padded \
	-Wno-declaration-after-statement -Wno-switch-enum -Wno-covered-switch-default \
	-Wno-sign-conversion -Wno-sign-compare -Wno-implicit-int-conversion -Wno-shorten-64-to-32 \
	-Wno-double-promotion -Wno-float-equal -Wno-reserved-identifier -Wno-reserved-macro-identifier \
	-Wno-format-nonliteral -Wno-unused-macros -Wno-missing-variable-declarations \
	-Wno-disabled-macro-expansion -Wno-unknown-warning-option

# Libraries are found through pkg-config (PKG_CONFIG=… for another tree).
PKG_CONFIG ?= pkg-config
DEPS = libcurl libcrypto sqlite3 libpq libpcre2-8 zlib
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null)
ifeq ($(strip $(DEP_LIBS)),)
$(error pkg-config found none of: $(DEPS); install pkg-config and the -dev packages README.md names)
endif
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(DEP_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
LIBS = $(DEP_LIBS) -lm -lpthread

# Everything built depends on $(O)/FLAGS, which changes only when the
# compiler, its flags or the libraries do: a rebuild follows a change of
# CFLAGS, DEVELOPER or SANITIZE without a make clean.
.DEFAULT_GOAL := all

BUILD_FLAGS = $(CC) $(ALL_CFLAGS) | $(ALL_LDFLAGS) $(LIBS) $(MHD_LIBS)
$(O)/FLAGS: FORCE
	@mkdir -p $(O)
	@printf '%s\n' '$(BUILD_FLAGS)' | cmp -s - $@ || printf '%s\n' '$(BUILD_FLAGS)' > $@

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(O)/%.o) $(O)/gen/metaschemas.o
# The JSON Schema metaschemas, embedded so that $ref to them needs no network;
# their README (source and license) is copied beside them and installed.
METASCHEMAS ?= share/metaschemas
METASCHEMA_FILES = $(shell find $(METASCHEMAS) -name '*.json' 2>/dev/null)
LIBAPIPE = $(O)/libapipe.a
COMMON_OBJ = $(O)/cmd/common.o
BINS = $(PROGRAMS:%=$(O)/bin/%)

UNIT_SRC = $(wildcard tests/unit/t-*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
TEST_HELPERS = $(O)/tests/jsoncheck $(O)/tests/genrecords $(O)/tests/mock-api $(O)/tests/schemasuite

COMPLETIONS = $(O)/share/completion/apipe.bash $(O)/share/completion/_apipe

all: $(BINS) $(COMPLETIONS)

# the shell completions, from each program's --list-options
$(O)/share/completion/apipe.bash: tools/gen-completion.sh $(BINS)
	@mkdir -p $(dir $@)
	sh tools/gen-completion.sh $(O)/bin $@.tmp $(O)/share/completion/_apipe.tmp
	mv $(O)/share/completion/_apipe.tmp $(O)/share/completion/_apipe
	mv $@.tmp $@
$(O)/share/completion/_apipe: $(O)/share/completion/apipe.bash

$(O)/%.o: %.c $(O)/FLAGS
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/gen/metaschemas.c build-fuzz/gen/metaschemas.c: tools/embed-metaschemas.sh $(METASCHEMA_FILES)
	@mkdir -p $(dir $@) $(dir $@)../share/metaschemas
	sh tools/embed-metaschemas.sh $(METASCHEMAS) > $@.tmp && mv $@.tmp $@
	cp $(METASCHEMAS)/README.md $(dir $@)../share/metaschemas/README.md

$(O)/gen/metaschemas.o: $(O)/gen/metaschemas.c $(O)/FLAGS
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBAPIPE): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/bin/%: $(O)/cmd/%.o $(COMMON_OBJ) $(LIBAPIPE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# the redirect listener and the webhook server
$(O)/bin/oauth-login: LIBS += $(MHD_LIBS)
$(O)/bin/webhook-recv: LIBS += $(MHD_LIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIBAPIPE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/jsoncheck: $(O)/tests/jsoncheck.o $(LIBAPIPE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/schemasuite: $(O)/tests/schemasuite.o $(LIBAPIPE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/mock-api.o: tests/mock-api/mock-api.c $(O)/FLAGS
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/tests/mock-api: $(O)/tests/mock-api.o $(LIBAPIPE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(MHD_LIBS) $(LIBS)

$(O)/tests/genrecords: $(O)/tests/bench/genrecords.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Real peers from npm the tests check against (json-server, json-graphql-server),
# pinned in tests/npm/package.json; one install serves every build directory.
NPM_DIR = build/npm
NPM_STAMP = $(NPM_DIR)/node_modules/.apipe-installed

TEST_ENV = APIPE_TOP=$(CURDIR) APIPE_BIN=$(CURDIR)/$(O)/bin APIPE_TESTBIN=$(CURDIR)/$(O)/tests \
	APIPE_NPM=$(CURDIR)/$(NPM_DIR)/node_modules

npm-peers: $(NPM_STAMP)

$(NPM_STAMP): tests/npm/package.json
	@command -v npm >/dev/null || { echo "make: the tests need node and npm (apt-get install nodejs npm)" >&2; exit 1; }
	@mkdir -p $(NPM_DIR)
	cp tests/npm/package.json $(NPM_DIR)/package.json
	cd $(NPM_DIR) && npm install --no-audit --no-fund --loglevel=error
	@touch $@

check: all $(UNIT_BINS) $(TEST_HELPERS) $(NPM_STAMP)
	$(TEST_ENV) prove -j2 tests/*.t

bench: all $(TEST_HELPERS)
	$(TEST_ENV) sh tests/bench/run.sh

demo: all $(TEST_HELPERS)
	$(TEST_ENV) bash examples/demo.sh

FUZZ_CC ?= clang
FUZZ_TARGETS = json jsonptr link retry-after ratelimit rfc3339 schema manifest redact
FUZZ_BINS = $(FUZZ_TARGETS:%=build-fuzz/fuzz-%)
FUZZTIME ?= 30

build-fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(LIB_SRC) $(wildcard lib/*.h) build-fuzz/gen/metaschemas.c
	@mkdir -p build-fuzz
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(DEP_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(LIB_SRC) build-fuzz/gen/metaschemas.c $(LIBS)

lint:
	@sh tools/style-check.sh
	@echo "lint: the rules of STYLE.md a script checks hold"
	@for f in lib/*.c cmd/*.c; do $(LINT_CC) $(LINT_FLAGS) $(DEP_CFLAGS) $$f || exit 1; done
	@echo "lint: clang -Weverything (less the families named in the Makefile) is clean"

fuzz: $(FUZZ_BINS)

fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t; \
		build-fuzz/fuzz-$$t -max_total_time=$(FUZZTIME) -max_len=4096 \
			build-fuzz/corpus-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(PROGRAMS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/apipe-config.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/apipe.7 $(DESTDIR)$(MANDIR)/man7/
	install -d $(DESTDIR)$(PREFIX)/share/doc/apipe/metaschemas
	install -m 644 $(O)/share/metaschemas/README.md $(DESTDIR)$(PREFIX)/share/doc/apipe/metaschemas/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	for p in $(PROGRAMS); do \
		install -m 644 $(O)/share/completion/apipe.bash \
			$(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p || exit 1; \
	done
	install -m 644 $(O)/share/completion/_apipe $(DESTDIR)$(PREFIX)/share/zsh/site-functions/

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) $(PROGRAMS:%=$(DESTDIR)$(MANDIR)/man1/%.1)
	rm -f $(DESTDIR)$(MANDIR)/man5/apipe-config.5 $(DESTDIR)$(MANDIR)/man7/apipe.7
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/apipe
	rm -f $(PROGRAMS:%=$(DESTDIR)$(PREFIX)/share/bash-completion/completions/%)
	rm -f $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_apipe

clean:
	rm -rf build build-san build-fuzz

FORCE:
.PHONY: FORCE all check npm-peers bench demo fuzz fuzz-run lint install uninstall clean
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
