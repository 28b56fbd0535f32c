// providers_test.go — version constraint evaluation, the one piece of
// gencheck whose cases are easier to state as a table than as .tf fixtures.
package main

import "testing"

func TestAdmits(t *testing.T) {
	cases := []struct {
		constraint, version string
		want                bool
	}{
		{"~> 5.0", "5.99.1", true},
		{"~> 5.0", "6.0.0", false},
		{"~> 5.0", "4.67.0", false},
		{"~> 3.0", "3.116.0", true},
		{"~> 3.116.0", "3.116.5", true},
		{"~> 3.116.0", "3.117.0", false},
		{"~> 5", "5.99.1", true},
		{"~> 5", "6.0.0", false},
		{">= 5.0, < 5.99.1", "5.99.1", false},
		{">= 5.0, <= 5.99.1", "5.99.1", true},
		{"5.99.1", "5.99.1", true},
		{"= 5.99.0", "5.99.1", false},
		{"!= 5.99.1", "5.99.1", false},
		{"> 5.99.0", "5.99.1", true},
	}
	for _, c := range cases {
		got, err := admits(c.constraint, c.version)
		if err != nil || got != c.want {
			t.Errorf("admits(%q, %q) = %v, %v; want %v", c.constraint, c.version, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "~>", ">= five", "1.2.3.4", ">= 1,"} {
		if _, err := admits(bad, "5.99.1"); err == nil {
			t.Errorf("admits(%q) accepted a malformed constraint", bad)
		}
	}
}
