#!/bin/sh
# A lost chunk costs only what was in it, through the real programs
# (issue 14): a realistic tree (nested directories, a directory with
# entries in several chunks, hard links across directories, a file larger
# than a chunk, symlinks, a fifo, xattrs, odd modes and owners) copied in
# with mkfs.chunkfs -d; for several chunks K (0, the home of the spread
# directory, a continuation chunk of the big file, and chunks picked by
# seeds):
#   - `chunkfs paths IMG --chunk K --json` before the damage is the truth:
#     it must agree with `chunkfs stat --json` (which walks the namespace
#     and follows forward links) for every file, and with the same command
#     asked through a live FUSE mount (CHUNKFS_IOC_CHUNK_FILES/PATH);
#   - every block of chunk K zeroed with dd, ONE `fsck.chunkfs -y --chunk K
#     --json` (its cross pass queues the peers): exit 1, then `fsck -fn`
#     exits 0;
#   - the blast radius fsck reports is the truth's inode set, no more, no
#     less (apart from the parts of lost files kept in lost+found as
#     cont-of-K-L, which must belong to lost files), each with one of the
#     truth's paths;
#   - mounted with chunkfs-fuse: every file outside the truth is at its
#     original path(s), same inode, content, mode, owner, xattrs; files
#     that lost data keep their names and attributes; every directory is
#     at its path (those recreated with their mode and owner); lost files
#     are gone; nothing outside K went to lost+found.
# Also `chunkfs paths` argument errors, a mounted image refused, a user
# refused on the mount, and an image without parent pointers.
. "$(dirname "$0")/lib.sh"
FUSE="$CFS_BIN/chunkfs-fuse"
FSCK="$CFS_BIN/fsck.chunkfs"
MNT=$W/mnt
PID=""
SEEDS=${CFS_LOSTCHUNK_SEEDS:-"1 2 5"}
[ -x "$FUSE" ] && [ -x "$FSCK" ] && [ -e /dev/fuse ] &&
	command -v fusermount3 >/dev/null ||
	{ echo "FATAL: needs chunkfs-fuse, fsck.chunkfs, /dev/fuse, fusermount3"; exit 1; }
mkdir -p "$MNT"

cat >"$W/lc.py" <<'PY'
import hashlib, json, os, random, re, stat, sys

def mkino(c, l):
    return c << 32 | l

# ---- the tree ----
def build(root):
    rnd = random.Random(14)
    def mk(p, n, mode=0o644, uid=0, gid=0, xa=None):
        p = os.path.join(root, p)
        with open(p, 'wb') as f:
            f.write(rnd.randbytes(n))
        os.chown(p, uid, gid)
        os.chmod(p, mode)
        for k, v in (xa or {}).items():
            os.setxattr(p, k, v)
    def md(p, mode=0o755, uid=0, gid=0, xa=None):
        p = os.path.join(root, p)
        os.makedirs(p, exist_ok=True)
        os.chown(p, uid, gid)
        os.chmod(p, mode)
        for k, v in (xa or {}).items():
            os.setxattr(p, k, v)
    def ln(a, b):
        os.link(os.path.join(root, a), os.path.join(root, b))
    md('')
    md('etc')
    md('etc/sub/deeper/deepest', 0o750)
    for i in range(12):
        mk('etc/conf%d' % i, 50 + i * 300)
    mk('etc/secret', 1200, 0o600, 1000, 1000, {'user.kind': b'secret'})
    mk('etc/sub/deeper/deepest/file', 9000, 0o640, 7, 8)
    md('home')
    md('home/alice', 0o700, 1001, 1001, {'user.owner': b'alice'})
    mk('home/alice/notes.txt', 3000, 0o664, 1001, 1001,
       {'user.color': b'blue', 'user.large': rnd.randbytes(1500)})
    md('home/bob', 0o2750, 1002, 100)
    ln('home/alice/notes.txt', 'home/bob/link-to-notes')
    md('shared', 0o1777)
    os.mkfifo(os.path.join(root, 'shared/pipe'), 0o620)
    md('bin')
    mk('bin/tool', 20000, 0o4755, 0, 0, {'user.cap': b'x'})
    os.symlink('etc/conf1', os.path.join(root, 'sym-short'))
    os.symlink('/' + 'long-target-component/' * 9 + 'end',
               os.path.join(root, 'sym-long'))
    mk('big', (6 << 20) + 4321, 0o640, 500, 501, {'user.big': b'yes'})
    # a directory whose entries live in several chunks: more files than
    # a 4 MiB chunk has inodes
    md('many', 0o755, 0, 0, {'user.dir': b'many'})
    for i in range(700):
        mk('many/f%03d' % i, 100 + (i * 37) % 5000, 0o644 if i % 7 else 0o600,
           i % 3, i % 5, {'user.i': str(i).encode()} if i % 10 == 0 else None)
        if i % 150 == 0:
            md('many/sub%d' % i, 0o755, 3, 4)
            mk('many/sub%d/inner' % i, 4000)
    # hard links across directories (and chunks)
    ln('many/f010', 'etc/hl-f010')
    ln('many/f650', 'home/alice/hl-f650')
    ln('etc/conf3', 'many/hl-conf3')
    ln('many/f420', 'shared/hl-f420')
    ln('big', 'shared/hl-big')

def xattrs(p):
    try:
        return {n: os.getxattr(p, n, follow_symlinks=False).hex()
                for n in sorted(os.listxattr(p, follow_symlinks=False))}
    except OSError:
        return {}

def describe(p):
    st = os.lstat(p)
    d = {'mode': st.st_mode, 'uid': st.st_uid, 'gid': st.st_gid,
         'xattrs': xattrs(p), 'ino': st.st_ino}
    if stat.S_ISREG(st.st_mode):
        d['size'] = st.st_size
        with open(p, 'rb') as f:
            d['sha'] = hashlib.sha256(f.read()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        d['target'] = os.readlink(p)
    return d

def walk(root, skip_lf):
    out = {}
    for dp, dns, fns in os.walk(root):
        rel = dp[len(root):] or '/'
        if skip_lf and (rel == '/lost+found' or rel.startswith('/lost+found/')):
            dns[:] = []
            continue
        out[rel] = describe(dp)
        for n in fns + [d for d in dns if os.path.islink(os.path.join(dp, d))]:
            p = os.path.join(dp, n)
            out[(rel.rstrip('/') + '/' + n)] = describe(p)
    return out

def same(a, b, keys):
    return [k for k in keys if a.get(k) != b.get(k)]

# the source tree, and the same tree through the mount: every name with
# its image inode number (and the mount shows what the source holds)
def manifest(src, mnt, out):
    s = walk(src, True)
    m = walk(mnt, True)
    bad = []
    for p, d in s.items():
        if p not in m:
            bad.append('%s missing in the image' % p)
            continue
        diff = same(d, m[p], ['mode', 'uid', 'gid', 'xattrs', 'size', 'sha',
                              'target'])
        if p != '/' and diff:
            bad.append('%s differs in the image: %s' % (p, diff))
        d['img_ino'] = m[p]['ino']
    for p in m:
        if p not in s:
            bad.append('%s in the image, not in the source' % p)
    # hard links: one image inode per source inode
    groups = {}
    for p, d in s.items():
        groups.setdefault(d['ino'], set()).add(d['img_ino'])
    bad += ['a hard link split in the image' for g in groups.values() if len(g) > 1]
    json.dump(s, open(out, 'w'))
    print('manifest: %d names, %d inodes' % (len(s), len(groups)))
    if bad:
        print(*bad[:20], sep='\n')
        sys.exit(1)

# `chunkfs paths` of every chunk against `chunkfs stat` (a walk of the
# namespace and the forward links of every file): the same files in every
# chunk, with every name
def agree(tool, img, pdir, nchunks, man_json):
    import subprocess
    man = json.load(open(man_json))
    names = ['/lost+found'] + ['/lost+found/chunk-%d' % k
                               for k in range(nchunks)] + sorted(man)
    out = subprocess.run([tool, 'stat', '--json', img] + names, check=True,
                         capture_output=True).stdout
    open(pdir + '/stat.json', 'wb').write(out)
    st = json.loads(out)
    names = {}
    chunks = {}
    for e in st['paths']:
        names.setdefault(e['ino'], set()).add(e['path'])
        chunks[e['ino']] = {e['chunk']} | set(e['continuation_chunks'])
    bad = []
    listed = 0
    for k in range(nchunks):
        j = json.load(open('%s/p%d.json' % (pdir, k)))
        got = {f['ino']: f for f in j['files']}
        want = {i for i, c in chunks.items() if k in c}
        listed += len(got)
        if set(got) != want:
            bad.append('chunk %d: paths lists %s, stat says %s' % (
                k, sorted(set(got) - want)[:5], sorted(want - set(got))[:5]))
        for i, f in got.items():
            if i in names and set(f['paths']) != names[i]:
                bad.append('chunk %d: inode %d named %s, stat %s' % (
                    k, i, f['paths'], sorted(names[i])))
            if i in chunks and (('inode' in f['parts']) != (i >> 32 == k)):
                bad.append('chunk %d: inode %d parts %s' % (k, i, f['parts']))
        if j['chunk'] != k or not j['complete'] or not j['pptr']:
            bad.append('chunk %d: header %s' % (k, {x: j[x] for x in
                       ('chunk', 'complete', 'pptr')}))
    print('paths of %d chunks agree with stat: %d (file, chunk) pairs for '
          '%d inodes' % (nchunks, listed, len(chunks)))
    if bad:
        print(*bad[:20], sep='\n')
        sys.exit(1)

# the chunks to lose, from `chunkfs stat` (not from the tool under test)
def pick(stat_json, nchunks, seeds):
    st = json.load(open(stat_json))
    by = {e['path']: e for e in st['paths']}
    many, big = by['/many'], by['/big']
    many_parts = [many['chunk']] + many['continuation_chunks']
    big_conts = big['continuation_chunks']
    if len(many_parts) < 3 or not big_conts:
        print('the tree does not spread: /many in chunks %s, /big continues '
              'in %s' % (many_parts, big_conts), file=sys.stderr)
        sys.exit(1)
    count = [0] * nchunks
    for e in st['paths']:
        for c in {e['chunk']} | set(e['continuation_chunks']):
            count[c] += 1
    many = many['ino']
    ks = [(0, 'the root'), (many >> 32, 'home of /many (entries in chunks %s)'
           % ','.join(map(str, many_parts))),
          (big_conts[0], 'a continuation of /big')]
    # chunks with files of their own (not only lost+found/chunk-K)
    rich = [k for k in range(nchunks) if count[k] > 3 and
            k not in [x for x, _ in ks]]
    for s in seeds:
        if not rich:
            break
        k = random.Random(int(s)).choice(rich)
        rich.remove(k)
        ks.append((k, 'seed %s' % s))
    for k, why in ks:
        print('%d %s' % (k, why.replace(' ', '_')))

# ---- after one round of fsck on chunk k ----
CONT_RE = re.compile(r'^/lost\+found/chunk-\d+/cont-of-(\d+)-(\d+)$')

def blast(k, truth_json, fsck_json, fig):
    t = json.load(open(truth_json))
    truth = {f['ino']: f for f in t['files']}
    r = json.load(open(fsck_json))
    got, kept, bad = {}, 0, []
    for b in r['blast_radius']:
        m = CONT_RE.match(b['path'] or '')
        if b['costs'] == ['lost+found'] and m:
            # the part of a lost file kept in lost+found: its file must be
            # one whose inode was in k
            o = mkino(int(m.group(1)), int(m.group(2)))
            if int(m.group(1)) != k or o not in truth or \
               'inode' not in truth[o]['parts']:
                bad.append('kept part %s of a file not lost' % b['path'])
            kept += 1
            continue
        got[b['ino']] = b
    for i in sorted(set(truth) - set(got)):
        bad.append('not in the blast radius: %s (inode %d, parts %s)' % (
            truth[i]['paths'], i, truth[i]['parts']))
    for i in sorted(set(got) - set(truth)):
        bad.append('in the blast radius, no part in chunk %d: %s (inode %d, '
                   '%s)' % (k, got[i]['path'], i, got[i]['costs']))
    for i in sorted(set(got) & set(truth)):
        if got[i]['path'] not in truth[i]['paths']:
            bad.append('inode %d reported as %s, its names were %s' % (
                i, got[i]['path'], truth[i]['paths']))
    moved = sum(1 for u in r['chunks'] for p in u['problems']
                if p['name'] == 'orphan')
    left = sum(1 for u in r['chunks'] for p in u['problems'] if not p['fixed'])
    if moved:
        bad.append('%d files outside chunk %d moved to lost+found' % (moved, k))
    if left:
        bad.append('%d problems not fixed' % left)
    json.dump({'truth': len(truth), 'blast': len(got), 'kept': kept,
               'moved': moved,
               'chunks': [u['chunk'] for u in r['chunks']]}, open(fig, 'w'))
    if bad:
        print(*bad[:20], sep='\n')
        sys.exit(1)

# a file whose data had a part in the lost chunk: every block is the
# original's or zeros (a hole), never other bytes; the repair truncates
# the file when the lost range was its end (check_cross.c)
def no_wrong_bytes(orig, now):
    with open(orig, 'rb') as f:
        o = f.read()
    with open(now, 'rb') as f:
        n = f.read()
    if len(n) > len(o):
        return 'longer than it was'
    for i in range(0, len(n), 4096):
        b = n[i:i + 4096]
        if b != o[i:i + 4096] and b.count(0) != len(b):
            return 'block %d neither the original nor a hole' % (i // 4096)
    return None

def verify(k, mnt, src, truth_json, man_json, fig):
    t = json.load(open(truth_json))
    truth = {f['ino']: f for f in t['files']}
    man = json.load(open(man_json))
    bad = []
    files = dirs = lost = dataless = 0
    for p, d in sorted(man.items()):
        i = d['img_ino']
        parts = truth[i]['parts'] if i in truth else []
        isdir = stat.S_ISDIR(d['mode'])
        try:
            m = describe(mnt + p) if p != '/' else describe(mnt)
        except OSError as e:
            if 'inode' in parts and not isdir:
                lost += 1
                continue
            bad.append('%s: %s' % (p, e))
            continue
        if 'inode' in parts and not isdir:
            bad.append('%s: lost with chunk %d, yet still there' % (p, k))
            continue
        if m['ino'] != i:
            bad.append('%s: inode %d, was %d' % (p, m['ino'], i))
            continue
        if 'inode' in parts:  # a directory recreated: mode and owner kept
            diff = same(d, m, ['mode', 'uid', 'gid'])
            dirs += 1
        elif 'data' in parts:  # its data in k: names and attributes kept
            diff = same(d, m, ['mode', 'uid', 'gid', 'xattrs'])
            why = no_wrong_bytes(src + p, mnt + p)
            if why:
                bad.append('%s: %s' % (p, why))
            dataless += 1
        else:
            diff = same(d, m, ['mode', 'uid', 'gid', 'xattrs', 'size', 'sha',
                               'target'])
            if isdir:
                dirs += 1
            else:
                files += 1
        if diff and p != '/':
            bad.append('%s: %s differ (%s)' % (p, diff, ', '.join(
                '%s %s, was %s' % (x, m.get(x), d.get(x)) for x in diff)))
    # lost+found: only parts of lost files (cont-of-K-L), never a file
    moved = []
    lf = os.path.join(mnt, 'lost+found')
    for c in sorted(os.listdir(lf)):
        for n in os.listdir(os.path.join(lf, c)):
            if not re.match(r'^cont-of-%d-\d+$' % k, n):
                moved.append('/lost+found/%s/%s' % (c, n))
    if moved:
        bad.append('moved to lost+found: %s' % moved[:10])
    f = json.load(open(fig))
    f.update({'files': files, 'dirs': dirs, 'lost': lost, 'dataless': dataless,
              'lf_names': len(moved)})
    json.dump(f, open(fig, 'w'))
    if bad:
        print(*bad[:20], sep='\n')
        sys.exit(1)

def same_listing(a, b):
    x, y = json.load(open(a)), json.load(open(b))
    for j in (x, y):
        del j['source'], j['mounted']
    if x != y:
        print('image:', json.dumps(x)[:600])
        print('mount:', json.dumps(y)[:600])
        sys.exit(1)
    print('the mount lists the same %d files as the image' % x['count'])

cmd = sys.argv[1]
a = sys.argv[2:]
if cmd == 'build':
    build(a[0])
elif cmd == 'manifest':
    manifest(*a)
elif cmd == 'agree':
    agree(a[0], a[1], a[2], int(a[3]), a[4])
elif cmd == 'pick':
    pick(a[0], int(a[1]), a[2:])
elif cmd == 'blast':
    blast(int(a[0]), *a[1:])
elif cmd == 'verify':
    verify(int(a[0]), *a[1:])
elif cmd == 'same':
    same_listing(*a)
elif cmd == 'get':
    j = json.load(open(a[0]))
    print(eval(a[1]))
PY
LC="python3 $W/lc.py"

# ---- the image ----
mkdir "$W/src"
$LC build "$W/src" || { echo "FAIL: building the tree"; exit 1; }
"$MKFS" -q -C 4M -d "$W/src" "$W/img" 48M || { echo "FAIL: mkfs -d"; exit 1; }
"$TOOL" stat --json "$W/img" >"$W/stat0.json" || { echo "FAIL: chunkfs stat"; exit 1; }
NCH=$($LC get "$W/stat0.json" "j['nchunks']")
CB=$($LC get "$W/stat0.json" "j['chunk_size'] // j['block_size']")
BS=$($LC get "$W/stat0.json" "j['block_size']")
echo "image: $NCH chunks of $CB blocks of $BS bytes"

# the truth before any damage: every chunk's files
for k in $(seq 0 $((NCH - 1))); do
	"$TOOL" paths "$W/img" --chunk "$k" --json >"$W/p$k.json" 2>"$W/err" ||
		{ echo "FAIL: chunkfs paths --chunk $k: $(cat "$W/err")"; exit 1; }
done

# through a live FUSE mount: the names of every file (and the mount shows
# the source tree), the same list for the spread directory's home chunk,
# a user refused, the mounted image refused
cp "$W/img" "$W/live"
chmod 755 "$W"
mount_img "$W/live" allow_other
$LC manifest "$W/src" "$MNT" "$W/man.json" || die "the image is not the source tree"
KMANY=$($LC get "$W/man.json" "j['/many']['img_ino'] >> 32")
"$TOOL" paths "$MNT" --chunk "$KMANY" --json >"$W/live.json" 2>"$W/err" ||
	fail "chunkfs paths on the mount: $(cat "$W/err")"
$LC same "$W/p$KMANY.json" "$W/live.json" && ok "paths through the mount = the image's (chunk $KMANY)" ||
	fail "paths through the mount differ from the image's"
"$TOOL" paths "$MNT/many" --chunk 0 >/dev/null 2>&1 && ok "paths through a directory of the mount" ||
	fail "paths through $MNT/many"
expect_fail "a user asking the mount" 'not permitted' \
	setpriv --reuid 65534 --regid 65534 --clear-groups "$TOOL" paths "$MNT" --chunk 0
expect_fail "the mounted image" "mounted on $MNT.*paths $MNT --chunk 3" "$TOOL" paths "$W/live" --chunk 3
expect_fail "no such chunk (mount)" "no chunk $NCH: .* has $NCH chunks" "$TOOL" paths "$MNT" --chunk "$NCH"
umount_img
rm -f "$W/live"

# `chunkfs paths` against `chunkfs stat` (every name, by walking the tree)
$LC agree "$TOOL" "$W/img" "$W" "$NCH" "$W/man.json" && ok "paths of every chunk = stat's walk" ||
	fail "chunkfs paths disagrees with chunkfs stat"
$LC pick "$W/stat.json" "$NCH" $SEEDS >"$W/ks" || die "picking chunks"

# ---- one lost chunk at a time ----
echo "chunks: $(tr '\n' ';' <"$W/ks")"
trials=0
tot_truth=0 tot_blast=0 tot_moved=0 tot_files=0 tot_rounds=0
while read -r K WHY; do
	cp "$W/img" "$W/a"
	dd if=/dev/zero of="$W/a" bs="$BS" seek=$((2 + K * CB)) count="$CB" \
		conv=notrunc status=none || fail "dd"
	"$FSCK" -y --chunk "$K" --json "$W/a" >"$W/fsck.json" 2>"$W/fsck.err"
	rc=$?
	trials=$((trials + 1))
	if [ "$rc" != 1 ]; then
		fail "chunk $K ($WHY): fsck -y --chunk $K exit $rc, want 1 (fixed): $(tail -3 "$W/fsck.err")"
		continue
	fi
	"$FSCK" -fn "$W/a" >"$W/fn.out" 2>&1
	rc=$?
	rounds=1
	if [ "$rc" != 0 ]; then
		fail "chunk $K ($WHY): fsck -fn after one round: exit $rc"
		sed 's/^/    /' "$W/fn.out" | head -20
		rounds=2
	fi
	tot_rounds=$((tot_rounds + rounds))
	$LC blast "$K" "$W/p$K.json" "$W/fsck.json" "$W/fig.json" ||
		fail "chunk $K ($WHY): the blast radius is not the truth"
	mount_img "$W/a"
	$LC verify "$K" "$MNT" "$W/src" "$W/p$K.json" "$W/man.json" "$W/fig.json" ||
		fail "chunk $K ($WHY): files outside the chunk not as they were"
	umount_img
	F=$($LC get "$W/fig.json" "'%d %d %d %d %d %d %d %d' % (j['truth'], j['blast'], j['kept'], j['moved'], j['files'], j['dirs'], j['lost'], j['dataless'])")
	set -- $F
	echo "chunk $K ($WHY): truth $1 files; blast radius $2 (+$3 parts of lost" \
		"files kept in lost+found); $4 files moved to lost+found; at their" \
		"paths: $5 file names, $6 directories, $8 names of files that lost" \
		"data; $7 names lost with their files; rounds $rounds"
	tot_truth=$((tot_truth + $1)) tot_blast=$((tot_blast + $2))
	tot_moved=$((tot_moved + $4)) tot_files=$((tot_files + $5 + $6 + $8))
done <"$W/ks"
[ "$trials" -ge 5 ] || fail "only $trials chunks tried"
echo "figures: $trials chunks lost; truth $tot_truth files, blast radius $tot_blast;" \
	"files outside K moved to lost+found: $tot_moved (target 0); names checked at" \
	"their paths: $tot_files; rounds to clean: $tot_rounds for $trials (target 1 each)"

# ---- argument errors and images without parent pointers ----
expect_fail "missing --chunk" '--chunk K is required' "$TOOL" paths "$W/img"
expect_fail "no image" 'no image or mount given' "$TOOL" paths --chunk 0
expect_fail "no such chunk" "no chunk 999: .* has $NCH chunks" "$TOOL" paths "$W/img" --chunk 999
expect_fail "bad chunk number" "'1x' is not a chunk number" "$TOOL" paths "$W/img" --chunk 1x
expect_fail "two images" 'one image or mount only' "$TOOL" paths "$W/img" "$W/img" --chunk 0
head -c 4M /dev/zero >"$W/zero"
expect_fail "not chunkfs" 'cannot mount|not a chunkfs|superblock' "$TOOL" paths "$W/zero" --chunk 0
expect_fail "no such file" 'cannot stat' "$TOOL" paths "$W/nonexistent" --chunk 0
hold_lock "$W/img"
expect_fail "an image in use" 'in use: give its mount point' "$TOOL" paths "$W/img" --chunk 0
release_locks
for o in '^pptr' 'v1'; do
	rm -f "$W/nopp"
	"$MKFS" -q -C 4M -O "$o" -d "$W/src/etc" "$W/nopp" 16M || fail "mkfs -O $o"
	if "$TOOL" paths "$W/nopp" --chunk 0 --json >"$W/nopp.json" 2>"$W/err"; then
		check_eq "-O $o: paths note" "$(grep -c 'no parent pointers' "$W/err")" 1
		check_eq "-O $o: inode numbers, no paths" \
			"$($LC get "$W/nopp.json" "(j['pptr'], j['count'] > 12, sum(len(f['paths']) for f in j['files']), 1 in [f['ino'] for f in j['files']])")" \
			"(False, True, 0, True)"
	else
		fail "-O $o: chunkfs paths: $(cat "$W/err")"
	fi
done
KBIG=$($LC get "$W/man.json" "j['/big']['img_ino'] >> 32")
"$TOOL" paths "$W/img" --chunk "$KBIG" >"$W/text" 2>"$W/err" &&
	grep -q "^  inode,data *\/big (inode [0-9]*; also /shared/hl-big)$" "$W/text" &&
	ok "text: a hard-linked file with every name" ||
	{ fail "text output"; head -5 "$W/text" "$W/err"; }
expect_ok "help" "$TOOL" help paths
finish
