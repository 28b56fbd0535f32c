// crrelease — the release archives and mirrors of terraform-provider-cellrouter
// in the exact formats Terraform and its registry read (release/release.mk
// runs it; release/README.md says what each file is).
//
//	crrelease zip   -o OUT.zip -epoch SECONDS NAME=PATH...
//	crrelease mirror -dist DIR -version V -out MIRROR [-host H -namespace N -type T]
//	crrelease hash  FILE.zip...
//
// zip writes a deterministic archive: entries in the order given, each with
// the time SECONDS (SOURCE_DATE_EPOCH), mode 0755 and deflate, so the same
// binaries always give the same zip and the same zh: hash.
//
// mirror lays the provider zips of version V found in DIR out as
// MIRROR/HOST/NAMESPACE/TYPE/terraform-provider-TYPE_V_OS_ARCH.zip, which is
// at once the packed layout of a filesystem mirror and the archive files of a
// network mirror, and writes the network mirror protocol's index.json (every
// version in that directory) and V.json (each platform's zip with its h1: and
// zh: hashes). Terraform ignores the .json files when it reads the directory
// as a filesystem mirror, so one tree serves both ways.
//
// hash prints each zip's h1: hash. h1: is Terraform's package hash, version 1
// (internal/getproviders/hash.go, PackageHashV1): for a zip archive,
// golang.org/x/mod/sumdb/dirhash.HashZip with dirhash.Hash1, computed here
// with that very package (Debian's golang-golang-x-mod-dev). zh: is the
// SHA-256 of the zip file, hex (the registry's SHA256SUMS value).
package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/dirhash"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "zip":
		err = cmdZip(os.Args[2:])
	case "mirror":
		err = cmdMirror(os.Args[2:])
	case "hash":
		err = cmdHash(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crrelease %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, "usage: crrelease zip -o OUT.zip -epoch SECONDS NAME=PATH...\n"+
		"       crrelease mirror -dist DIR -version V -out MIRROR [-host H -namespace N -type T]\n"+
		"       crrelease hash FILE.zip...\n")
	os.Exit(2)
}

// ---- zip ---------------------------------------------------------------

func cmdZip(args []string) error {
	fs := flag.NewFlagSet("zip", flag.ContinueOnError)
	out := fs.String("o", "", "the zip to write")
	epoch := fs.Int64("epoch", 0, "modification time of every entry (seconds since 1970)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("need -o and at least one NAME=PATH")
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	w := zip.NewWriter(f)
	for _, spec := range fs.Args() {
		name, path, ok := strings.Cut(spec, "=")
		if !ok || name == "" || strings.Contains(name, "\n") {
			return fmt.Errorf("bad entry %q (want NAME=PATH)", spec)
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate,
			Modified: time.Unix(*epoch, 0).UTC()}
		h.SetMode(0o755)
		ew, err := w.CreateHeader(h)
		if err != nil {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(ew, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, *out)
}

// ---- hashes ------------------------------------------------------------

// hashH1 is Terraform's PackageHashV1 of a zip archive.
func hashH1(zipPath string) (string, error) {
	return dirhash.HashZip(zipPath, dirhash.Hash1)
}

// hashZH is the "zh:" form: the SHA-256 of the archive file itself.
func hashZH(zipPath string) (string, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "zh:" + hex.EncodeToString(h.Sum(nil)), nil
}

func cmdHash(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("name at least one zip")
	}
	for _, p := range args {
		h1, err := hashH1(p)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		fmt.Printf("%s  %s\n", h1, p)
	}
	return nil
}

// ---- mirror ------------------------------------------------------------

// The network mirror protocol's two documents
// (https://developer.hashicorp.com/terraform/internals/provider-network-mirror-protocol).
type versionIndex struct {
	Versions map[string]struct{} `json:"versions"`
}

type archive struct {
	URL    string   `json:"url"`
	Hashes []string `json:"hashes"`
}

type archiveIndex struct {
	Archives map[string]archive `json:"archives"`
}

// A version as Terraform's filesystem mirror accepts it (semver, no "v").
var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

func cmdMirror(args []string) error {
	fs := flag.NewFlagSet("mirror", flag.ContinueOnError)
	dist := fs.String("dist", "dist", "where the release zips are")
	version := fs.String("version", "", "the version to mirror")
	out := fs.String("out", "", "the mirror's base directory")
	host := fs.String("host", "registry.terraform.io", "provider source host")
	ns := fs.String("namespace", "cellrouter", "provider namespace")
	typ := fs.String("type", "cellrouter", "provider type")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || !versionRE.MatchString(*version) {
		return fmt.Errorf("need -out and -version MAJOR.MINOR.PATCH[-PRE]")
	}
	prefix := fmt.Sprintf("terraform-provider-%s_%s_", *typ, *version)
	zips, err := filepath.Glob(filepath.Join(*dist, prefix+"*_*.zip"))
	if err != nil {
		return err
	}
	if len(zips) == 0 {
		return fmt.Errorf("no %s*.zip in %s (make release first)", prefix, *dist)
	}
	sort.Strings(zips)
	dir := filepath.Join(*out, *host, *ns, *typ)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	idx := archiveIndex{Archives: map[string]archive{}}
	for _, z := range zips {
		name := filepath.Base(z)
		platform := strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".zip")
		if strings.Count(platform, "_") != 1 {
			return fmt.Errorf("%s: cannot tell the platform from the name", name)
		}
		if err := copyFile(z, filepath.Join(dir, name)); err != nil {
			return err
		}
		h1, err := hashH1(z)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		zh, err := hashZH(z)
		if err != nil {
			return err
		}
		idx.Archives[platform] = archive{URL: name, Hashes: []string{h1, zh}}
	}
	if err := writeJSON(filepath.Join(dir, *version+".json"), idx); err != nil {
		return err
	}
	// index.json lists every version this directory has an archive index
	// for, so mirroring a new release keeps the earlier ones available.
	vi := versionIndex{Versions: map[string]struct{}{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if v := strings.TrimSuffix(e.Name(), ".json"); v != e.Name() && versionRE.MatchString(v) {
			vi.Versions[v] = struct{}{}
		}
	}
	return writeJSON(filepath.Join(dir, "index.json"), vi)
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := to + ".tmp"
	dst, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, to)
}

func writeJSON(path string, v interface{}) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
