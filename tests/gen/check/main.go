// gencheck — proves that the Terraform cellgen writes is right without
// running Terraform: it parses every .tf file with HashiCorp's HCL parser,
// checks the canonical `terraform fmt` layout, validates every aws_*,
// azurerm_* and cloudflare_* resource, data source and provider block
// against the provider schema fixtures extracted from the CDK for Terraform
// packages
// (tests/gen/schemas/) — and other providers' resources against a schema
// given with -providers-schema —, checks that every reference names
// something that exists, and that two modules meant to be interchangeable
// declare the same interface.
//
// This file owns the command line and the findings list; each check lives in
// its own file (module.go, format.go, resources.go, types.go, providers.go,
// tfschema.go, refs.go, match.go).
//
// Usage:
//
//	gencheck [-schemas DIR] [-providers-schema FILE]... [-pending-schema FILE]... [-match DIR_A,DIR_B]... MODULE_DIR...
//
// Every finding is printed as `file:line:col: message`, sorted; the exit
// status is 1 when there is any finding, 2 on a usage or fixture error.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// finding is one problem at one place in one file.
type finding struct {
	file      string
	line, col int
	msg       string
}

func (f finding) String() string {
	if f.line == 0 {
		return fmt.Sprintf("%s: %s", f.file, f.msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", f.file, f.line, f.col, f.msg)
}

// report collects findings from every check; checks never stop at the first.
type report struct {
	findings []finding
}

func (r *report) at(rng hcl.Range, format string, args ...interface{}) {
	r.findings = append(r.findings, finding{rng.Filename, rng.Start.Line, rng.Start.Column, fmt.Sprintf(format, args...)})
}

func (r *report) file(name string, format string, args ...interface{}) {
	r.findings = append(r.findings, finding{name, 0, 0, fmt.Sprintf(format, args...)})
}

// diags turns HCL diagnostics (parse errors) into findings.
func (r *report) diags(ds hcl.Diagnostics) {
	for _, d := range ds {
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			r.at(*d.Subject, "%s", msg)
		} else {
			r.file("?", "%s", msg)
		}
	}
}

// sorted returns the findings ordered by place, without duplicates (the same
// reference checked from two paths is one problem).
func (r *report) sorted() []finding {
	fs := append([]finding(nil), r.findings...)
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.line != b.line {
			return a.line < b.line
		}
		if a.col != b.col {
			return a.col < b.col
		}
		return a.msg < b.msg
	})
	out := fs[:0]
	for i, f := range fs {
		if i > 0 && f == fs[i-1] {
			continue
		}
		out = append(out, f)
	}
	return out
}

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type pairList [][2]string

func (p *pairList) String() string { return fmt.Sprint(*p) }
func (p *pairList) Set(v string) error {
	parts := strings.Split(v, ",")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("want DIR_A,DIR_B, got %q", v)
	}
	*p = append(*p, [2]string{parts[0], parts[1]})
	return nil
}

func main() {
	schemaDir := flag.String("schemas", "tests/gen/schemas", "folder holding the provider schema fixtures (aws.json, azurerm.json, cloudflare.json)")
	var pairs pairList
	var tfSchemas stringList
	flag.Var(&tfSchemas, "providers-schema", "`FILE` in the format of `terraform providers schema -json`, for providers without a fixture (repeatable)")
	var pending stringList
	flag.Var(&pending, "pending-schema", "`FILE` in the same format: resources and attributes a -providers-schema provider is getting on another branch, used where the built one lacks them (repeatable)")
	flag.Var(&pairs, "match", "`DIR_A,DIR_B`: two modules that must declare identical variables and outputs (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: gencheck [-schemas DIR] [-providers-schema FILE]... [-pending-schema FILE]... [-match DIR_A,DIR_B]... MODULE_DIR...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 && len(pairs) == 0 {
		flag.Usage()
		os.Exit(2)
	}

	schemas, err := loadSchemas(*schemaDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gencheck: %v\n", err)
		os.Exit(2)
	}
	for _, f := range tfSchemas {
		if err := schemas.addTerraformSchema(f); err != nil {
			fmt.Fprintf(os.Stderr, "gencheck: %v\n", err)
			os.Exit(2)
		}
	}

	for _, f := range pending {
		used, err := schemas.addPendingSchema(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gencheck: %v\n", err)
			os.Exit(2)
		}
		if len(used) == 0 {
			fmt.Fprintf(os.Stderr, "gencheck: the provider has everything %s describes: it can be deleted\n", f)
		} else {
			fmt.Fprintf(os.Stderr, "gencheck: %s, which the provider built here lacks, checked as %s describes\n", strings.Join(used, ", "), f)
		}
	}

	r := &report{}
	loader := newLoader(r)
	for _, dir := range flag.Args() {
		m := loader.load(dir)
		if m == nil {
			continue
		}
		checkFormat(r, m)
		checkResources(r, m, schemas)
		checkProviders(r, m, schemas)
		checkRefs(r, m, schemas, loader)
	}
	for _, p := range pairs {
		a, b := loader.load(p[0]), loader.load(p[1])
		if a != nil && b != nil {
			checkMatch(r, a, b)
		}
	}

	fs := r.sorted()
	for _, f := range fs {
		fmt.Println(f)
	}
	if len(fs) > 0 {
		fmt.Fprintf(os.Stderr, "gencheck: %d finding(s) in %d module(s)\n", len(fs), loader.count())
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gencheck: %d module(s), %d file(s): no findings\n", loader.count(), loader.files())
}
