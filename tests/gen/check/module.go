// module.go — loading one Terraform module (a folder of .tf files): parsing
// every file with hclsyntax, reporting syntax errors, and indexing the
// top-level declarations the other checks look up (resources, data sources,
// variables, outputs, locals, module calls).
package main

import (
	"fmt"
	"io/ioutil"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// tfFile is one parsed file; broken files (syntax errors) are reported and
// then left out of every other check, whose findings would be noise.
type tfFile struct {
	path   string
	src    []byte
	body   *hclsyntax.Body
	broken bool
}

// declared is a resource or data source block.
type declared struct {
	typ, name string
	block     *hclsyntax.Block
	// repetition is "count", "for_each" or "": it decides whether a
	// reference must, or must not, carry an instance key.
	repetition string
}

type module struct {
	dir       string
	files     []*tfFile
	resources map[string]*declared // "type.name"
	data      map[string]*declared // "type.name"
	variables map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	calls     map[string]*hclsyntax.Block
	varOrder  []string
	outOrder  []string
}

// loader parses each module folder once, whether it is named on the command
// line or reached through a module call's source.
type loader struct {
	r       *report
	modules map[string]*module
	order   []string
}

func newLoader(r *report) *loader {
	return &loader{r: r, modules: map[string]*module{}}
}

func (l *loader) count() int { return len(l.order) }

func (l *loader) files() int {
	n := 0
	for _, k := range l.order {
		if m := l.modules[k]; m != nil {
			n += len(m.files)
		}
	}
	return n
}

// load returns the module in dir, or nil (with a finding) when the folder
// holds no .tf file.
func (l *loader) load(dir string) *module {
	return l.get(dir, true)
}

// find is load for a module call's source: a missing folder is reported by
// the caller, at the source argument.
func (l *loader) find(dir string) *module {
	return l.get(dir, false)
}

func (l *loader) get(dir string, reportMissing bool) *module {
	key := filepath.Clean(dir)
	if m, ok := l.modules[key]; ok {
		return m
	}
	l.order = append(l.order, key)
	l.modules[key] = nil
	ents, err := ioutil.ReadDir(key)
	if err != nil {
		if reportMissing {
			l.r.file(key, "cannot read module folder: %v", err)
		}
		return nil
	}
	m := &module{
		dir:       key,
		resources: map[string]*declared{},
		data:      map[string]*declared{},
		variables: map[string]*hclsyntax.Block{},
		outputs:   map[string]*hclsyntax.Block{},
		locals:    map[string]*hclsyntax.Attribute{},
		calls:     map[string]*hclsyntax.Block{},
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".tf") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		l.r.file(key, "no .tf files in module folder")
		return nil
	}
	for _, n := range names {
		path := filepath.Join(key, n)
		src, err := ioutil.ReadFile(path)
		if err != nil {
			l.r.file(path, "cannot read: %v", err)
			continue
		}
		f, diags := hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1, Byte: 0})
		tf := &tfFile{path: path, src: src}
		if diags.HasErrors() || f == nil {
			l.r.diags(diags)
			tf.broken = true
		} else {
			tf.body = f.Body.(*hclsyntax.Body)
		}
		m.files = append(m.files, tf)
		if !tf.broken {
			m.index(l.r, tf)
		}
	}
	l.modules[key] = m
	return m
}

// index records the top-level declarations of one file.
func (m *module) index(r *report, f *tfFile) {
	for _, b := range f.body.Blocks {
		switch b.Type {
		case "resource", "data":
			if len(b.Labels) != 2 {
				r.at(b.TypeRange, "%s block needs two labels (type and name), has %d", b.Type, len(b.Labels))
				continue
			}
			d := &declared{typ: b.Labels[0], name: b.Labels[1], block: b}
			if _, ok := b.Body.Attributes["count"]; ok {
				d.repetition = "count"
			}
			if _, ok := b.Body.Attributes["for_each"]; ok {
				if d.repetition != "" {
					r.at(b.TypeRange, "%s %q %q sets both count and for_each", b.Type, d.typ, d.name)
				}
				d.repetition = "for_each"
			}
			table := m.resources
			if b.Type == "data" {
				table = m.data
			}
			key := d.typ + "." + d.name
			if prev, dup := table[key]; dup {
				r.at(b.DefRange(), "duplicate %s %q %q (first declared at %s)", b.Type, d.typ, d.name, short(prev.block.DefRange()))
				continue
			}
			table[key] = d
		case "variable", "output", "module":
			if len(b.Labels) != 1 {
				r.at(b.TypeRange, "%s block needs one label, has %d", b.Type, len(b.Labels))
				continue
			}
			name := b.Labels[0]
			table := map[string]map[string]*hclsyntax.Block{"variable": m.variables, "output": m.outputs, "module": m.calls}[b.Type]
			if prev, dup := table[name]; dup {
				r.at(b.DefRange(), "duplicate %s %q (first declared at %s)", b.Type, name, short(prev.DefRange()))
				continue
			}
			table[name] = b
			if b.Type == "variable" {
				m.varOrder = append(m.varOrder, name)
			} else if b.Type == "output" {
				m.outOrder = append(m.outOrder, name)
			}
		case "locals":
			for _, a := range sortedAttrs(b.Body) {
				if prev, dup := m.locals[a.Name]; dup {
					r.at(a.NameRange, "duplicate local %q (first declared at %s)", a.Name, short(prev.NameRange))
					continue
				}
				m.locals[a.Name] = a
			}
		case "terraform", "provider", "moved", "import", "check", "removed":
			// Settings blocks: nothing for the other checks to index.
		default:
			r.at(b.TypeRange, "unknown top-level block type %q", b.Type)
		}
	}
}

// sortedAttrs lists a body's attributes in source order (the map has none).
func sortedAttrs(b *hclsyntax.Body) []*hclsyntax.Attribute {
	as := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].SrcRange.Start.Byte < as[j].SrcRange.Start.Byte })
	return as
}

// live lists the files that parsed.
func (m *module) live() []*tfFile {
	var out []*tfFile
	for _, f := range m.files {
		if !f.broken {
			out = append(out, f)
		}
	}
	return out
}

// short prints a range as file:line:col for cross-references in messages.
func short(rng hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
}

// text is the exact source of a range, for messages and comparisons.
func text(m *module, rng hcl.Range) string {
	for _, f := range m.files {
		if f.path == rng.Filename && rng.End.Byte <= len(f.src) {
			return string(f.src[rng.Start.Byte:rng.End.Byte])
		}
	}
	return ""
}
