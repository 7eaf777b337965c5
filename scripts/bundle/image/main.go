// Command image writes a single-layer container image as a tarball that
// `ctr images import` reads, from files on disk and nothing else: no
// registry, no base image, no daemon. Every byte is fixed by its inputs
// (files sorted, owner root, mtime zero, no creation time), so the same
// binaries give the same image digest.
//
//	image --tag registry.k8s.io/pause:3.10.2 --out pause.tar \
//	  [--entrypoint /pause] [--user 65535] [--tree DIR] /path/on/disk=/pause[:mode] ...
//
// --tree DIR adds everything below DIR (folders, files, symlinks) at the
// same place in the image, e.g. a userland extracted from Debian packages.
// --low-ports PATH gives that file the capability to bind ports below 1024
// (as `setcap cap_net_bind_service=+ep`), for a server that runs as a
// non-root user, as upstream's CoreDNS image does.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type entry struct {
	src, dst string
	mode     int64
	// link is a symlink's target; dir marks a folder.
	link string
	dir  bool
}

func main() {
	tag := flag.String("tag", "", "image reference the tarball carries, e.g. registry.k8s.io/pause:3.10.2")
	out := flag.String("out", "", "tarball to write")
	entrypoint := flag.String("entrypoint", "", "entrypoint, words separated by spaces (none: the pod spec gives the command)")
	user := flag.String("user", "", "user the image runs as (none: root)")
	tree := flag.String("tree", "", "folder whose contents go into the image at the same paths")
	lowPorts := flag.String("low-ports", "", "file in the image that may bind ports below 1024 (file capability)")
	flag.Parse()
	if *tag == "" || *out == "" || (flag.NArg() == 0 && *tree == "") {
		fail("usage: image --tag REF --out FILE [--entrypoint CMD] [--user UID] SRC=DST[:MODE] ...")
	}
	var files []entry
	for _, arg := range flag.Args() {
		src, dst, ok := strings.Cut(arg, "=")
		if !ok || !strings.HasPrefix(dst, "/") {
			fail("%q: want SRC=/absolute/DST[:MODE]", arg)
		}
		mode := int64(0o755)
		if d, m, ok := strings.Cut(dst, ":"); ok {
			v, err := strconv.ParseInt(m, 8, 64)
			if err != nil {
				fail("%q: mode %q is not octal", arg, m)
			}
			dst, mode = d, v
		}
		files = append(files, entry{src: src, dst: dst, mode: mode})
	}
	if *tree != "" {
		found, err := walkTree(*tree)
		if err != nil {
			fail("--tree %s: %v", *tree, err)
		}
		files = append(files, found...)
	}
	layerBytes, err := layerTar(files, *lowPorts)
	if err != nil {
		fail("%v", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
	if err != nil {
		fail("layer: %v", err)
	}
	cfg := &v1.ConfigFile{Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}}
	if *entrypoint != "" {
		cfg.Config.Entrypoint = strings.Fields(*entrypoint)
	}
	cfg.Config.User = *user
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		fail("config: %v", err)
	}
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		fail("append: %v", err)
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		fail("--tag %q: %v", *tag, err)
	}
	if err := tarball.WriteToFile(*out, ref, img); err != nil {
		fail("write %s: %v", *out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		fail("digest: %v", err)
	}
	fmt.Printf("%s %s\n", *tag, digest)
}

// layerTar: the files and every parent directory, in name order, owned by
// root, with mtime zero.
func layerTar(files []entry, lowPorts string) ([]byte, error) {
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.dst); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
		if f.dir {
			dirs[f.dst] = true
		}
	}
	type item struct {
		name string
		f    *entry
	}
	var items []item
	for d := range dirs {
		items = append(items, item{strings.TrimPrefix(d, "/") + "/", nil})
	}
	for i := range files {
		if !files[i].dir {
			items = append(items, item{strings.TrimPrefix(files[i].dst, "/"), &files[i]})
		}
	}
	sort.Slice(items, func(a, b int) bool { return items[a].name < items[b].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range items {
		if it.f == nil {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: it.name, Mode: 0o755, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
			continue
		}
		if it.f.link != "" {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: it.name, Linkname: it.f.link, Mode: 0o777, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
			continue
		}
		data, err := os.ReadFile(it.f.src)
		if err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: it.name, Mode: it.f.mode, Size: int64(len(data)), Format: tar.FormatPAX}
		if it.f.dst == lowPorts {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": netBindServiceCap}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// netBindServiceCap is the security.capability xattr of
// `setcap cap_net_bind_service=+ep`: struct vfs_cap_data, revision 2 with
// the effective bit, permitted = 1<<CAP_NET_BIND_SERVICE (10), little endian.
const netBindServiceCap = "\x01\x00\x00\x02" + "\x00\x04\x00\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// walkTree: every folder, regular file and symlink below root, as entries
// at the same path in the image, with their modes.
func walkTree(root string) ([]entry, error) {
	var found []entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		dst := "/" + filepath.ToSlash(rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			found = append(found, entry{src: p, dst: dst, link: target})
		case info.IsDir():
			found = append(found, entry{dst: dst, dir: true})
		case info.Mode().IsRegular():
			found = append(found, entry{src: p, dst: dst, mode: int64(info.Mode().Perm())})
		}
		return nil
	})
	return found, err
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "image: "+format+"\n", a...)
	os.Exit(1)
}
