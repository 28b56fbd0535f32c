package main

// gen.go — random well-formed cty values for the differential test: the
// requests it prints are what Terraform itself would send, so every one
// must be accepted by both sides and re-encoded to the same bytes.

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"github.com/zclconf/go-cty/cty/msgpack"
)

func genType(r *rand.Rand, depth int, allowDyn bool) cty.Type {
	n := 4
	if depth < 3 {
		n = 9
	}
	switch k := r.Intn(n); {
	case k == 0:
		return cty.String
	case k == 1:
		return cty.Number
	case k == 2:
		return cty.Bool
	case k == 3:
		if allowDyn {
			return cty.DynamicPseudoType
		}
		return cty.String
	case k == 4:
		return cty.List(genType(r, depth+1, allowDyn))
	case k == 5:
		return cty.Set(genType(r, depth+1, false))
	case k == 6:
		return cty.Map(genType(r, depth+1, allowDyn))
	case k == 7:
		attrs := map[string]cty.Type{}
		for i := r.Intn(4); i > 0; i-- {
			attrs[genKey(r, 6)] = genType(r, depth+1, allowDyn)
		}
		return cty.Object(attrs)
	default:
		// Never a nil slice: an empty tuple type would then marshal as
		// ["tuple",null] where TupleVal's own type says ["tuple",[]], and
		// which of the two a map of them shows depends on Go's map order.
		elems := []cty.Type{}
		for i := r.Intn(3); i > 0; i-- {
			elems = append(elems, genType(r, depth+1, allowDyn))
		}
		return cty.Tuple(elems)
	}
}

var alphabet = []rune("abcXYZ019 _-./\"\\\n\t\u00e9\u4e16\U0001F600\u0000<>&\u2028\u007f\u0001")

func genString(r *rand.Rand, max int) string {
	var b strings.Builder
	for i := r.Intn(max + 1); i > 0; i-- {
		b.WriteRune(alphabet[r.Intn(len(alphabet))])
	}
	return b.String()
}

// genKey is genString without NUL: our maps and objects keep keys as C
// strings and refuse a NUL in a key (a documented limitation).
func genKey(r *rand.Rand, max int) string {
	return strings.ReplaceAll(genString(r, max), "\u0000", "")
}

func genNumber(r *rand.Rand) cty.Value {
	switch r.Intn(8) {
	case 0:
		return cty.NumberIntVal(r.Int63n(300) - 150)
	case 1:
		return cty.NumberIntVal(r.Int63() - r.Int63())
	case 2:
		return cty.NumberUIntVal(r.Uint64())
	case 3:
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 0.5
		}
		return cty.NumberFloatVal(f)
	case 4:
		return cty.NumberFloatVal(float64(r.Intn(1000)) / 8)
	case 5:
		s := fmt.Sprintf("%d.%d", r.Intn(1000), r.Intn(1000))
		return cty.MustParseNumberVal(s)
	case 6:
		s := fmt.Sprintf("%de%d", r.Intn(100)+1, r.Intn(120)-60)
		return cty.MustParseNumberVal(s)
	default:
		f := new(big.Float).SetPrec(512)
		f.SetString("123456789012345678901234567890.000000000000000000001")
		return cty.NumberVal(f)
	}
}

// genValue returns a value conforming to ty; known forbids unknowns.
func genValue(r *rand.Rand, ty cty.Type, depth int, known bool) cty.Value {
	if ty == cty.DynamicPseudoType {
		ty = genType(r, depth+1, false)
	}
	switch p := r.Intn(10); {
	case p == 0:
		return cty.NullVal(ty)
	case p == 1 && !known:
		return cty.UnknownVal(ty)
	}
	switch {
	case ty == cty.String:
		return cty.StringVal(genString(r, 12))
	case ty == cty.Number:
		return genNumber(r)
	case ty == cty.Bool:
		return cty.BoolVal(r.Intn(2) == 0)
	case ty.IsListType(), ty.IsSetType():
		ety := ty.ElementType()
		if ety == cty.DynamicPseudoType {
			ety = genType(r, depth+1, false)
		}
		n := r.Intn(4)
		if n == 0 {
			if ty.IsListType() {
				return cty.ListValEmpty(ty.ElementType())
			}
			return cty.SetValEmpty(ty.ElementType())
		}
		var vals []cty.Value
		for i := 0; i < n; i++ {
			vals = append(vals, genValue(r, ety, depth+1, known))
		}
		if ty.IsListType() {
			return cty.ListVal(vals)
		}
		return cty.SetVal(vals)
	case ty.IsMapType():
		ety := ty.ElementType()
		if ety == cty.DynamicPseudoType {
			ety = genType(r, depth+1, false)
		}
		vals := map[string]cty.Value{}
		for i := r.Intn(4); i > 0; i-- {
			vals[genKey(r, 5)] = genValue(r, ety, depth+1, known)
		}
		if len(vals) == 0 {
			return cty.MapValEmpty(ty.ElementType())
		}
		return cty.MapVal(vals)
	case ty.IsObjectType():
		// Attributes in name order: ranging over the map would draw from r
		// in Go's random map order, and SEED would not pick one set.
		atys := ty.AttributeTypes()
		names := make([]string, 0, len(atys))
		for name := range atys {
			names = append(names, name)
		}
		sort.Strings(names)
		vals := map[string]cty.Value{}
		for _, name := range names {
			vals[name] = genValue(r, atys[name], depth+1, known)
		}
		return cty.ObjectVal(vals)
	case ty.IsTupleType():
		var vals []cty.Value
		for _, ety := range ty.TupleElementTypes() {
			vals = append(vals, genValue(r, ety, depth+1, known))
		}
		return cty.TupleVal(vals)
	}
	panic("unreachable")
}

// generate prints n requests: msgpack of random values (unknowns included)
// and JSON of wholly known ones, each against its own random type.
func generate(n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < n; {
		ty := genType(r, 0, true)
		tj, err := ty.MarshalJSON()
		if err != nil {
			continue
		}
		asJSON := i%3 == 2
		v := safeGen(r, ty, asJSON)
		if v == cty.NilVal {
			continue
		}
		var raw []byte
		mode := "m"
		if asJSON {
			mode = "j"
			raw, err = ctyjson.Marshal(v, ty)
		} else {
			raw, err = msgpack.Marshal(v, ty)
		}
		if err != nil {
			continue
		}
		fmt.Printf("%s\t%s\t%s\n", mode, tj, hex.EncodeToString(raw))
		i++
	}
}

// safeGen returns cty.NilVal when cty refuses the random combination (for
// instance a list whose elements ended up with different types).
func safeGen(r *rand.Rand, ty cty.Type, known bool) (v cty.Value) {
	defer func() {
		if recover() != nil {
			v = cty.NilVal
		}
	}()
	return genValue(r, ty, 0, known)
}
