# SPDX-License-Identifier: GPL-2.0
# chunkfs top-level Makefile.
#   make          build the programs (optimised) at their fixed paths
#   make check    install missing packages, build, run every test (sanitised)
#   make demo     install missing packages, build, run the demo
#   make install  install programs, man pages, helpers, units, udev rule (PREFIX)
#   make uninstall  remove what make install installed
#   make deps     install missing Debian packages (root) or print the command

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -std=gnu11 -Wstrict-prototypes -Wvla
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
BASE_LIBS := -lz -lxxhash -luuid -lpthread
# mkfs.chunkfs looks for other filesystems' signatures, chunkfs probe
# encodes udev properties with libblkid (util-linux)
BLKID_LIBS := $(shell pkg-config --libs blkid 2>/dev/null || echo -lblkid)
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

.PHONY: all san check demo install uninstall deps clean freestanding kmod
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
	$(CC) $(CFLAGS) -o $@ $^ $(BLKID_LIBS) $(BASE_LIBS)
fsck/fsck.chunkfs: $(call opt_obj,$(FSCK_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(BASE_LIBS)
fuse/chunkfs-fuse: $(call opt_obj,$(FUSE_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(BASE_LIBS)
tools/chunkfs: $(call opt_obj,$(TOOLS_SRC)) $(LIB_OPT)
	$(CC) $(CFLAGS) -o $@ $^ $(EXT2FS_LIBS) $(BLKID_LIBS) $(BASE_LIBS)
tools/chunkfs-scrubd: build/opt/tools/scrubd.o
	$(CC) $(CFLAGS) -o $@ $^

# ---- sanitised build used by the tests ----
SAN_PROGS := build/san/bin/mkfs.chunkfs build/san/bin/fsck.chunkfs \
	build/san/bin/chunkfs-fuse build/san/bin/chunkfs \
	build/san/bin/chunkfs-scrubd build/san/bin/ptool build/san/lib/timeshift.so \
	build/san/bin/dupname
UNIT_BINS := $(patsubst tests/unit/%.c,build/san/bin/%,$(UNIT_SRC))
san: $(SAN_PROGS) $(UNIT_BINS)
build/san/bin/mkfs.chunkfs: $(call san_obj,$(MKFS_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(BLKID_LIBS) $(BASE_LIBS)
build/san/bin/fsck.chunkfs: $(call san_obj,$(FSCK_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(BASE_LIBS)
build/san/bin/chunkfs-fuse: $(call san_obj,$(FUSE_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(FUSE_LIBS) $(BASE_LIBS)
build/san/bin/chunkfs: $(call san_obj,$(TOOLS_SRC)) $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(EXT2FS_LIBS) $(BLKID_LIBS) $(BASE_LIBS)
build/san/bin/chunkfs-scrubd: build/san/tools/scrubd.o
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^
# the POSIX checks the FUSE tests run (and the kernel module's VM, built
# static from the same source: tests/kmod/lib.sh)
build/san/bin/ptool: build/san/tests/fuse/ptool.o
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ -lpthread
# t_dirovf_dup's damage: one name twice under a directory hash
build/san/bin/dupname: build/san/tests/tools/dupname.o $(LIB_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(BASE_LIBS)
# t_atime's clock shifted for one daemon (LD_PRELOAD; not sanitised: it is
# loaded after the daemon's sanitiser runtime)
build/san/lib/timeshift.so: tests/fuse/timeshift.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -fPIC -shared $(WARN) -o $@ $< -ldl
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

# mount(8) looks for helpers in /sbin only, whatever the PREFIX; fsck(8)
# looks for fsck.TYPE in PATH, and at boot that may be /sbin and /usr/sbin
# only: links fsck.chunkfs (the kernel module's type) and
# fsck.fuse.chunkfs (fstab lines of type fuse.chunkfs) go there too.
MOUNT_HELPER_DIR ?= /sbin
FSCK_HELPER_DIR ?= $(MOUNT_HELPER_DIR)
MAN8 := $(wildcard docs/man/*.8)
SYSCONFDIR ?= /etc
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
# udev reads rules from /etc/udev/rules.d and /lib/udev/rules.d only
UDEV_RULES_DIR ?= $(SYSCONFDIR)/udev/rules.d
UNITS := $(wildcard tools/systemd/*.service tools/systemd/*.timer)
# the configuration files: installed when absent, removed by uninstall
# only when unchanged
CONFS := scrubd.conf scrub-fail.conf
INC := chunkfs_ioctl.h host.h

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(MOUNT_HELPER_DIR) \
	  $(DESTDIR)$(FSCK_HELPER_DIR) $(DESTDIR)$(UDEV_RULES_DIR)
	install -m 755 mkfs/mkfs.chunkfs $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 fsck/fsck.chunkfs $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 fuse/chunkfs-fuse $(DESTDIR)$(PREFIX)/bin/
	install -m 755 tools/chunkfs $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 tools/chunkfs-scrubd $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 tools/chunkfs-scrub-fail $(DESTDIR)$(PREFIX)/sbin/
	install -d $(DESTDIR)$(SYSCONFDIR)/chunkfs $(DESTDIR)$(SYSTEMD_DIR)
	for c in $(CONFS); do [ -e $(DESTDIR)$(SYSCONFDIR)/chunkfs/$$c ] || \
	  install -m 644 tools/$$c $(DESTDIR)$(SYSCONFDIR)/chunkfs/$$c || exit 1; done
	for u in $(UNITS); do \
	  sed 's|@SBINDIR@|$(PREFIX)/sbin|g' $$u >$(DESTDIR)$(SYSTEMD_DIR)/$${u##*/} && \
	  chmod 644 $(DESTDIR)$(SYSTEMD_DIR)/$${u##*/} || exit 1; done
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' tools/udev/64-chunkfs.rules \
	  >$(DESTDIR)$(UDEV_RULES_DIR)/64-chunkfs.rules
	chmod 644 $(DESTDIR)$(UDEV_RULES_DIR)/64-chunkfs.rules
	install -m 755 fuse/mount.fuse.chunkfs $(DESTDIR)$(MOUNT_HELPER_DIR)/
	# root's mounts are of type fuseblk.chunkfs: mount -o remount looks
	# for this name
	ln -sf mount.fuse.chunkfs $(DESTDIR)$(MOUNT_HELPER_DIR)/mount.fuseblk.chunkfs
	# the links, unless the directory is $(PREFIX)/sbin itself (a merged
	# /usr with PREFIX=/usr): a link would replace the program
	if [ "$$(cd $(DESTDIR)$(FSCK_HELPER_DIR) && pwd -P)" != \
	     "$$(cd $(DESTDIR)$(PREFIX)/sbin && pwd -P)" ]; then \
	  ln -sf $(PREFIX)/sbin/fsck.chunkfs $(DESTDIR)$(FSCK_HELPER_DIR)/fsck.chunkfs; fi
	ln -sf fsck.chunkfs $(DESTDIR)$(FSCK_HELPER_DIR)/fsck.fuse.chunkfs
	install -d $(DESTDIR)$(PREFIX)/include/chunkfs
	for h in $(INC); do install -m 644 fs/$$h $(DESTDIR)$(PREFIX)/include/chunkfs/ || exit 1; done
	for m in $(MAN8); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done

# Everything install put there; the configuration files only when they
# are as installed (changed ones are the administrator's).
uninstall:
	for p in mkfs.chunkfs fsck.chunkfs chunkfs chunkfs-scrubd chunkfs-scrub-fail; do \
	  rm -f $(DESTDIR)$(PREFIX)/sbin/$$p; done
	rm -f $(DESTDIR)$(PREFIX)/bin/chunkfs-fuse
	rm -f $(DESTDIR)$(MOUNT_HELPER_DIR)/mount.fuse.chunkfs
	rm -f $(DESTDIR)$(MOUNT_HELPER_DIR)/mount.fuseblk.chunkfs
	rm -f $(DESTDIR)$(FSCK_HELPER_DIR)/fsck.fuse.chunkfs
	if [ -L $(DESTDIR)$(FSCK_HELPER_DIR)/fsck.chunkfs ]; then \
	  rm -f $(DESTDIR)$(FSCK_HELPER_DIR)/fsck.chunkfs; fi
	rm -f $(DESTDIR)$(UDEV_RULES_DIR)/64-chunkfs.rules
	for u in $(UNITS); do rm -f $(DESTDIR)$(SYSTEMD_DIR)/$${u##*/}; done
	for h in $(INC); do rm -f $(DESTDIR)$(PREFIX)/include/chunkfs/$$h; done
	-rmdir $(DESTDIR)$(PREFIX)/include/chunkfs 2>/dev/null
	for m in $(MAN8); do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$${m##*/}; done
	for c in $(CONFS); do f=$(DESTDIR)$(SYSCONFDIR)/chunkfs/$$c; \
	  if cmp -s tools/$$c $$f; then rm -f $$f; \
	  elif [ -e $$f ]; then echo "uninstall: $$f was changed; left in place"; fi; done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/chunkfs 2>/dev/null

clean:
	rm -rf build $(PROGS)
	$(MAKE) -C kmod clean
