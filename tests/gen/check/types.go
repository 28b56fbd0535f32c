// types.go — the value side of check (c): a literal written for an argument
// must be convertible to the argument's type the way Terraform converts it
// (a string "10" is a fine number, "ten" is not; an object is never a
// string). Only literals are judged: what an expression evaluates to is
// known at plan time, not here.
package main

import (
	"strconv"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// literalKind names the shape of a literal expression, and for strings
// returns the string; "" means not a literal (a reference, a call, ...).
func literalKind(e hclsyntax.Expression) (kind, str string) {
	switch x := e.(type) {
	case *hclsyntax.ObjectConsExpr:
		return "object", ""
	case *hclsyntax.TupleConsExpr:
		return "list", ""
	case *hclsyntax.LiteralValueExpr:
		if x.Val.IsNull() {
			return "null", ""
		}
		switch x.Val.Type().FriendlyName() {
		case "number":
			return "number", ""
		case "bool":
			return "bool", ""
		case "string":
			return "string", x.Val.AsString()
		}
	case *hclsyntax.TemplateExpr:
		if x.IsStringLiteral() {
			v, diags := x.Value(nil)
			if !diags.HasErrors() && v.IsKnown() && !v.IsNull() {
				return "string", v.AsString()
			}
		}
		return "template", "" // a string, content known later
	case *hclsyntax.TemplateWrapExpr:
		return "", ""
	}
	return "", ""
}

// typeMismatch returns why literal e cannot be a value of schema type want,
// or "" when it can (or cannot be told).
func typeMismatch(e hclsyntax.Expression, want string) string {
	kind, str := literalKind(e)
	if kind == "" || kind == "null" {
		return ""
	}
	switch want {
	case "string":
		if kind == "object" || kind == "list" {
			return "a string, not " + article(kind)
		}
	case "number":
		switch kind {
		case "object", "list", "bool":
			return "a number, not " + article(kind)
		case "string":
			if _, err := strconv.ParseFloat(str, 64); err != nil {
				return "a number, not the string " + strconv.Quote(str)
			}
		}
	case "bool":
		switch kind {
		case "object", "list", "number":
			return "a bool, not " + article(kind)
		case "string":
			if str != "true" && str != "false" {
				return "a bool, not the string " + strconv.Quote(str)
			}
		}
	case "list":
		if kind != "list" {
			return "a list, not " + article(kind)
		}
	case "map":
		if kind != "object" {
			return "a map, not " + article(kind)
		}
	case "object":
		if kind != "object" {
			return "an object, not " + article(kind)
		}
	}
	return ""
}

func article(kind string) string {
	switch kind {
	case "object":
		return "an object"
	case "template":
		return "a string"
	}
	return "a " + kind
}
