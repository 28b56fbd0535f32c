// tests/gen/hcleval — evaluates the computed expressions of the generated
// modules with HashiCorp's HCL and go-cty (the libraries Terraform uses) and
// checks their results: Service Bus durations in compact ISO 8601, the
// Functions host timeout, and the S3 bucket/key split of package_uri. It
// also checks that each module's README documents the interface the module
// declares: the Inputs and Outputs tables list every variable and output,
// in order, with its description, type and default (the README and
// variables.tf are separate templates, so nothing else keeps them in step).
//
//	go run ./tests/gen/hcleval MODULES_DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

var functions = map[string]function.Function{
	"floor":  stdlib.FloorFunc,
	"format": stdlib.FormatFunc,
	"regex":  stdlib.RegexFunc,
}

var failures int

// local returns the expression assigned to `name` in the file's locals
// block, where the expression is a `{ for name, X in ... : name => EXPR }`
// when forBody is true (then EXPR is returned).
func local(file string, body *hclsyntax.Body, name string) hclsyntax.Expression {
	for _, b := range body.Blocks {
		if b.Type != "locals" {
			continue
		}
		if a, ok := b.Body.Attributes[name]; ok {
			return a.Expr
		}
	}
	fmt.Printf("FAIL %s: no local %q\n", file, name)
	os.Exit(1)
	return nil
}

func forValue(e hclsyntax.Expression) hclsyntax.Expression {
	f, ok := e.(*hclsyntax.ForExpr)
	if !ok {
		fmt.Printf("FAIL: expected a for expression\n")
		os.Exit(1)
	}
	return f.ValExpr
}

func eval(e hclsyntax.Expression, vars map[string]cty.Value) cty.Value {
	v, d := e.Value(&hcl.EvalContext{Variables: vars, Functions: functions})
	if d.HasErrors() {
		fmt.Printf("FAIL: %s\n", d.Error())
		os.Exit(1)
	}
	return v
}

func check(what string, got cty.Value, want string) {
	if !got.Type().Equals(cty.String) || got.AsString() != want {
		fmt.Printf("FAIL %s: got %#v, want %q\n", what, got, want)
		failures++
	}
}

func parse(path string) *hclsyntax.Body {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	f, d := hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1})
	if d.HasErrors() {
		fmt.Println("FAIL", d.Error())
		os.Exit(1)
	}
	return f.Body.(*hclsyntax.Body)
}

func main() {
	dir := os.Args[1]
	az := filepath.Join(dir, "azure_event_cell", "main.tf")
	body := parse(az)
	lockParts := forValue(local(az, body, "lock_parts"))
	lockISO := forValue(local(az, body, "lock_durations"))
	ttlParts := forValue(local(az, body, "ttl_parts"))
	ttlISO := forValue(local(az, body, "message_ttls"))
	cases := map[int64]string{
		1: "PT1S", 59: "PT59S", 60: "PT1M", 61: "PT1M1S", 300: "PT5M", 3600: "PT1H",
		3661: "PT1H1M1S", 86400: "P1D", 345600: "P4D", 1209600: "P14D", 90061: "P1DT1H1M1S",
	}
	for n, want := range cases {
		c := cty.ObjectVal(map[string]cty.Value{
			"timeout_seconds": cty.NumberIntVal(n), "retention_seconds": cty.NumberIntVal(n),
		})
		p := eval(lockParts, map[string]cty.Value{"c": c})
		check(fmt.Sprintf("lock_durations(%d)", n), eval(lockISO, map[string]cty.Value{"p": p}), want)
		p = eval(ttlParts, map[string]cty.Value{"c": c})
		check(fmt.Sprintf("message_ttls(%d)", n), eval(ttlISO, map[string]cty.Value{"p": p}), want)
	}

	// The Functions host timeout, hh:mm:ss from the largest consumer timeout.
	var timeout hclsyntax.Expression
	for _, b := range body.Blocks {
		if b.Type == "resource" && b.Labels[0] == "azurerm_linux_function_app" {
			call := b.Body.Attributes["app_settings"].Expr.(*hclsyntax.FunctionCallExpr)
			for _, item := range call.Args[1].(*hclsyntax.ObjectConsExpr).Items {
				k := eval(item.KeyExpr, nil)
				if k.AsString() == "AzureFunctionsJobHost__functionTimeout" {
					timeout = item.ValueExpr
				}
			}
		}
	}
	if timeout == nil {
		fmt.Println("FAIL: no AzureFunctionsJobHost__functionTimeout app setting")
		os.Exit(1)
	}
	for n, want := range map[int64]string{1: "00:00:01", 61: "00:01:01", 300: "00:05:00"} {
		local := cty.ObjectVal(map[string]cty.Value{"max_timeout": cty.NumberIntVal(n)})
		check(fmt.Sprintf("functionTimeout(%d)", n), eval(timeout, map[string]cty.Value{"local": local}), want)
	}

	// AWS: package_uri split into bucket and key.
	aws := filepath.Join(dir, "aws_event_cell", "main.tf")
	awsBody := parse(aws)
	uri := cty.ObjectVal(map[string]cty.Value{"package_uri": cty.StringVal("s3://my-bucket/releases/v1/app.zip")})
	check("package_bucket", eval(local(aws, awsBody, "package_bucket"), map[string]cty.Value{"var": uri}), "my-bucket")
	check("package_key", eval(local(aws, awsBody, "package_key"), map[string]cty.Value{"var": uri}), "releases/v1/app.zip")
	rt := func(lang, ver string) map[string]cty.Value {
		return map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"runtime": cty.ObjectVal(map[string]cty.Value{
			"language": cty.StringVal(lang), "version": cty.StringVal(ver)})})}
	}
	check("lambda_runtime(python)", eval(local(aws, awsBody, "lambda_runtime"), rt("python", "3.12")), "python3.12")
	check("lambda_runtime(node)", eval(local(aws, awsBody, "lambda_runtime"), rt("node", "20")), "nodejs20.x")

	for _, m := range []string{"aws_event_cell", "azure_event_cell"} {
		readmeMatches(filepath.Join(dir, m))
	}

	if failures > 0 {
		fmt.Printf("hcleval: %d failed\n", failures)
		os.Exit(1)
	}
	fmt.Println("hcleval: module expressions evaluate as intended; the READMEs document the interface")
}

// A README table row: | <a name="input_x"></a> [x](#input_x) | cells... |
var rowRe = regexp.MustCompile("^\\| <a name=\"(input|output)_([a-z_]+)\"></a> \\[[a-z_]+\\]\\(#[a-z_]+\\) \\| (.*) \\|$")

// mdCell is how a README table cell shows text: '|' escaped, newlines as spaces.
func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

// squash drops white space and commas, so a multi-line type (attributes on
// their own lines) compares with its one-line rendering in the README
// (attributes separated by commas).
func squash(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), ""), ",", "")
}

func readmeMatches(mod string) {
	src := map[string][]byte{}
	for _, f := range []string{"variables.tf", "outputs.tf", "README.md"} {
		b, err := os.ReadFile(filepath.Join(mod, f))
		if err != nil {
			fmt.Println("FAIL", err)
			os.Exit(1)
		}
		src[f] = b
	}
	var want []string
	for _, f := range []string{"variables.tf", "outputs.tf"} {
		path := filepath.Join(mod, f)
		for _, b := range parse(path).Blocks {
			desc := eval(b.Body.Attributes["description"].Expr, nil).AsString()
			if b.Type == "output" {
				want = append(want, "output "+b.Labels[0]+" | "+mdCell(desc))
				continue
			}
			r := b.Body.Attributes["type"].Expr.Range()
			typ := "`" + squash(string(src[f][r.Start.Byte:r.End.Byte])) + "`"
			def, req := "n/a", "yes"
			if a, ok := b.Body.Attributes["default"]; ok {
				r := a.Expr.Range()
				def, req = "`"+string(src[f][r.Start.Byte:r.End.Byte])+"`", "no"
			}
			want = append(want, "input "+b.Labels[0]+" | "+mdCell(desc)+" | "+typ+" | "+def+" | "+req)
		}
	}
	var got []string
	for _, line := range strings.Split(string(src["README.md"]), "\n") {
		m := rowRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cells := m[3]
		if m[1] == "input" {
			// The type cell is compared squashed, like the source.
			parts := strings.Split(cells, " | ")
			if len(parts) == 4 {
				parts[1] = "`" + squash(strings.Trim(parts[1], "`")) + "`"
			}
			cells = strings.Join(parts, " | ")
		}
		got = append(got, m[1]+" "+m[2]+" | "+cells)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		fmt.Printf("FAIL %s/README.md: the Inputs/Outputs tables do not match variables.tf/outputs.tf\n", mod)
		for i := 0; i < len(got) || i < len(want); i++ {
			g, w := "", ""
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				fmt.Printf("  README: %s\n  module: %s\n", g, w)
			}
		}
		failures++
	}
}
