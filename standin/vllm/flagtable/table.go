// Package flagtable reads the per-release flag tables of `vllm serve`
// (components/vllm/flags/v<version>.json) that the stand-in parses against.
// Unknown fields are ignored, so the table format can grow.
package flagtable

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Table is one vLLM release's `vllm serve` command line.
type Table struct {
	VLLM       string       `json:"vllm"`
	Released   string       `json:"released"`
	Source     Source       `json:"source"`
	Parser     Parser       `json:"parser"`
	Positional []Positional `json:"positional"`
	Options    []Option     `json:"options"`
	Removed    []Removed    `json:"removed"`
}

type Source struct {
	Repo   string   `json:"repo"`
	Commit string   `json:"commit"`
	Files  []string `json:"files"`
}

// Parser describes what vLLM's FlexibleArgumentParser does on top of argparse.
// The pointer fields are optional overrides; nil means "as that release does".
type Parser struct {
	AllowAbbrev      *bool  `json:"allowAbbrev"`
	UnderscoreToDash *bool  `json:"underscoreToDash"`
	DottedJSONKeys   *bool  `json:"dottedJsonKeys"`
	Notes            string `json:"notes"`
	// Optional extras (not produced by every extractor):
	Subcommands    []string `json:"subcommands"`    // top-level `vllm` subcommands, for its usage line
	ModelOption    string   `json:"modelOption"`    // "reject" (<=0.11) or "move" (newer): how `--model` is handled
	ChoicesQuoted  *bool    `json:"choicesQuoted"`  // Python <3.12.8 quoted choices in "invalid choice" errors
	DefaultModel   string   `json:"defaultModel"`   // model used when none is given
	DottedHumanInt *bool    `json:"dottedHumanInt"` // dotted values fall back to human_readable_int
}

type Positional struct {
	Name  string `json:"name"`
	Nargs any    `json:"nargs"`
}

// Option is one add_argument call. Names holds every option string
// (for boolean_optional both --x and --no-x).
type Option struct {
	Names   []string `json:"names"`
	Dest    string   `json:"dest"`
	Action  string   `json:"action"`
	Type    string   `json:"type"`
	Nargs   any      `json:"nargs"`
	Choices []any    `json:"choices"`
	Default any      `json:"default"`
	Source  string   `json:"source"`
	// Nullable marks Optional[...] fields, whose type errors vLLM reports
	// through its optional_type wrapper ("Value x cannot be converted to ...").
	Nullable bool `json:"nullable"`
}

type Removed struct {
	Flag        string `json:"flag"`
	RemovedIn   string `json:"removedIn"`
	Replacement any    `json:"replacement"`
	Evidence    string `json:"evidence"`
}

// Load reads and checks a table file.
func Load(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes and checks a table.
func Parse(b []byte) (*Table, error) {
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("flag table: %w", err)
	}
	if t.VLLM == "" {
		return nil, fmt.Errorf("flag table: missing \"vllm\" version")
	}
	if len(t.Options) == 0 {
		return nil, fmt.Errorf("flag table: no options")
	}
	for i, o := range t.Options {
		if len(o.Names) == 0 {
			return nil, fmt.Errorf("flag table: option %d has no names", i)
		}
		for _, n := range o.Names {
			if !strings.HasPrefix(n, "-") {
				return nil, fmt.Errorf("flag table: option name %q does not start with -", n)
			}
		}
		if o.Action == "" {
			t.Options[i].Action = "store"
		}
	}
	return &t, nil
}

// DestOf is argparse's dest: the first long option string without its
// dashes, '-' turned into '_' (or the first short one when there is no long one).
func (o *Option) DestOf() string {
	if o.Dest != "" {
		return o.Dest
	}
	name := o.Names[0]
	for _, n := range o.Names {
		if strings.HasPrefix(n, "--") {
			name = n
			break
		}
	}
	return strings.ReplaceAll(strings.TrimLeft(name, "-"), "-", "_")
}

// NargsSpec returns the option's nargs in argparse terms: "" (None), "?", "*",
// "+", or a decimal count. Actions without arguments give "0".
func (o *Option) NargsSpec() string {
	switch o.Action {
	case "store_true", "store_false", "boolean_optional", "help", "version", "store_const", "count", "append_const":
		return "0"
	}
	return nargsString(o.Nargs)
}

func nargsString(v any) string {
	switch n := v.(type) {
	case nil:
		return ""
	case string:
		return n
	case float64:
		return strconv.Itoa(int(n))
	case json.Number:
		return n.String()
	}
	return fmt.Sprint(v)
}

// PositionalNargs is the nargs of a positional argument.
func (p *Positional) NargsSpec() string { return nargsString(p.Nargs) }

// ChoiceStrings renders choices the way Python's str() shows them.
func (o *Option) ChoiceStrings() []string {
	if o.Choices == nil {
		return nil
	}
	out := make([]string, 0, len(o.Choices))
	for _, c := range o.Choices {
		out = append(out, PyStr(c))
	}
	return out
}

// PyStr is Python's str() of a JSON value.
func PyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Version compares two dotted release numbers ("0.11.0" < "0.20.0").
// Non-numeric parts compare as 0.
func VersionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(leadingDigits(pa[i]))
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(leadingDigits(pb[i]))
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func leadingDigits(s string) string {
	for i, r := range s {
		if r < '0' || r > '9' {
			return s[:i]
		}
	}
	return s
}
