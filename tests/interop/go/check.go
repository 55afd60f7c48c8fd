// Command check cross-checks mlledger's checkpoints and proofs with Go's own
// transparency-log code: golang.org/x/mod/sumdb/note (C2SP signed notes) and
// golang.org/x/mod/sumdb/tlog (RFC 6962 trees, record and tree proofs), as
// Debian's golang-golang-x-mod-dev ships them (v0.7.0).  Built by
// tests/interop/run.sh in GOPATH mode (GO111MODULE=off,
// GOPATH=/usr/share/gocode), without network.
//
// Written from ledger/FORMAT.md §8 and the x/mod documentation only.
//
//	check vectors                                  RFC 6962 test data, CT proofs, note example
//	check checkpoint LOG.pub NOTE                  prints "ORIGIN SIZE ROOTHEX"
//	check inclusion LOG.pub BUNDLE LEAF            a c2sp.org/tlog-proof@v1 bundle
//	check consistency LOG.pub OLD NEW PROOF        PROOF: one base64 hash a line
//	check tree LOG.pub DUMP NOTE...                DUMP: "level idx hex" lines (level 0:
//	                                               leaf hashes, then the tree table);
//	                                               each NOTE's root = tlog.TreeHash
//	check tiles LOG.pub URL                        a live `mlledger serve` read as a
//	                                               C2SP tlog-tiles log with x/mod's own
//	                                               tile reader (tlog.TileHashReader):
//	                                               the checkpoint, every hash through
//	                                               tiles checked against its root, every
//	                                               entry bundle against the leaf hashes,
//	                                               and a record proof per entry
//
// Exit status 0 when the check holds, 1 when it does not (reason on stdout),
// 2 on usage errors.  "vectors" prints TAP-like "ok - " / "not ok - " lines.
//
// Notes on x/mod v0.7.0:
//   - tlog.ParseTree expects Go's checksum-database first line ("go.sum
//     database tree"), so the C2SP checkpoint text (origin, size, root) is
//     parsed here.
//   - tlog.TreeHash(0, r) returns the all-zero hash, not RFC 6962's
//     MTH({}) = SHA-256(""): size 0 is handled here.
//   - There is no C2SP tlog-cosignature support: witness cosignatures are not
//     checked here (verify_ledger.py checks them).
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// checkpoint is a verified C2SP checkpoint.
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// b64 decodes strict standard base64 (canonical padding bits too).
func b64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}

func hash32(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := b64(s)
	if err != nil {
		return h, err
	}
	if len(b) != tlog.HashSize {
		return h, fmt.Errorf("hash of %d bytes", len(b))
	}
	copy(h[:], b)
	return h, nil
}

// openCheckpoint verifies msg with the log's verifier key (note.Open) and
// parses the C2SP checkpoint text: origin, decimal size, base64 root, and
// nothing else (FORMAT.md §8 shows exactly three lines).
func openCheckpoint(vkey string, msg []byte) (checkpoint, error) {
	var c checkpoint
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return c, fmt.Errorf("log key: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return c, fmt.Errorf("note: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return c, errors.New("checkpoint: text is not exactly origin, size and root lines")
	}
	c.origin = lines[0]
	if c.origin != v.Name() {
		return c, fmt.Errorf("checkpoint: origin %q is not the log key's name %q", c.origin, v.Name())
	}
	if lines[1] == "" || (len(lines[1]) > 1 && lines[1][0] == '0') {
		return c, errors.New("checkpoint: size is not decimal without leading zeros")
	}
	c.size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || c.size < 0 {
		return c, errors.New("checkpoint: bad size")
	}
	if c.root, err = hash32(lines[2]); err != nil {
		return c, fmt.Errorf("checkpoint: root: %v", err)
	}
	return c, nil
}

// parseBundle splits a c2sp.org/tlog-proof@v1 bundle (FORMAT.md §8; C2SP's
// optional "extra" line is skipped).
func parseBundle(b []byte) (index int64, proof tlog.RecordProof, cp []byte, err error) {
	rest := b
	next := func() (string, error) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", errors.New("bundle: truncated")
		}
		l := string(rest[:i])
		rest = rest[i+1:]
		return l, nil
	}
	l, err := next()
	if err != nil || l != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, errors.New("bundle: not c2sp.org/tlog-proof@v1")
	}
	if l, err = next(); err != nil {
		return 0, nil, nil, err
	}
	if strings.HasPrefix(l, "extra ") {
		if l, err = next(); err != nil {
			return 0, nil, nil, err
		}
	}
	if !strings.HasPrefix(l, "index ") {
		return 0, nil, nil, errors.New("bundle: no index line")
	}
	if index, err = strconv.ParseInt(l[len("index "):], 10, 64); err != nil || index < 0 {
		return 0, nil, nil, errors.New("bundle: bad index")
	}
	for {
		if l, err = next(); err != nil {
			return 0, nil, nil, err
		}
		if l == "" {
			break
		}
		h, err := hash32(l)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("bundle: proof hash: %v", err)
		}
		proof = append(proof, h)
	}
	return index, proof, rest, nil
}

func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

func inclusion(args []string) error {
	vkey, err := readKey(args[0])
	if err != nil {
		return err
	}
	bundle, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	leaf, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	index, proof, cpb, err := parseBundle(bundle)
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(vkey, cpb)
	if err != nil {
		return err
	}
	// FORMAT.md §4: leaf hash = SHA-256(0x00 || leaf bytes) = tlog.RecordHash
	if err := tlog.CheckRecord(proof, cp.size, cp.root, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("entry %d in the tree of size %d: %v", index, cp.size, err)
	}
	fmt.Printf("ok entry %d is in the tree of size %d of %s (tlog.CheckRecord, %d hashes)\n",
		index, cp.size, cp.origin, len(proof))
	return nil
}

func consistency(args []string) error {
	vkey, err := readKey(args[0])
	if err != nil {
		return err
	}
	var cps [2]checkpoint
	for i := 0; i < 2; i++ {
		b, err := os.ReadFile(args[1+i])
		if err != nil {
			return err
		}
		if cps[i], err = openCheckpoint(vkey, b); err != nil {
			return fmt.Errorf("%s: %v", args[1+i], err)
		}
	}
	pb, err := os.ReadFile(args[3])
	if err != nil {
		return err
	}
	var proof tlog.TreeProof
	sc := bufio.NewScanner(bytes.NewReader(pb))
	for sc.Scan() {
		h, err := hash32(sc.Text())
		if err != nil {
			return fmt.Errorf("proof: %v", err)
		}
		proof = append(proof, h)
	}
	old, cur := cps[0], cps[1]
	if old.size == 0 {
		// RFC 6962 MTH({}) = SHA-256(""); tlog.CheckTree refuses size 0
		if len(proof) != 0 || old.root != tlog.Hash(sha256.Sum256(nil)) {
			return errors.New("size 0: not the empty tree with an empty proof")
		}
	} else if err := tlog.CheckTree(proof, cur.size, cur.root, old.size, old.root); err != nil {
		return fmt.Errorf("from size %d to size %d: %v", old.size, cur.size, err)
	}
	fmt.Printf("ok the tree of size %d is a prefix of the tree of size %d (tlog.CheckTree, %d hashes)\n",
		old.size, cur.size, len(proof))
	return nil
}

// dumpReader serves tlog's stored hashes from our tree: (level, idx) of
// FORMAT.md §7 is tlog's stored hash of level L, index n.
type dumpReader map[[2]int64]tlog.Hash

func (d dumpReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		l, n := tlog.SplitStoredHashIndex(x)
		h, ok := d[[2]int64{int64(l), n}]
		if !ok {
			return nil, fmt.Errorf("no stored node (level %d, index %d)", l, n)
		}
		out[i] = h
	}
	return out, nil
}

func tree(args []string) error {
	vkey, err := readKey(args[0])
	if err != nil {
		return err
	}
	f, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	d := dumpReader{}
	var leaves int64
	for _, l := range strings.Split(strings.TrimSuffix(string(f), "\n"), "\n") {
		var lvl, idx int64
		var hx string
		if _, err := fmt.Sscanf(l, "%d %d %s", &lvl, &idx, &hx); err != nil {
			return fmt.Errorf("dump: %q: %v", l, err)
		}
		b, err := hex.DecodeString(strings.ToLower(hx))
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Errorf("dump: bad hash %q", hx)
		}
		var h tlog.Hash
		copy(h[:], b)
		d[[2]int64{lvl, idx}] = h
		if lvl == 0 {
			leaves++
		}
	}
	// the tree table holds exactly tlog's stored hashes above level 0
	if int64(len(d)) != tlog.StoredHashCount(leaves) {
		return fmt.Errorf("%d leaves and %d tree nodes, but tlog stores %d hashes for %d records",
			leaves, int64(len(d))-leaves, tlog.StoredHashCount(leaves), leaves)
	}
	for k, h := range d {
		if k[0] == 0 {
			continue
		}
		l, r := d[[2]int64{k[0] - 1, 2 * k[1]}], d[[2]int64{k[0] - 1, 2*k[1] + 1}]
		if tlog.NodeHash(l, r) != h {
			return fmt.Errorf("tree node (level %d, index %d) is not tlog.NodeHash of its children", k[0], k[1])
		}
	}
	for _, p := range args[2:] {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		cp, err := openCheckpoint(vkey, b)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		if cp.size > leaves {
			return fmt.Errorf("%s: size %d beyond the %d leaves", p, cp.size, leaves)
		}
		th := tlog.Hash(sha256.Sum256(nil))
		if cp.size > 0 {
			if th, err = tlog.TreeHash(cp.size, d); err != nil {
				return err
			}
		}
		if th != cp.root {
			return fmt.Errorf("%s: root of size %d is not tlog.TreeHash over the stored nodes", p, cp.size)
		}
	}
	fmt.Printf("ok %d leaves, %d tree nodes = tlog.StoredHashCount, each the NodeHash of its children; "+
		"%d checkpoint roots = tlog.TreeHash over them\n", leaves, int64(len(d))-leaves, len(args)-2)
	return nil
}

func vectors() error {
	failed := 0
	check := func(desc string, ok bool) {
		if ok {
			fmt.Printf("ok - %s\n", desc)
		} else {
			failed++
			fmt.Printf("not ok - %s\n", desc)
		}
	}
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			panic(err)
		}
		return b
	}
	hashes := func(xs ...string) []tlog.Hash {
		out := make([]tlog.Hash, len(xs))
		for i, x := range xs {
			copy(out[i][:], unhex(x))
		}
		return out
	}
	// The RFC 6962 test data of Certificate Transparency and its published
	// roots (size 0: SHA-256("")).
	data := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
		"606162636465666768696a6b6c6d6e6f"}
	roots := hashes(
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
	// tlog's stored hashes, built the way a tlog server does
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	allRoots := true
	for i, d := range data {
		hs, err := tlog.StoredHashes(int64(i), unhex(d), r)
		if err != nil {
			return err
		}
		stored = append(stored, hs...)
		th, err := tlog.TreeHash(int64(i+1), r)
		if err != nil || th != roots[i+1] {
			allRoots = false
		}
		if tlog.RecordHash(unhex(d)) != stored[tlog.StoredHashIndex(0, int64(i))] {
			allRoots = false
		}
	}
	check("tlog.RecordHash + tlog.TreeHash of the RFC 6962 test data equal the published roots for sizes 1-8",
		allRoots)
	z, _ := tlog.TreeHash(0, r)
	check("tlog.TreeHash(0) is the all-zero hash in x/mod v0.7.0 (RFC 6962 MTH({}) = SHA-256(\"\") used instead)",
		z == tlog.Hash{} && tlog.Hash(sha256.Sum256(nil)) == roots[0])

	// The published CT proofs are tlog's RecordProof / TreeProof, hash for hash.
	type vec struct {
		k    [2]int64
		want []tlog.Hash
	}
	incl := []vec{
		{[2]int64{0, 8}, hashes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")},
		{[2]int64{5, 8}, hashes("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")},
	}
	for _, x := range incl {
		k, want := x.k, x.want
		p, err := tlog.ProveRecord(k[1], k[0], r)
		same := err == nil && len(p) == len(want)
		for i := 0; same && i < len(p); i++ {
			same = p[i] == want[i]
		}
		check(fmt.Sprintf("tlog.ProveRecord(%d, %d) is the published RFC 6962 audit path; tlog.CheckRecord accepts it",
			k[1], k[0]), same && tlog.CheckRecord(want, k[1], roots[k[1]], k[0], tlog.RecordHash(unhex(data[k[0]]))) == nil)
	}
	cons := []vec{
		{[2]int64{2, 8}, hashes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")},
		{[2]int64{6, 8}, hashes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")},
	}
	for _, x := range cons {
		k, want := x.k, x.want
		p, err := tlog.ProveTree(k[1], k[0], r)
		same := err == nil && len(p) == len(want)
		for i := 0; same && i < len(p); i++ {
			same = p[i] == want[i]
		}
		check(fmt.Sprintf("tlog.ProveTree(%d, %d) is the published RFC 6962 consistency proof; tlog.CheckTree accepts it",
			k[1], k[0]), same && tlog.CheckTree(want, k[1], roots[k[1]], k[0], roots[k[0]]) == nil)
	}

	// The signed-note example of x/mod/sumdb/note's documentation.
	v, err := note.NewVerifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
	msg := "If you think cryptography is the answer to your problem,\n" +
		"then you don't know what your problem is.\n\n" +
		"\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
	ok := err == nil
	if ok {
		_, err = note.Open([]byte(msg), note.VerifierList(v))
		_, err2 := note.Open([]byte(strings.Replace(msg, "answer", "Answer", 1)), note.VerifierList(v))
		ok = err == nil && err2 != nil
	}
	check("note.Open verifies the x/mod signed-note example and refuses it changed", ok)
	if failed > 0 {
		return fmt.Errorf("%d vector checks failed", failed)
	}
	return nil
}

// httpTiles reads hash tiles from a C2SP tlog-tiles server.  x/mod v0.7.0
// names tiles as Go's checksum database does, "tile/8/L/N[.p/W]", with the
// tile height in the path; C2SP tlog-tiles fixes the height at 8 and drops
// it: "tile/L/N[.p/W]".  Data tiles ("tile/8/data/N") are C2SP's entry
// bundles ("tile/entries/N"), read by get directly.
type httpTiles struct {
	base string
	n    int // requests made
}

func (h *httpTiles) get(path string) ([]byte, error) {
	h.n++
	resp, err := http.Get(h.base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256*65537+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return b, nil
}

func c2spPath(t tlog.Tile) string {
	p := t.Path() // "tile/8/L/..." or "tile/8/data/..."
	p = strings.TrimPrefix(p, "tile/8/")
	if strings.HasPrefix(p, "data/") {
		return "tile/entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

func (h *httpTiles) Height() int { return 8 }

func (h *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := h.get(c2spPath(t))
		if err != nil {
			return nil, err
		}
		if len(b) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", c2spPath(t), len(b), t.W*tlog.HashSize)
		}
		out[i] = b
	}
	return out, nil
}

func (h *httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// tiles checks a served log end to end with x/mod's tile code.
func tiles(args []string) error {
	vkey, err := readKey(args[0])
	if err != nil {
		return err
	}
	h := &httpTiles{base: strings.TrimSuffix(args[1], "/")}
	cpb, err := h.get("checkpoint")
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(vkey, cpb)
	if err != nil {
		return err
	}
	tree := tlog.Tree{N: cp.size, Hash: cp.root}
	th := tlog.TileHashReader(tree, h)
	root, err := tlog.TreeHash(cp.size, th)
	if err != nil {
		return fmt.Errorf("tlog.TreeHash through tiles: %v", err)
	}
	if root != cp.root {
		return errors.New("the root computed from the tiles is not the checkpoint's")
	}
	// Entry bundles: each entry's record hash is the leaf hash the tiles
	// (checked against the signed root) hold at its index.
	for start := int64(0); start < cp.size; start += 256 {
		w := cp.size - start
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(w)}
		b, err := h.get(c2spPath(t))
		if err != nil {
			return err
		}
		for i := int64(0); i < w; i++ {
			if len(b) < 2 {
				return fmt.Errorf("%s: entry %d missing", c2spPath(t), start+i)
			}
			n := int(b[0])<<8 | int(b[1])
			if n == 0 || len(b) < 2+n {
				return fmt.Errorf("%s: entry %d: bad length", c2spPath(t), start+i)
			}
			rec := b[2 : 2+n]
			b = b[2+n:]
			hs, err := th.ReadHashes([]int64{tlog.StoredHashIndex(0, start+i)})
			if err != nil {
				return err
			}
			if tlog.RecordHash(rec) != hs[0] {
				return fmt.Errorf("entry %d: its record hash is not the tile's leaf hash", start+i)
			}
			p, err := tlog.ProveRecord(cp.size, start+i, th)
			if err != nil {
				return err
			}
			if err := tlog.CheckRecord(p, cp.size, cp.root, start+i, hs[0]); err != nil {
				return fmt.Errorf("entry %d: %v", start+i, err)
			}
		}
		if len(b) != 0 {
			return fmt.Errorf("%s: %d bytes after the last entry", c2spPath(t), len(b))
		}
	}
	fmt.Printf("ok %s size %d: root through tiles, %d entries and their record proofs (%d requests)\n",
		cp.origin, cp.size, cp.size, h.n)
	return nil
}

func main() {
	a := os.Args[1:]
	var err error
	switch {
	case len(a) == 1 && a[0] == "vectors":
		err = vectors()
	case len(a) == 3 && a[0] == "checkpoint":
		var vkey string
		var b []byte
		if vkey, err = readKey(a[1]); err == nil {
			if b, err = os.ReadFile(a[2]); err == nil {
				var c checkpoint
				if c, err = openCheckpoint(vkey, b); err == nil {
					fmt.Printf("%s %d %x\n", c.origin, c.size, c.root[:])
				}
			}
		}
	case len(a) == 4 && a[0] == "inclusion":
		err = inclusion(a[1:])
	case len(a) == 5 && a[0] == "consistency":
		err = consistency(a[1:])
	case len(a) >= 3 && a[0] == "tree":
		err = tree(a[1:])
	case len(a) == 3 && a[0] == "tiles":
		err = tiles(a[1:])
	default:
		fmt.Fprintln(os.Stderr, "usage: check vectors | checkpoint LOG.pub NOTE | inclusion LOG.pub BUNDLE LEAF |")
		fmt.Fprintln(os.Stderr, "       consistency LOG.pub OLD NEW PROOF | tree LOG.pub DUMP NOTE... | tiles LOG.pub URL")
		os.Exit(2)
	}
	if err != nil {
		fmt.Println("bad:", err)
		os.Exit(1)
	}
}
