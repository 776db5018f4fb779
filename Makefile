# SPDX-License-Identifier: GPL-3.0-or-later
# The README's commands: `make demo` (set up, build, run the bundled sample) and `make test`.

SWIFT      ?= swift
BUILD      := .build/release
SORDINO    := $(BUILD)/sordino
APT_PACKAGES := pkg-config libfftw3-dev libsndfile1-dev libsoxr-dev libopenblas-dev \
                libjack-jackd2-dev jackd2 jack-tools zlib1g-dev libpng-dev
# Only `make test` needs these: one test renders an HTML report headless (chromium, ≈ 50 s to
# install, 350 MB); one runs the daemon on a private headless PipeWire and restarts it.
TEST_APT_PACKAGES := chromium pipewire pipewire-jack wireplumber dbus systemd
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PREFIX     ?= /usr/local
DESTDIR    ?=
MANPAGES   := .build/plugins/GenerateManual/outputs/sordino

.PHONY: deps test-deps build demo install uninstall test check eval clean

## Installs the Debian packages that are missing (nothing when all are present).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## Release build: the optimiser enforces @_noLocks on the real-time path.
build: deps
	$(SWIFT) build -c release

## Enhances the bundled noisy sample through a private JACK server and reports what it did.
demo: build
	$(SORDINO) demo --output enhanced.wav

## Installs the release binary into PREFIX/bin, the presets where it looks for them
## (PREFIX/share/sordino/presets) and a man page per command (man sordino.run, sordino.ctl, …).
install: build
	$(SWIFT) package plugin generate-manual --multi-page
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/sordino/presets/samples $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(SORDINO) $(DESTDIR)$(PREFIX)/bin/sordino
	install -m 644 presets/*.json presets/*.basis $(DESTDIR)$(PREFIX)/share/sordino/presets/
	install -m 644 presets/samples/*.wav $(DESTDIR)$(PREFIX)/share/sordino/presets/samples/
	install -m 644 $(MANPAGES)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	@echo "installed $(PREFIX)/bin/sordino; as a service: $(PREFIX)/bin/sordino service install --user"

## Removes what `make install` put under PREFIX.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sordino $(DESTDIR)$(PREFIX)/share/man/man1/sordino.*1
	rm -rf $(DESTDIR)$(PREFIX)/share/sordino

## Static checks, the release allocation probe, then every test (JACK tests must not skip).
check:
	@! grep -rnE 'import (Foundation|Glibc|CJACK|Logging)' Sources/SordinoDSP || \
	  { echo "SordinoDSP must not import I/O modules"; exit 1; }
	@sites=$$(grep -rho '_unsafePerformance {' Sources | wc -l); echo "_unsafePerformance sites: $$sites (budget 3)"; \
	  [ $$sites -le 3 ] || { echo "too many _unsafePerformance sites"; exit 1; }

test-deps:
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: build check test-deps
	SORDINO_REQUIRE_JACKD=1 $(BUILD)/AllocationProbe 10
	SORDINO_REQUIRE_JACKD=1 SORDINO_REQUIRE_CHROMIUM=1 SORDINO_REQUIRE_PIPEWIRE=1 SORDINO_REQUIRE_BINARIES=1 \
	  SORDINO_REQUIRE_SYSTEMD=1 $(SWIFT) test

## Dev-set quality through ../shared/eval (quick mode) beside RNNoise and the offline NMF baseline.
eval: build
	bash ../shared/eval/setup.sh
	OPENBLAS_NUM_THREADS=1 ~/.cache/sordino-eval/venv/bin/python ../shared/eval/run_eval.py --enh noisy,rnnoise,nmf \
	  --cmd 'sordino=$(CURDIR)/$(SORDINO) process --preset speech-16k {in} {out}'

clean:
	rm -rf .build
