# SPDX-License-Identifier: GPL-2.0
# chunkfs top-level Makefile.
#   make          build the programs (optimised) at their fixed paths
#   make check    install missing packages, build, run every test (sanitised)
#   make demo     install missing packages, build, run the demo
#   make install  install programs, man pages and the mount helper (PREFIX)
#   make deps     install missing Debian packages (root) or print the command

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -std=gnu11 -Wstrict-prototypes -Wvla
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
BASE_LIBS := -lz -luuid -lpthread
# tools/chunkfs cref reads ext2/3/4 images with libext2fs (e2fsprogs)
EXT2FS_CFLAGS := $(shell pkg-config --cflags ext2fs com_err 2>/dev/null)
EXT2FS_LIBS := $(shell pkg-config --libs ext2fs com_err 2>/dev/null || echo -lext2fs -lcom_err)
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

FS_SRC := $(wildcard fs/*.c fs/io/*.c fs/check/*.c)
USER_SRC := $(wildcard fs/user/*.c)
MKFS_SRC := $(wildcard mkfs/*.c)
FSCK_SRC := $(wildcard fsck/*.c)
FUSE_SRC := $(wildcard fuse/*.c)
TOOLS_SRC := $(filter-out tools/scrubd.c,$(wildcard tools/*.c))
TESTLIB_SRC := $(wildcard tests/lib/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HDRS := $(wildcard fs/*.h fs/io/*.h fs/check/*.h fs/user/*.h tools/*.h fuse/*.h mkfs/*.h tests/lib/*.h)

PROGS := mkfs/mkfs.chunkfs fsck/fsck.chunkfs fuse/chunkfs-fuse tools/chunkfs \
	tools/chunkfs-scrubd

# Objects: build/opt for the programs, build/san for the sanitised test
# build.  Kernel objects live under kmod/ only.
opt_obj = $(patsubst %.c,build/opt/%.o,$(1))
san_obj = $(patsubst %.c,build/san/%.o,$(1))

.PHONY: all san check demo install deps clean freestanding kmod
all: $(PROGS)

build/opt/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(FUSE_CFLAGS) $(OBJ_CFLAGS) -c -o $@ $<
build/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(WARN) $(FUSE_CFLAGS) $(OBJ_CFLAGS) -c -o $@ $<

build/opt/tools/cref.o build/san/tools/cref.o: OBJ_CFLAGS := $(EXT2FS_CFLAGS)

LIB_OPT := $(call opt_obj,$(FS_SRC) $(USER_SRC))
LIB_SAN := $(call san_obj,$(FS_SRC) $(USER_SRC))

mkfs/mkfs.chunkfs: $(call opt_obj,$(MKFS_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(BASE_LIBS)
fsck/fsck.chunkfs: $(call opt_obj,$(FSCK_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(BASE_LIBS)
fuse/chunkfs-fuse: $(call opt_obj,$(FUSE_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(BASE_LIBS)
tools/chunkfs: $(call opt_obj,$(TOOLS_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(EXT2FS_LIBS) $(BASE_LIBS)
tools/chunkfs-scrubd: build/opt/tools/scrubd.o
	$(CC) $(CFLAGS) -o $@ $^

# ---- sanitised build used by the tests ----
SAN_PROGS := build/san/bin/mkfs.chunkfs build/san/bin/fsck.chunkfs \
	build/san/bin/chunkfs-fuse build/san/bin/chunkfs \
	build/san/bin/chunkfs-scrubd
UNIT_BINS := $(patsubst tests/unit/%.c,build/san/bin/%,$(UNIT_SRC))
san: $(SAN_PROGS) $(UNIT_BINS)
build/san/bin/mkfs.chunkfs: $(call san_obj,$(MKFS_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(BASE_LIBS)
build/san/bin/fsck.chunkfs: $(call san_obj,$(FSCK_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(BASE_LIBS)
build/san/bin/chunkfs-fuse: $(call san_obj,$(FUSE_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(FUSE_LIBS) $(BASE_LIBS)
build/san/bin/chunkfs: $(call san_obj,$(TOOLS_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(EXT2FS_LIBS) $(BASE_LIBS)
build/san/bin/chunkfs-scrubd: build/san/tools/scrubd.o
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^
build/san/tests/unit/test_scrubd.o: tools/scrubd.c
build/san/bin/test_%: build/san/tests/unit/test_%.o $(call san_obj,$(TESTLIB_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(BASE_LIBS)

# fs/ must compile with no libc and no kernel headers at all.
freestanding:
	@mkdir -p build/freestanding
	@for f in $(FS_SRC); do \
	  $(CC) -ffreestanding -nostdinc -fno-builtin-printf $(WARN) -O2 \
	    -c -o build/freestanding/$$(echo $$f | tr / _ | sed 's/\.c$$//').o $$f || exit 1; \
	done
	@if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' fs/*.c fs/*.h fs/io/* fs/check/*; then \
	  echo "fs/ includes a system header" >&2; exit 1; fi
	@if grep -n '__KERNEL__' fs/*.c fs/*.h fs/io/* fs/check/*; then \
	  echo "fs/ has a __KERNEL__ conditional" >&2; exit 1; fi
	@echo "freestanding: fs/ compiles without libc or kernel headers"

deps:
	@sh tests/deps.sh

# The kernel module (kmod/chunkfs.ko) against /lib/modules/$(KVER)/build;
# KVER is detected by kmod/Makefile unless given.  Objects stay in kmod/.
kmod:
	$(MAKE) -C kmod $(if $(KVER),KVER=$(KVER))

check: deps
	$(MAKE) all
	$(MAKE) san
	sh tests/run-all.sh

demo: deps
	$(MAKE) all
	sh tests/demo.sh

# mount(8) looks for helpers in /sbin only, whatever the PREFIX.
MOUNT_HELPER_DIR ?= /sbin
MAN8 := $(wildcard docs/man/*.8)
SYSCONFDIR ?= /etc
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(MOUNT_HELPER_DIR)
	install -m 755 mkfs/mkfs.chunkfs $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 fsck/fsck.chunkfs $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 fuse/chunkfs-fuse $(DESTDIR)$(PREFIX)/bin/
	install -m 755 tools/chunkfs $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 tools/chunkfs-scrubd $(DESTDIR)$(PREFIX)/sbin/
	install -d $(DESTDIR)$(SYSCONFDIR)/chunkfs $(DESTDIR)$(SYSTEMD_DIR)
	[ -e $(DESTDIR)$(SYSCONFDIR)/chunkfs/scrubd.conf ] || \
	  install -m 644 tools/scrubd.conf $(DESTDIR)$(SYSCONFDIR)/chunkfs/scrubd.conf
	for u in tools/systemd/*.service tools/systemd/*.timer; do \
	  sed 's|@SBINDIR@|$(PREFIX)/sbin|g' $$u >$(DESTDIR)$(SYSTEMD_DIR)/$${u##*/} && \
	  chmod 644 $(DESTDIR)$(SYSTEMD_DIR)/$${u##*/} || exit 1; done
	install -m 755 fuse/mount.fuse.chunkfs $(DESTDIR)$(MOUNT_HELPER_DIR)/
	install -d $(DESTDIR)$(PREFIX)/include/chunkfs
	install -m 644 fs/chunkfs_ioctl.h fs/host.h $(DESTDIR)$(PREFIX)/include/chunkfs/
	for m in $(MAN8); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done

clean:
	rm -rf build $(PROGS)
	$(MAKE) -C kmod clean
