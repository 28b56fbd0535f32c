// diags.go — diagnostics: from the provider, from HCL, from our own checks,
// printed the way Terraform prints them.
//
// A provider diagnostic may carry an attribute path; Terraform then points
// at that argument in the configuration. We do the same when the path's
// first step names an argument written in the resource block, and always
// print the path itself so a reader (and a test) sees which attribute it is.
package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"cellrouter/proto/tfplugin6"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	sevError   = 1
	sevWarning = 2
)

type Diag struct {
	Severity int
	Summary  string
	Detail   string
	Address  string     // resource instance address, when known
	Path     cty.Path   // attribute path from the provider
	Subject  *hcl.Range // configuration range
	Body     hcl.Body   // resource body, to resolve Path to a range
}

type Diags []*Diag

func (d Diags) HasErrors() bool {
	for _, x := range d {
		if x.Severity == sevError {
			return true
		}
	}
	return false
}

func errorDiag(summary, detail string) *Diag {
	return &Diag{Severity: sevError, Summary: summary, Detail: detail}
}

// rpcErrorDiag mirrors Terraform's internal/plugin6/grpc_error.go grpcErr:
// a failed call (as opposed to an error diagnostic) becomes a generic
// plugin error naming the client method, as runtime.Caller gives it
// ("plugin6.(*GRPCProvider).ReadResource").
func rpcErrorDiag(method string, err error) *Diag {
	st, _ := status.FromError(err)
	name := "plugin6.(*GRPCProvider)." + method
	switch st.Code() {
	case codes.Unavailable:
		return errorDiag("Plugin did not respond",
			fmt.Sprintf("The plugin encountered an error, and failed to respond to the %s call. The plugin logs may contain more details.", name))
	case codes.Canceled:
		return errorDiag("Request cancelled", fmt.Sprintf("The %s request was cancelled.", name))
	case codes.Unimplemented:
		return errorDiag("Unsupported plugin method",
			fmt.Sprintf("The %s method is not supported by this plugin.", name))
	}
	return errorDiag("Plugin error",
		fmt.Sprintf("The plugin returned an unexpected error from %s: %v", name, err))
}

func convertPath(p *tfplugin6.AttributePath) cty.Path {
	if p == nil {
		return nil
	}
	var out cty.Path
	for _, s := range p.Steps {
		switch sel := s.Selector.(type) {
		case *tfplugin6.AttributePath_Step_AttributeName:
			out = out.GetAttr(sel.AttributeName)
		case *tfplugin6.AttributePath_Step_ElementKeyString:
			out = out.Index(cty.StringVal(sel.ElementKeyString))
		case *tfplugin6.AttributePath_Step_ElementKeyInt:
			out = out.Index(cty.NumberIntVal(sel.ElementKeyInt))
		}
	}
	return out
}

// convertDiags takes the provider's diagnostics for one resource instance.
func convertDiags(ds []*tfplugin6.Diagnostic, addr string, body hcl.Body) Diags {
	var out Diags
	for _, d := range ds {
		sev := sevError
		switch d.Severity {
		case tfplugin6.Diagnostic_WARNING:
			sev = sevWarning
		case tfplugin6.Diagnostic_ERROR:
		default:
			// Terraform treats an unset severity as an error too, after
			// complaining; we keep it an error and say so.
			d = &tfplugin6.Diagnostic{Summary: d.Summary, Attribute: d.Attribute,
				Detail: d.Detail + "\n\n(The provider sent this diagnostic with an invalid severity.)"}
		}
		out = append(out, &Diag{Severity: sev, Summary: d.Summary, Detail: d.Detail,
			Address: addr, Path: convertPath(d.Attribute), Body: body})
	}
	return out
}

func hclDiags(hd hcl.Diagnostics, addr string) Diags {
	var out Diags
	for _, d := range hd {
		sev := sevError
		if d.Severity == hcl.DiagWarning {
			sev = sevWarning
		}
		out = append(out, &Diag{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: d.Subject, Address: addr})
	}
	return out
}

// pathString renders a cty.Path as Terraform does in messages: .a["k"][0].
func pathString(p cty.Path) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			switch s.Key.Type() {
			case cty.String:
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			case cty.Number:
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			default:
				b.WriteString("[...]")
			}
		}
	}
	return b.String()
}

// resolveSubject finds the configuration range a provider diagnostic
// points at: the argument its attribute path names, else the block itself
// (tfdiags/contextual.go: a diagnostic without a path, or whose path names
// nothing written, covers the body's MissingItemRange, the block's opening
// line).
func (d *Diag) resolveSubject() *hcl.Range {
	if d.Subject != nil || d.Body == nil {
		return d.Subject
	}
	sb, ok := d.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	if len(d.Path) > 0 {
		if first, ok := d.Path[0].(cty.GetAttrStep); ok {
			if a, ok := sb.Attributes[first.Name]; ok {
				r := a.SrcRange
				return &r
			}
			for _, blk := range sb.Blocks {
				if blk.Type == first.Name {
					r := blk.DefRange()
					return &r
				}
			}
		}
	}
	r := sb.MissingItemRange()
	return &r
}

// contextString names the block a position is in, as Terraform's snippet
// context does ("resource \"cellrouter_tenant\" \"a\""; hclsyntax's
// navigation ContextString).
func contextString(files map[string]*hcl.File, sources map[string][]byte, r *hcl.Range) string {
	f, ok := files[r.Filename]
	if !ok {
		if src, have := sources[r.Filename]; have {
			f, _ = hclsyntax.ParseConfig(src, r.Filename, hcl.InitialPos)
		}
		files[r.Filename] = f
	}
	if f == nil {
		return ""
	}
	if nav, ok := f.Nav.(interface{ ContextString(int) string }); ok {
		return nav.ContextString(r.Start.Byte)
	}
	return ""
}

// printDiags writes diagnostics in Terraform's boxed form.
func printDiags(w io.Writer, diags Diags, sources map[string][]byte) {
	files := map[string]*hcl.File{}
	// Terraform's views sort what they print (internal/command/views/
	// view.go Diagnostics, tfdiags sortDiagnostics): warnings first, then
	// diagnostics without a source range, then by file and position.
	diags = append(Diags(nil), diags...)
	subj := make(map[*Diag]*hcl.Range, len(diags))
	for _, d := range diags {
		subj[d] = d.resolveSubject()
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i], diags[j]
		si, sj := subj[a], subj[b]
		switch {
		case a.Severity != b.Severity:
			return a.Severity == sevWarning
		case (si == nil) != (sj == nil):
			return si == nil
		case si != nil && *si != *sj:
			if si.Filename != sj.Filename {
				ci, cj := strings.Count(si.Filename, "/"), strings.Count(sj.Filename, "/")
				if ci != cj {
					return ci < cj
				}
				return si.Filename < sj.Filename
			}
			if si.Start.Byte != sj.Start.Byte {
				return si.Start.Byte < sj.Start.Byte
			}
			return si.End.Byte < sj.End.Byte
		}
		return false
	})
	for _, d := range diags {
		label := "Error"
		if d.Severity == sevWarning {
			label = "Warning"
		}
		var lines []string
		lines = append(lines, fmt.Sprintf("%s: %s", label, d.Summary), "")
		subj := d.resolveSubject()
		if d.Address != "" {
			lines = append(lines, fmt.Sprintf("  with %s,", d.Address))
		}
		if subj != nil {
			// internal/command/format/diagnostic.go appendSourceSnippets.
			in := ""
			if c := contextString(files, sources, subj); c != "" {
				in = ", in " + c
			}
			lines = append(lines, fmt.Sprintf("  on %s line %d%s:", subj.Filename, subj.Start.Line, in))
			if src, ok := sources[subj.Filename]; ok {
				srcLines := strings.Split(string(src), "\n")
				if subj.Start.Line-1 < len(srcLines) && subj.Start.Line >= 1 {
					lines = append(lines, fmt.Sprintf("%4d: %s", subj.Start.Line, srcLines[subj.Start.Line-1]))
				}
			}
		}
		if len(d.Path) > 0 {
			lines = append(lines, fmt.Sprintf("  attribute path: %s", strings.TrimPrefix(pathString(d.Path), ".")))
		}
		if d.Address != "" || subj != nil || len(d.Path) > 0 {
			lines = append(lines, "")
		}
		if d.Detail != "" {
			lines = append(lines, strings.Split(d.Detail, "\n")...)
		}
		fmt.Fprintln(w, "╷")
		for _, l := range lines {
			if l == "" {
				fmt.Fprintln(w, "│")
			} else {
				fmt.Fprintln(w, "│ "+l)
			}
		}
		fmt.Fprintln(w, "╵")
	}
}
