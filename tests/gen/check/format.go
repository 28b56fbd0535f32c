// format.go — check (b): every file is already in canonical layout, i.e.
// unchanged by hclwrite.Format, the formatter `terraform fmt` is built on.
// A difference is reported at its first changed line, followed by the
// changed lines in the -/+ style of a unified diff, so the fix is obvious.
package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// maxDiffLines caps the -/+ lines printed per file; the first lines are
// enough to show what the formatter wants.
const maxDiffLines = 16

func checkFormat(r *report, m *module) {
	for _, f := range m.live() {
		want := hclwrite.Format(f.src)
		if bytes.Equal(want, f.src) {
			continue
		}
		got := strings.Split(string(f.src), "\n")
		exp := strings.Split(string(want), "\n")
		ops := lineDiff(got, exp)
		first := 0
		var b strings.Builder
		b.WriteString("not in canonical format (terraform fmt / hclwrite.Format would change it):")
		n := 0
		for _, op := range ops {
			if op.kind == ' ' {
				continue
			}
			if first == 0 {
				first = op.line
			}
			if n++; n > maxDiffLines {
				b.WriteString("\n  ...")
				break
			}
			fmt.Fprintf(&b, "\n  %c%s", op.kind, op.text)
		}
		if first == 0 {
			// Only trailing whitespace or newlines differ.
			first = len(got)
			b.WriteString("\n  (line endings or trailing newlines differ)")
		}
		r.at(hcl.Range{Filename: f.path, Start: hcl.Pos{Line: first, Column: 1}}, "%s", b.String())
	}
}

// diffOp is one line of a line diff: ' ' kept, '-' removed, '+' added;
// line is the 1-based line in the original for kept and removed lines, and
// the original line the addition comes before for added lines.
type diffOp struct {
	kind byte
	line int
	text string
}

// lineDiff is a longest-common-subsequence line diff. Generated files are a
// few hundred lines, so the quadratic table is small; beyond maxLCS lines
// the whole files are shown as replaced.
func lineDiff(a, b []string) []diffOp {
	const maxLCS = 4000
	var ops []diffOp
	if len(a) > maxLCS || len(b) > maxLCS {
		for i, l := range a {
			ops = append(ops, diffOp{'-', i + 1, l})
		}
		for _, l := range b {
			ops = append(ops, diffOp{'+', 1, l})
		}
		return ops
	}
	// lcs[i][j]: length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else if lcs[i+1][j] >= lcs[i][j+1] {
				lcs[i][j] = lcs[i+1][j]
			} else {
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, diffOp{' ', i + 1, a[i]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, diffOp{'+', i + 1, b[j]})
			j++
		default:
			ops = append(ops, diffOp{'-', i + 1, a[i]})
			i++
		}
	}
	return ops
}
