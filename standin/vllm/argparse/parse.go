// Package argparse parses a `vllm serve` command line against a flag table
// the way vLLM does: its FlexibleArgumentParser pre-processing (underscores,
// dotted JSON keys, -O, --model), then Python's argparse (abbreviations,
// nargs, types, choices) with a `serve` sub-parser under a `vllm` parser.
//
// Errors carry the exact text argparse writes to stderr and its exit status.
package argparse

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"myia.local/standin/vllm/flagtable"
)

// ServeUsage is the usage vLLM gives its serve sub-parser.
const ServeUsage = "usage: vllm serve [model_tag] [options]"

// Error is what argparse (or vLLM before it) would print, and the exit status.
type Error struct {
	Usage     string // "usage: ..." line; empty for a traceback
	Prog      string // "vllm serve" or "vllm"
	Message   string
	Traceback string // a Python traceback instead of a usage error (exit 1)
	Code      int
}

func (e *Error) Error() string { return e.Message }

// Stderr is the full text for stderr.
func (e *Error) Stderr() string {
	if e.Traceback != "" {
		return e.Traceback
	}
	return fmt.Sprintf("%s\n%s: error: %s\n", e.Usage, e.Prog, e.Message)
}

// Result is the parsed namespace.
type Result struct {
	Values   map[string]any // dest -> value, only for arguments given
	Order    []string       // dests in the order they were first given
	ModelTag string         // the positional model_tag ("" when absent)
	Model    string         // the model vLLM serves: model_tag, else --model, else the default
	Help     bool           // -h/--help was given (argparse prints help and exits 0)
	Version  bool           // -v/--version at top level
	Warnings []string       // things vLLM logs as warnings while parsing
}

// Parser is a `vllm` parser for one table.
type Parser struct {
	T *flagtable.Table

	// argparse state built from the table
	opts      []*action          // in add_argument order (help first)
	byString  map[string]*action // option string -> action
	strOrder  []string           // option strings in insertion order
	positions []*flagtable.Positional
}

type action struct {
	opt   flagtable.Option
	dest  string
	nargs string // "", "?", "*", "+", "0", "N"
	name  string // for messages: option strings joined by '/'
}

// New builds a parser for a table.
func New(t *flagtable.Table) *Parser {
	p := &Parser{T: t, byString: map[string]*action{}}
	hasHelp := false
	for _, o := range t.Options {
		if o.Action == "help" {
			hasHelp = true
		}
	}
	add := func(o flagtable.Option) {
		a := &action{opt: o, dest: o.DestOf(), nargs: o.NargsSpec(), name: strings.Join(o.Names, "/")}
		p.opts = append(p.opts, a)
		for _, s := range o.Names {
			if _, dup := p.byString[s]; dup {
				continue
			}
			p.byString[s] = a
			p.strOrder = append(p.strOrder, s)
		}
	}
	if !hasHelp {
		// argparse adds -h/--help before anything else.
		add(flagtable.Option{Names: []string{"-h", "--help"}, Action: "help", Dest: "help"})
	}
	for _, o := range t.Options {
		add(o)
	}
	for i := range t.Positional {
		p.positions = append(p.positions, &t.Positional[i])
	}
	if len(p.positions) == 0 {
		p.positions = []*flagtable.Positional{{Name: "model_tag", Nargs: "?"}}
	}
	return p
}

func (p *Parser) boolOr(v *bool, def bool) bool {
	if v != nil {
		return *v
	}
	return def
}

func (p *Parser) newer(than string) bool { return !flagtable.VersionLess(p.T.VLLM, than) }

// TopUsage is the usage line of the top-level `vllm` parser.
func (p *Parser) TopUsage() string {
	subs := p.T.Parser.Subcommands
	if len(subs) == 0 {
		subs = []string{"chat", "complete", "serve", "bench", "collect-env", "run-batch"}
		if p.newer("0.20.0") {
			subs = []string{"chat", "complete", "serve", "launch", "bench", "collect-env", "run-batch"}
		}
	}
	return "usage: vllm [-h] [-v] {" + strings.Join(subs, ",") + "} ..."
}

func (p *Parser) subcommands() []string {
	u := p.TopUsage()
	u = u[strings.Index(u, "{")+1 : strings.Index(u, "}")]
	return strings.Split(u, ",")
}

func (p *Parser) serveErr(format string, a ...any) *Error {
	return &Error{Usage: ServeUsage, Prog: "vllm serve", Message: fmt.Sprintf(format, a...), Code: 2}
}

func (p *Parser) topErr(format string, a ...any) *Error {
	return &Error{Usage: p.TopUsage(), Prog: "vllm", Message: fmt.Sprintf(format, a...), Code: 2}
}

func pyTraceback(frames []string, exc string) *Error {
	var b strings.Builder
	b.WriteString("Traceback (most recent call last):\n")
	for _, f := range frames {
		b.WriteString(f)
		b.WriteString("\n")
	}
	b.WriteString(exc)
	b.WriteString("\n")
	return &Error{Traceback: b.String(), Code: 1, Message: exc}
}

var parseArgsFrames = []string{
	`  File "/usr/local/bin/vllm", line 10, in <module>`,
	`    sys.exit(main())`,
	`             ^^^^^^`,
	`  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/cli/main.py", line 46, in main`,
	`    args = parser.parse_args()`,
	`           ^^^^^^^^^^^^^^^^^^^`,
}

// ParseCLI parses the arguments after the program name: ["serve", ...].
func (p *Parser) ParseCLI(argv []string) (*Result, *Error) {
	args := append([]string(nil), argv...)
	res := &Result{Values: map[string]any{}}

	if len(args) > 0 && args[0] == "serve" {
		var err *Error
		if args, err = p.modelOption(args, res); err != nil {
			return nil, err
		}
	}
	args, err := p.preprocess(args, res)
	if err != nil {
		return nil, err
	}

	// The top-level parser: [-h] [-v] {subcommands} ...
	if len(args) == 0 {
		return nil, &Error{Code: 0, Message: "help"} // vllm with no subcommand prints help
	}
	switch {
	case args[0] == "-h" || args[0] == "--help" || (strings.HasPrefix(args[0], "--") && len(args[0]) > 2 && strings.HasPrefix("--help", args[0]) && !strings.HasPrefix("--version", args[0])):
		res.Help = true
		return res, nil
	case args[0] == "-v" || args[0] == "--version" || (strings.HasPrefix(args[0], "--") && len(args[0]) > 2 && strings.HasPrefix("--version", args[0]) && !strings.HasPrefix("--help", args[0])):
		res.Version = true
		return res, nil
	case strings.HasPrefix(args[0], "-"):
		// an option the top-level parser does not know, then no subcommand
		return nil, p.topErr("unrecognized arguments: %s", strings.Join(args, " "))
	}
	if args[0] != "serve" {
		return nil, p.topErr("argument subparser: invalid choice: %s (choose from %s)", pyRepr(args[0]), p.joinChoices(p.subcommands()))
	}
	extras, perr := p.parseServe(args[1:], res)
	if perr != nil {
		return nil, perr
	}
	if res.Help {
		return res, nil
	}
	if len(extras) > 0 {
		// The serve sub-parser leaves what it does not know to the top-level
		// parser, which reports it under its own usage and prog.
		return nil, p.topErr("unrecognized arguments: %s", strings.Join(extras, " "))
	}
	if res.ModelTag != "" {
		res.Model = res.ModelTag
	} else if m, ok := res.Values["model"].(string); ok && m != "" {
		res.Model = m
	} else {
		res.Model = p.defaultModel()
	}
	return res, nil
}

func (p *Parser) defaultModel() string {
	if p.T.Parser.DefaultModel != "" {
		return p.T.Parser.DefaultModel
	}
	for _, o := range p.T.Options {
		if o.DestOf() == "model" {
			if s, ok := o.Default.(string); ok && s != "" {
				return s
			}
		}
	}
	return "Qwen/Qwen3-0.6B"
}

var modelRe = regexp.MustCompile(`^--model(=.+|$)`)

// modelOption applies vLLM's special handling of `--model` under `vllm serve`.
func (p *Parser) modelOption(args []string, res *Result) ([]string, *Error) {
	mode := p.T.Parser.ModelOption
	if mode == "" {
		mode = "reject"
		if p.newer("0.20.0") {
			mode = "move"
		}
	}
	if mode == "reject" {
		for _, a := range args {
			if a == "--model" {
				return nil, pyTraceback(append(parseArgsFrames,
					`  File "/usr/local/lib/python3.12/dist-packages/vllm/utils/__init__.py", line 1842, in parse_args`,
					`    raise ValueError(`),
					"ValueError: With `vllm serve`, you should provide the model as a positional argument or in a config file instead of via the `--model` option.")
			}
		}
		return args, nil
	}
	idx := -1
	for i, a := range args {
		if modelRe.MatchString(a) {
			idx = i
			break
		}
	}
	if idx >= 0 {
		res.Warnings = append(res.Warnings, "With `vllm serve`, you should provide the model as a positional argument or in a config file instead of via the `--model` option. The `--model` option will be removed in a future version.")
		var tag string
		rest := 0
		if args[idx] == "--model" {
			if idx+1 >= len(args) || strings.HasPrefix(args[idx+1], "-") {
				return nil, p.topErr("argument --model: expected one argument")
			}
			tag, rest = args[idx+1], idx+2
		} else {
			tag, rest = strings.TrimPrefix(args[idx], "--model="), idx+1
		}
		n := []string{"serve", tag}
		n = append(n, args[1:idx]...)
		n = append(n, args[rest:]...)
		args = n
	}
	hasConfig, hasSMN := false, false
	for _, a := range args {
		if a == "--config" || strings.HasPrefix(a, "--config=") {
			hasConfig = true
		}
		if regexp.MustCompile(`^--served[-_]model[-_]name(=.+|$)`).MatchString(a) {
			hasSMN = true
		}
	}
	if len(args) > 1 && strings.HasPrefix(args[1], "-") && !hasConfig && hasSMN {
		return nil, pyTraceback(append(parseArgsFrames,
			`  File "/usr/local/lib/python3.12/dist-packages/vllm/utils/argparse_utils.py", line 296, in parse_args`,
			`    raise ValueError(`),
			"ValueError: `model` should be provided as the first positional argument when using `vllm serve`. i.e. `vllm serve <model> --<arg> <value>`.")
	}
	return args, nil
}

// preprocess is FlexibleArgumentParser.parse_args before argparse proper.
func (p *Parser) preprocess(args []string, res *Result) ([]string, *Error) {
	underscores := p.boolOr(p.T.Parser.UnderscoreToDash, true)
	dotted := p.boolOr(p.T.Parser.DottedJSONKeys, true)
	oStyle := ""
	if _, ok := p.byString["--optimization-level"]; ok {
		oStyle = "level-flag"
	} else if _, ok := p.byString["-O"]; ok {
		oStyle = "dotted"
	}

	var out []string
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--help="):
			out = append(out, "--help")
		case strings.HasPrefix(a, "--"):
			if !underscores {
				out = append(out, a)
				break
			}
			if k, v, ok := strings.Cut(a, "="); ok {
				out = append(out, dashify(k)+"="+v)
			} else {
				out = append(out, dashify(a))
			}
		case oStyle == "dotted" && strings.HasPrefix(a, "-O") && a != "-O" && a[2] != '.':
			lvl := a[2:]
			if a[2] == '=' {
				lvl = a[3:]
			}
			out = append(out, "-O.level="+lvl)
		case oStyle == "dotted" && a == "-O" && i+1 < len(args) && isLevel(args[i+1]):
			out = append(out, "-O.level")
		case oStyle == "level-flag" && strings.HasPrefix(a, "-O") && a != "-O":
			lvl := a[2:]
			if a[2] == '=' {
				lvl = a[3:]
			}
			out = append(out, "--optimization-level", lvl)
		case oStyle == "level-flag" && a == "-O" && i+1 < len(args) && isLevel(args[i+1]):
			out = append(out, "--optimization-level")
		default:
			out = append(out, a)
		}
	}
	if !dotted {
		return out, nil
	}

	// Dotted keys: --json-arg.key1 value1 --json-arg.key2.key3=value2 ...
	// become one --json-arg '{"key1": ..., "key2": {"key3": ...}}' at the end.
	type dictArg struct {
		key string
		val *omap
	}
	var dicts []*dictArg
	find := func(k string) *dictArg {
		for _, d := range dicts {
			if d.key == k {
				return d
			}
		}
		d := &dictArg{key: k, val: newOmap()}
		dicts = append(dicts, d)
		return d
	}
	deleted := map[int]bool{}
	var dup []string
	for i := 0; i < len(out); i++ {
		if deleted[i] {
			continue
		}
		a := out[i]
		if !strings.HasPrefix(a, "-") || !strings.Contains(a, ".") {
			continue
		}
		var valStr string
		if k, v, ok := strings.Cut(a, "="); ok {
			if !strings.Contains(k, ".") {
				continue // the '.' was only in the value
			}
			a, valStr = k, v
		} else {
			if i+1 >= len(out) {
				// vLLM reads the value past the end of the list here (as for a
				// trailing negative decimal such as "-0.5", which it takes for a dotted key)
				return nil, pyTraceback(append(parseArgsFrames,
					`  File "/usr/local/lib/python3.12/dist-packages/vllm/utils/__init__.py", line 1925, in parse_args`,
					`    value_str = processed_args[i + 1]`,
					`                ~~~~~~~~~~~~~~^^^^^^^`),
					"IndexError: list index out of range")
			}
			valStr = out[i+1]
			deleted[i+1] = true
		}
		var val any
		if strings.HasSuffix(a, "+") {
			a = strings.TrimSuffix(a, "+")
			parts := strings.Split(valStr, ",")
			l := make([]any, len(parts))
			for j, s := range parts {
				l[j] = s
			}
			val = l
		} else if v, err := pyJSONLoads(valStr); err == nil {
			val = v
		} else if p.boolOr(p.T.Parser.DottedHumanInt, p.newer("0.20.0")) {
			if n, herr := humanReadableInt(valStr, p.newer("0.20.0")); herr == nil {
				val = n
			} else {
				val = valStr
			}
		} else {
			val = valStr
		}
		keys := strings.Split(a, ".")
		d := find(keys[0])
		for _, k := range d.val.merge(nested(keys[1:], val)) {
			dup = append(dup, keys[0]+"."+k)
		}
		deleted[i] = true
	}
	if len(dup) > 0 {
		res.Warnings = append(res.Warnings, "Found duplicate keys "+strings.Join(dup, ", "))
	}
	var kept []string
	for i, a := range out {
		if !deleted[i] {
			kept = append(kept, a)
		}
	}
	for _, d := range dicts {
		kept = append(kept, d.key, pyJSONDumps(d.val))
	}
	return kept, nil
}

func isLevel(s string) bool { return s == "0" || s == "1" || s == "2" || s == "3" }

// dashify turns '_' into '-' between the first "--" and the first '.'.
func dashify(s string) string {
	i := strings.Index(s, "--")
	if i < 0 {
		return s
	}
	head, tail := s[:i+2], s[i+2:]
	j := strings.IndexByte(tail, '.')
	if j < 0 {
		j = len(tail)
	}
	return head + strings.ReplaceAll(tail[:j], "_", "-") + tail[j:]
}

func nested(keys []string, v any) any {
	for i := len(keys) - 1; i >= 0; i-- {
		m := newOmap()
		m.set(keys[i], v)
		v = m
	}
	return v
}

// ---- argparse proper (the serve sub-parser) ----

type optTuple struct {
	act      *action
	optStr   string
	sep      *string
	explicit *string
}

func strp(s string) *string { return &s }

// parseOptional is argparse's _parse_optional: nil means "a positional".
func (p *Parser) parseOptional(arg string) (*optTuple, *Error) {
	if arg == "" || arg[0] != '-' {
		return nil, nil
	}
	if a, ok := p.byString[arg]; ok {
		return &optTuple{act: a, optStr: arg}, nil
	}
	if len(arg) == 1 {
		return nil, nil
	}
	if k, v, ok := strings.Cut(arg, "="); ok {
		if a, ok := p.byString[k]; ok {
			return &optTuple{act: a, optStr: k, sep: strp("="), explicit: strp(v)}, nil
		}
	}
	tuples := p.optionTuples(arg)
	if len(tuples) > 1 {
		names := make([]string, len(tuples))
		for i, t := range tuples {
			names[i] = t.optStr
		}
		return nil, p.serveErr("ambiguous option: %s could match %s", arg, strings.Join(names, ", "))
	}
	if len(tuples) == 1 {
		return tuples[0], nil
	}
	if negNumber.MatchString(arg) {
		return nil, nil // no option looks like a negative number
	}
	if strings.Contains(arg, " ") {
		return nil, nil
	}
	return &optTuple{optStr: arg}, nil // an unknown option
}

var negNumber = regexp.MustCompile(`^-\d+$|^-\d*\.\d+$`)

func (p *Parser) optionTuples(arg string) []*optTuple {
	var out []*optTuple
	abbrev := p.boolOr(p.T.Parser.AllowAbbrev, true)
	if len(arg) > 1 && arg[0] == '-' && arg[1] == '-' {
		if !abbrev {
			return nil
		}
		prefix, v, hasSep := strings.Cut(arg, "=")
		for _, s := range p.strOrder {
			if strings.HasPrefix(s, prefix) {
				t := &optTuple{act: p.byString[s], optStr: s}
				if hasSep {
					t.sep, t.explicit = strp("="), strp(v)
				}
				out = append(out, t)
			}
		}
		return out
	}
	prefix, v, hasSep := strings.Cut(arg, "=")
	short, shortExplicit := arg[:2], arg[2:]
	for _, s := range p.strOrder {
		if s == short {
			out = append(out, &optTuple{act: p.byString[s], optStr: s, sep: strp(""), explicit: strp(shortExplicit)})
		} else if abbrev && strings.HasPrefix(s, prefix) {
			t := &optTuple{act: p.byString[s], optStr: s}
			if hasSep {
				t.sep, t.explicit = strp("="), strp(v)
			}
			out = append(out, t)
		}
	}
	return out
}

// nargsRegexp is argparse's _get_nargs_pattern for an optional (the '-'s removed).
func nargsRegexp(n string, positional bool) *regexp.Regexp {
	var pat string
	switch n {
	case "":
		pat = "(-*A-*)"
	case "?":
		pat = "(-*A?-*)"
	case "*":
		pat = "(-*[A-]*)"
	case "+":
		pat = "(-*A[A-]*)"
	case "0":
		pat = "(-*-*)"
	default:
		k, _ := strconv.Atoi(n)
		parts := make([]string, k)
		for i := range parts {
			parts[i] = "A"
		}
		pat = "(-*" + strings.Join(parts, "-*") + "-*)"
	}
	if !positional {
		pat = strings.ReplaceAll(strings.ReplaceAll(pat, "-*", ""), "-", "")
	}
	return regexp.MustCompile("^" + pat)
}

func (p *Parser) matchArgument(a *action, pattern string) (int, *Error) {
	m := nargsRegexp(a.nargs, false).FindStringSubmatch(pattern)
	if m == nil {
		switch a.nargs {
		case "":
			return 0, p.serveErr("argument %s: expected one argument", a.name)
		case "?":
			return 0, p.serveErr("argument %s: expected at most one argument", a.name)
		case "+":
			return 0, p.serveErr("argument %s: expected at least one argument", a.name)
		default:
			if a.nargs == "1" {
				return 0, p.serveErr("argument %s: expected 1 argument", a.name)
			}
			return 0, p.serveErr("argument %s: expected %s arguments", a.name, a.nargs)
		}
	}
	return len(m[1]), nil
}

// parseServe is _parse_known_args of the serve sub-parser. It returns the extras.
func (p *Parser) parseServe(args []string, res *Result) ([]string, *Error) {
	// classify each argument: 'O' option, 'A' argument, '-' the "--" marker
	optAt := map[int]*optTuple{}
	var pattern strings.Builder
	rest := false
	for i, a := range args {
		if rest {
			pattern.WriteByte('A')
			continue
		}
		if a == "--" {
			pattern.WriteByte('-')
			rest = true
			continue
		}
		t, err := p.parseOptional(a)
		if err != nil {
			return nil, err
		}
		if t == nil {
			pattern.WriteByte('A')
		} else {
			optAt[i] = t
			pattern.WriteByte('O')
		}
	}
	pat := pattern.String()
	var optIdx []int
	for i := range optAt {
		optIdx = append(optIdx, i)
	}
	sort.Ints(optIdx)

	positionals := append([]*flagtable.Positional(nil), p.positions...)
	var extras []string

	consumePositionals := func(start int) (int, *Error) {
		sel := pat[start:]
		// match as many positionals as possible (here: usually just model_tag '?')
		for len(positionals) > 0 {
			pos := positionals[0]
			n := pos.NargsSpec()
			m := nargsRegexp(n, true).FindStringSubmatch(sel)
			if m == nil {
				break
			}
			cnt := len(m[1])
			vals := []string{}
			for _, s := range args[start : start+cnt] {
				if s != "--" {
					vals = append(vals, s)
				}
			}
			if err := p.takePositional(pos, vals, res); err != nil {
				return start, err
			}
			start += cnt
			sel = sel[cnt:]
			positionals = positionals[1:]
		}
		return start, nil
	}

	consumeOptional := func(start int) (int, *Error) {
		t := optAt[start]
		type taken struct {
			a    *action
			vals []string
			opt  string
		}
		var todo []taken
		stop := start + 1
		for {
			if t.act == nil {
				extras = append(extras, args[start])
				return start + 1, nil
			}
			if t.explicit != nil {
				n, err := p.matchArgument(t.act, "A")
				if err != nil {
					return 0, err
				}
				if n == 0 && t.optStr[1] != '-' && *t.explicit != "" {
					// single-dash flags without arguments: -xyz
					if (t.sep != nil && *t.sep != "") || (*t.explicit)[0] == '-' {
						return 0, p.serveErr("argument %s: ignored explicit argument %s", t.act.name, pyRepr(*t.explicit))
					}
					todo = append(todo, taken{t.act, nil, t.optStr})
					next := "-" + (*t.explicit)[:1]
					if a, ok := p.byString[next]; ok {
						ex := (*t.explicit)[1:]
						nt := &optTuple{act: a, optStr: next}
						if ex == "" {
						} else if ex[0] == '=' {
							nt.sep, nt.explicit = strp("="), strp(ex[1:])
						} else {
							nt.sep, nt.explicit = strp(""), strp(ex)
						}
						t = nt
						continue
					}
					extras = append(extras, "-"+*t.explicit)
					stop = start + 1
					break
				} else if n == 1 {
					todo = append(todo, taken{t.act, []string{*t.explicit}, t.optStr})
					stop = start + 1
					break
				}
				return 0, p.serveErr("argument %s: ignored explicit argument %s", t.act.name, pyRepr(*t.explicit))
			}
			n, err := p.matchArgument(t.act, pat[start+1:])
			if err != nil {
				return 0, err
			}
			stop = start + 1 + n
			todo = append(todo, taken{t.act, args[start+1 : stop], t.optStr})
			break
		}
		for _, tk := range todo {
			if err := p.takeAction(tk.a, tk.vals, tk.opt, res); err != nil {
				return 0, err
			}
			if res.Help {
				return stop, nil
			}
		}
		return stop, nil
	}

	start := 0
	maxOpt := -1
	if len(optIdx) > 0 {
		maxOpt = optIdx[len(optIdx)-1]
	}
	for start <= maxOpt {
		next := -1
		for _, i := range optIdx {
			if i >= start {
				next = i
				break
			}
		}
		if start != next {
			end, err := consumePositionals(start)
			if err != nil {
				return nil, err
			}
			if end > start {
				start = end
				continue
			}
			start = end
		}
		if _, ok := optAt[start]; !ok {
			extras = append(extras, args[start:next]...)
			start = next
		}
		var err *Error
		start, err = consumeOptional(start)
		if err != nil {
			return nil, err
		}
		if res.Help {
			return nil, nil
		}
	}
	stop, err := consumePositionals(start)
	if err != nil {
		return nil, err
	}
	extras = append(extras, args[stop:]...)
	return extras, nil
}

func (p *Parser) takePositional(pos *flagtable.Positional, vals []string, res *Result) *Error {
	if len(vals) == 0 {
		return nil // nargs='?' absent: default (None)
	}
	if pos.Name == "model_tag" || len(p.positions) == 1 {
		res.ModelTag = vals[0]
	}
	set(res, pos.Name, vals[0])
	return nil
}

func set(res *Result, dest string, v any) {
	if _, seen := res.Values[dest]; !seen {
		res.Order = append(res.Order, dest)
	}
	res.Values[dest] = v
}

func (p *Parser) takeAction(a *action, vals []string, optStr string, res *Result) *Error {
	switch a.opt.Action {
	case "help":
		res.Help = true
		return nil
	case "version":
		res.Version = true
		return nil
	case "store_true":
		set(res, a.dest, true)
		return nil
	case "store_false":
		set(res, a.dest, false)
		return nil
	case "boolean_optional":
		set(res, a.dest, booleanValue(a.opt.Names, optStr))
		return nil
	case "store_const", "append_const":
		set(res, a.dest, a.opt.Default)
		return nil
	case "count":
		n, _ := res.Values[a.dest].(int64)
		set(res, a.dest, n+1)
		return nil
	}
	// store / append / extend and anything else that takes values
	var value any
	switch {
	case len(vals) == 0 && a.nargs == "?":
		value = nil // const (vLLM's optional-value options have const None)
	case len(vals) == 1 && (a.nargs == "" || a.nargs == "?"):
		v, err := p.convert(a, vals[0])
		if err != nil {
			return err
		}
		value = v
	default:
		l := make([]any, 0, len(vals))
		for _, s := range vals {
			v, err := p.convert(a, s)
			if err != nil {
				return err
			}
			l = append(l, v)
		}
		value = l
	}
	if a.opt.Action == "append" || a.opt.Action == "extend" {
		prev, _ := res.Values[a.dest].([]any)
		if a.opt.Action == "extend" {
			if l, ok := value.([]any); ok {
				set(res, a.dest, append(prev, l...))
				return nil
			}
		}
		set(res, a.dest, append(prev, value))
		return nil
	}
	set(res, a.dest, value)
	return nil
}

// convert is argparse's _get_value followed by _check_value.
func (p *Parser) convert(a *action, s string) (any, *Error) {
	var v any
	var err error
	typeName := a.opt.Type
	nullable := a.opt.Nullable
	if nullable && (s == "" || s == "None") {
		v = nil
	} else {
		switch typeName {
		case "", "str":
			v = s
		case "int":
			v, err = pyInt(s)
		case "float":
			v, err = pyFloat(s)
		case "json":
			v, err = pyJSONLoads(s)
		case "human_int":
			var n int64
			n, err = humanReadableInt(s, p.newer("0.20.0"))
			v = n
			if te, ok := err.(typeError); ok {
				return nil, p.serveErr("argument %s: %s", a.name, string(te))
			}
		case "bool_str":
			v = s != "" // Python's bool() of a string
		default:
			v = s
		}
		if err != nil {
			if nullable || typeName == "json" {
				return nil, p.serveErr("argument %s: Value %s cannot be converted to %s.", a.name, s, pyTypeRepr(typeName))
			}
			return nil, p.serveErr("argument %s: invalid %s value: %s", a.name, pyTypeName(typeName), pyRepr(s))
		}
	}
	if choices := a.opt.ChoiceStrings(); choices != nil {
		got := flagtable.PyStr(v)
		ok := false
		for _, c := range choices {
			if c == got {
				ok = true
				break
			}
		}
		if !ok {
			return nil, p.serveErr("argument %s: invalid choice: %s (choose from %s)", a.name, pyRepr(got), p.joinChoices(choices))
		}
	}
	return v, nil
}

func (p *Parser) joinChoices(c []string) string {
	if !p.boolOr(p.T.Parser.ChoicesQuoted, false) {
		return strings.Join(c, ", ")
	}
	q := make([]string, len(c))
	for i, s := range c {
		q[i] = pyRepr(s)
	}
	return strings.Join(q, ", ")
}

func pyTypeName(t string) string {
	switch t {
	case "human_int":
		return "human_readable_int"
	case "bool_str":
		return "bool"
	case "json":
		return "loads"
	}
	return t
}

func pyTypeRepr(t string) string {
	switch t {
	case "int", "float", "str":
		return "<class '" + t + "'>"
	case "json":
		return "<function loads at 0x7f3a9c6b8ea0>"
	case "human_int":
		return "<function human_readable_int at 0x7f3a9c1d2f20>"
	}
	return t
}

type typeError string

func (e typeError) Error() string { return string(e) }

var pyIntRe = regexp.MustCompile(`^[+-]?\d+(_\d+)*$`)

// pyInt is Python's int() of a string.
func pyInt(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if !pyIntRe.MatchString(t) {
		return 0, fmt.Errorf("invalid int")
	}
	return strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
}

var pyFloatRe = regexp.MustCompile(`(?i)^[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*(e[+-]?\d+(_\d+)*)?|\d+(_\d+)*\.(e[+-]?\d+)?|inf|infinity|nan)$`)

// pyFloat is Python's float() of a string.
func pyFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if !pyFloatRe.MatchString(t) {
		return 0, fmt.Errorf("invalid float")
	}
	return strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
}

var humanRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)([kKmMgGtT])$`)

// humanReadableInt is vLLM's human_readable_int ("32k", "1M", "25.6k").
func humanReadableInt(s string, withT bool) (int64, error) {
	t := strings.TrimSpace(s)
	if m := humanRe.FindStringSubmatch(t); m != nil {
		dec := map[string]float64{"k": 1e3, "m": 1e6, "g": 1e9}
		bin := map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
		if withT {
			dec["t"], bin["T"] = 1e12, 1<<40
		}
		if mult, ok := dec[m[2]]; ok {
			f, _ := strconv.ParseFloat(m[1], 64)
			return int64(math.Trunc(f * mult)), nil
		}
		if mult, ok := bin[m[2]]; ok {
			n, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				return 0, typeError(fmt.Sprintf("Decimals are not allowed with binary suffixes like %s. Did you mean to use %s%s instead?", m[2], m[1], strings.ToLower(m[2])))
			}
			return n * mult, nil
		}
	}
	return pyInt(t)
}

// pyRepr is Python's repr() of a str.
func pyRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}

// PyRepr is exported for the app's "non-default args" log line.
func PyRepr(v any) string { return pyFormat(v, false) }

// pyFormat writes a parsed value as Python would: repr() of it, or, with
// asJSON, json.dumps() of it with its default separators. The two differ only
// in their leaves (None/null, True/true, quoting, inf).
func pyFormat(v any, asJSON bool) string {
	switch x := v.(type) {
	case nil:
		if asJSON {
			return "null"
		}
		return "None"
	case bool:
		s := "False"
		if x {
			s = "True"
		}
		if asJSON {
			return strings.ToLower(s)
		}
		return s
	case string:
		if asJSON {
			b, _ := json.Marshal(x)
			return string(b)
		}
		return pyRepr(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if !asJSON && math.IsInf(x, 1) {
			return "inf"
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyFormat(e, asJSON)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *omap:
		parts := make([]string, len(x.keys))
		for i, k := range x.keys {
			parts[i] = pyFormat(k, asJSON) + ": " + pyFormat(x.vals[k], asJSON)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if asJSON {
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}

// ---- JSON the way Python's json module reads and writes it ----

// omap is a JSON object that keeps key order (Python dicts do).
type omap struct {
	keys []string
	vals map[string]any
}

func newOmap() *omap { return &omap{vals: map[string]any{}} }

func (m *omap) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// Get returns a key's value.
func (m *omap) Get(k string) (any, bool) { v, ok := m.vals[k]; return v, ok }

// Keys returns the keys in order.
func (m *omap) Keys() []string { return m.keys }

// merge is vLLM's recursive_dict_update; it returns the overwritten keys.
func (m *omap) merge(upd any) []string {
	u, ok := upd.(*omap)
	if !ok {
		return nil
	}
	var dups []string
	for _, k := range u.keys {
		v := u.vals[k]
		cur, has := m.vals[k]
		if vm, ok := v.(*omap); ok {
			if cm, ok := cur.(*omap); ok {
				for _, d := range cm.merge(vm) {
					dups = append(dups, k+"."+d)
				}
				continue
			}
		}
		if vl, ok := v.([]any); ok {
			if cl, ok := cur.([]any); ok {
				m.vals[k] = append(cl, vl...)
				continue
			}
		}
		if has {
			dups = append(dups, k)
		}
		m.set(k, v)
	}
	return dups
}

func (m *omap) MarshalJSON() ([]byte, error) { return []byte(pyJSONDumps(m)), nil }

// ToPlain converts omaps into map[string]any recursively.
func ToPlain(v any) any {
	switch x := v.(type) {
	case *omap:
		out := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			out[k] = ToPlain(x.vals[k])
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToPlain(e)
		}
		return out
	}
	return v
}

// pyJSONLoads is json.loads: one JSON value (objects keep their key order;
// integers stay int64, other numbers float64).
func pyJSONLoads(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("Expecting value")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("Extra data")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := newOmap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("bad key")
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				m.set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		return f, err
	default:
		return tok, nil // string, bool, nil
	}
}

// pyJSONDumps is json.dumps with its default separators.
func pyJSONDumps(v any) string { return pyFormat(v, true) }

// booleanValue is what a BooleanOptionalAction stores for the option string
// used: false for a --no- form, and (from 0.34, vLLM's EnableDisableAction)
// for the --disable-x that pairs with --enable-x, or the reverse.
func booleanValue(names []string, optStr string) bool {
	if strings.HasPrefix(optStr, "--no-") {
		return false
	}
	if len(names) == 0 || optStr == names[0] {
		return true
	}
	first := names[0]
	for _, pair := range [][2]string{{"--enable-", "--disable-"}, {"--disable-", "--enable-"}} {
		if strings.HasPrefix(first, pair[0]) && optStr == pair[1]+strings.TrimPrefix(first, pair[0]) {
			return false
		}
	}
	return true
}
