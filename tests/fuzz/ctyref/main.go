// tests/fuzz/ctyref — the reference side of the differential codec test.
//
// Reads lines "m|j <TAB> type JSON <TAB> hex input" and, for each, decodes
// the input with go-cty (msgpack or JSON) against the type and answers
// "OK <hex of go-cty's msgpack encoding> [<hex of its JSON encoding>]" or
// "ERR <message>", one line per request. tests/fuzz/diff.sh pairs it with tests/fuzz/ctydiff.c.
//
// "ctyref gen N SEED" instead prints N requests holding random well-formed
// values (gen.go), which both sides must accept.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"github.com/zclconf/go-cty/cty/msgpack"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "gen" {
		var n int
		var seed int64
		fmt.Sscan(os.Args[2], &n)
		fmt.Sscan(os.Args[3], &seed)
		generate(n, seed)
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		answer(sc.Text())
	}
}

// answer handles one request; go-cty panics on some hostile input (a NaN
// float, for one), which is reported as a PANIC answer.
func answer(line string) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Println("ERR PANIC", r)
		}
	}()
	{
		parts := strings.SplitN(line, "\t", 3)
		var ty cty.Type
		if err := ty.UnmarshalJSON([]byte(parts[1])); err != nil {
			fmt.Println("TYPEERR", err)
			return
		}
		raw, _ := hex.DecodeString(parts[2])
		var v cty.Value
		var err error
		if parts[0] == "m" {
			v, err = msgpack.Unmarshal(raw, ty)
		} else {
			v, err = ctyjson.Unmarshal(raw, ty)
		}
		if err != nil {
			fmt.Println("ERR", strings.ReplaceAll(err.Error(), "\n", " "))
			return
		}
		out, err := msgpack.Marshal(v, ty)
		if err != nil {
			fmt.Println("ERR marshal", err)
			return
		}
		// Wholly known values also get their JSON encoding, as a third
		// field, for the JSON encoder's byte comparison.
		if v.IsWhollyKnown() {
			if js, err := ctyjson.Marshal(v, ty); err == nil {
				fmt.Println("OK", hex.EncodeToString(out), hex.EncodeToString(js))
				return
			}
		}
		fmt.Println("OK", hex.EncodeToString(out))
	}
}
