// show.go — what the state holds, as people read it: root outputs after
// apply and refresh, and `tfcore show` (the state in Terraform's `show`
// form, with the schema from the provider).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// stateValues decodes every instance in state into the values references
// see: the object, or with for_each an object of instances by key.
func stateValues(st *State, cfg *Config, ps *ProviderSchema) (map[string]cty.Value, error) {
	forEach := map[string]bool{}
	for _, rc := range cfg.Resources {
		forEach[rc.Addr()] = rc.ForEach != nil
	}
	single := map[string]cty.Value{}
	keyed := map[string]map[string]cty.Value{}
	for _, addr := range sortedKeys(st.Instances) {
		si := st.Instances[addr]
		rs, ok := ps.Resources[si.Type]
		if !ok {
			continue
		}
		v, err := ctyjson.Unmarshal(si.Attrs, impliedType(rs.Block))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", addr, err)
		}
		block := si.Type + "." + si.Name
		if si.Key == nil {
			single[block] = v
			continue
		}
		if keyed[block] == nil {
			keyed[block] = map[string]cty.Value{}
		}
		keyed[block][*si.Key] = v
	}
	out := map[string]cty.Value{}
	for b, v := range st.Data {
		out[b] = v
	}
	for b, v := range single {
		out[b] = v
	}
	for b, m := range keyed {
		out[b] = cty.ObjectVal(m)
	}
	for b, fe := range forEach {
		if _, ok := out[b]; !ok && fe {
			out[b] = cty.EmptyObjectVal
		}
	}
	return out, nil
}

// recordOutputs evaluates the outputs against the state, stores them in
// it and prints them as Terraform does after apply.
func recordOutputs(w io.Writer, st *State, cfg *Config, ps *ProviderSchema) Diags {
	if len(cfg.Outputs) == 0 {
		st.Outputs = map[string]*OutputState{}
		return nil
	}
	vals, err := stateValues(st, cfg, ps)
	if err != nil {
		return Diags{errorDiag("Invalid state", err.Error())}
	}
	outs, diags := cfg.outputs(vals)
	if diags.HasErrors() {
		return diags
	}
	st.Outputs = map[string]*OutputState{}
	sensitive := map[string]bool{}
	for _, o := range cfg.Outputs {
		sensitive[o.Name] = o.Sensitive
	}
	names := sortedKeys(outs)
	for _, n := range names {
		v := outs[n]
		if !v.IsWhollyKnown() {
			continue
		}
		raw, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return append(diags, errorDiag("Invalid output value", fmt.Sprintf("output %q: %v", n, err)))
		}
		ty, _ := ctyjson.MarshalType(v.Type())
		st.Outputs[n] = &OutputState{Value: raw, Type: ty, Sensitive: sensitive[n]}
	}
	printOutputs(w, st)
	return diags
}

func printOutputs(w io.Writer, st *State) {
	if len(st.Outputs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nOutputs:\n\n")
	names := make([]string, 0, len(st.Outputs))
	for n := range st.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := st.Outputs[n]
		if o.Sensitive {
			fmt.Fprintf(w, "%s = <sensitive>\n", n)
			continue
		}
		ty, err := ctyjson.UnmarshalType(o.Type)
		if err != nil {
			fmt.Fprintf(w, "%s = (invalid type in state)\n", n)
			continue
		}
		v, err := ctyjson.Unmarshal(o.Value, ty)
		if err != nil {
			fmt.Fprintf(w, "%s = (invalid value in state)\n", n)
			continue
		}
		fmt.Fprintf(w, "%s = %s\n", n, renderValue(v, 0))
	}
}

// cmdShow prints every instance in state and the outputs.
func cmdShow(ctx context.Context, o *options) int {
	st, err := readState(o.state)
	if err != nil {
		report(nil, Diags{errorDiag("Failed to load state", err.Error())})
		return 1
	}
	if len(st.Instances) == 0 {
		fmt.Println("The state file is empty. No resources are represented.")
		return 0
	}
	p, err := launchProvider(nil)
	if err != nil {
		report(nil, Diags{errorDiag("Failed to load plugin schemas", err.Error())})
		return 1
	}
	ps, diags := getSchema(ctx, p)
	p.Close()
	if report(nil, diags) {
		return 1
	}
	for _, addr := range sortedKeys(st.Instances) {
		si := st.Instances[addr]
		rs, ok := ps.Resources[si.Type]
		if !ok {
			fmt.Printf("# %s: (no schema for %s)\n\n", addr, si.Type)
			continue
		}
		v, err := ctyjson.Unmarshal(si.Attrs, impliedType(rs.Block))
		if err != nil {
			report(nil, Diags{errorDiag("Invalid state", fmt.Sprintf("%s: %v", addr, err))})
			return 1
		}
		fmt.Printf("# %s:\nresource %q %q {\n", addr, si.Type, si.Name)
		names := sortedKeys(rs.Block.Attributes)
		width := 0
		for _, n := range names {
			if !v.GetAttr(n).IsNull() && len(n) > width {
				width = len(n)
			}
		}
		for _, n := range names {
			av := v.GetAttr(n)
			if av.IsNull() {
				continue
			}
			text := renderValue(av, 4)
			if rs.Block.Attributes[n].Sensitive {
				text = "(sensitive value)"
			}
			fmt.Printf("    %-*s = %s\n", width, n, text)
		}
		fmt.Printf("}\n\n")
	}
	printOutputs(os.Stdout, st)
	return 0
}
