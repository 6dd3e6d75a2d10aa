package argparse

import (
	"strings"
	"testing"

	"myia.local/standin/vllm/flagtable"
)

func sample(t *testing.T) *Parser {
	t.Helper()
	tab, err := flagtable.Load("../../testdata/flags-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	return New(tab)
}

func parse(t *testing.T, args ...string) *Result {
	t.Helper()
	r, err := sample(t).ParseCLI(append([]string{"serve"}, args...))
	if err != nil {
		t.Fatalf("parse %q: unexpected error:\n%s", args, err.Stderr())
	}
	return r
}

func parseErr(t *testing.T, args ...string) *Error {
	t.Helper()
	r, err := sample(t).ParseCLI(append([]string{"serve"}, args...))
	if err == nil {
		t.Fatalf("parse %q: expected an error, got %+v", args, r.Values)
	}
	return err
}

const topUsage = "usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...\n"

func TestUnknownFlagIsReportedByTopLevelParser(t *testing.T) {
	e := parseErr(t, "Qwen/Qwen3-0.6B", "--bogus-flag", "1")
	want := topUsage + "vllm: error: unrecognized arguments: --bogus-flag 1\n"
	if e.Stderr() != want || e.Code != 2 {
		t.Fatalf("got %d %q\nwant %q", e.Code, e.Stderr(), want)
	}
}

func TestRemovedFlag(t *testing.T) {
	e := parseErr(t, "m", "--swap-space", "16")
	if !strings.HasSuffix(e.Stderr(), "vllm: error: unrecognized arguments: --swap-space 16\n") {
		t.Fatalf("got %q", e.Stderr())
	}
	// argparse quirk: before the model, the stray value fills the positional.
	e = parseErr(t, "--swap-space", "16", "--port", "8001")
	if e.Message != "unrecognized arguments: --swap-space" {
		t.Fatalf("got %q", e.Message)
	}
}

func TestAbbreviation(t *testing.T) {
	r := parse(t, "m", "--gpu-mem", "0.5", "--tensor", "2")
	if r.Values["gpu_memory_utilization"] != 0.5 || r.Values["tensor_parallel_size"] != int64(2) {
		t.Fatalf("got %v", r.Values)
	}
	r = parse(t, "m", "--max-model=32k")
	if r.Values["max_model_len"] != int64(32000) {
		t.Fatalf("got %v", r.Values)
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	e := parseErr(t, "m", "--max", "4")
	want := "usage: vllm serve [model_tag] [options]\nvllm serve: error: ambiguous option: --max could match --max-model-len, --max-num-batched-tokens, --max-num-seqs\n"
	if e.Stderr() != want || e.Code != 2 {
		t.Fatalf("got %q\nwant %q", e.Stderr(), want)
	}
	e = parseErr(t, "m", "--enable-", "x")
	if !strings.Contains(e.Message, "ambiguous option: --enable- could match --enable-auto-tool-choice, --enable-enforce") &&
		!strings.HasPrefix(e.Message, "ambiguous option: --enable- could match ") {
		t.Fatalf("got %q", e.Message)
	}
}

func TestUnderscoresAndEqualsForm(t *testing.T) {
	r := parse(t, "m", "--max_num_seqs=8", "--gpu_memory_utilization", "0.9", "--served_model_name", "a", "b", "--port=8001")
	if r.Values["max_num_seqs"] != int64(8) || r.Values["gpu_memory_utilization"] != 0.9 || r.Values["port"] != int64(8001) {
		t.Fatalf("got %v", r.Values)
	}
	names := r.Values["served_model_name"].([]any)
	if len(names) != 2 || names[0] != "a" || names[1] != "b" {
		t.Fatalf("served names %v", names)
	}
	// only the flag name is normalised, not the value
	r = parse(t, "m", "--hf_token=a_b")
	if r.Values["hf_token"] != "a_b" {
		t.Fatalf("got %v", r.Values)
	}
}

func TestDottedJSONKeys(t *testing.T) {
	r := parse(t, "m", "--limit-mm-per-prompt.image", "3", "--limit_mm_per_prompt.video=0")
	m := ToPlain(r.Values["limit_mm_per_prompt"]).(map[string]any)
	if m["image"] != int64(3) || m["video"] != int64(0) {
		t.Fatalf("got %#v", m)
	}
	r = parse(t, "m", "--limit-mm-per-prompt", `{"image": 2}`)
	m = ToPlain(r.Values["limit_mm_per_prompt"]).(map[string]any)
	if m["image"] != int64(2) {
		t.Fatalf("got %#v", m)
	}
	// dotted keys on a non-JSON option reach argparse as JSON text
	e := parseErr(t, "m", "--port.x", "1")
	if e.Message != `argument --port: invalid int value: '{"x": 1}'` {
		t.Fatalf("got %q", e.Message)
	}
	// -O3 is -O.level=3 in this release
	r = parse(t, "m", "-O3")
	if ToPlain(r.Values["compilation_config"]).(map[string]any)["level"] != int64(3) {
		t.Fatalf("got %#v", r.Values)
	}
}

func TestBadChoice(t *testing.T) {
	e := parseErr(t, "m", "--kv-cache-dtype", "fp9")
	want := "usage: vllm serve [model_tag] [options]\nvllm serve: error: argument --kv-cache-dtype: invalid choice: 'fp9' (choose from auto, bfloat16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc)\n"
	if e.Stderr() != want {
		t.Fatalf("got %q\nwant %q", e.Stderr(), want)
	}
}

func TestBadInt(t *testing.T) {
	e := parseErr(t, "m", "--port", "abc")
	if e.Message != "argument --port: invalid int value: 'abc'" || e.Prog != "vllm serve" || e.Code != 2 {
		t.Fatalf("got %+v", e)
	}
	e = parseErr(t, "m", "-tp", "two")
	if e.Message != "argument --tensor-parallel-size/-tp: invalid int value: 'two'" {
		t.Fatalf("got %q", e.Message)
	}
	e = parseErr(t, "m", "--max-num-seqs", "x")
	if e.Message != "argument --max-num-seqs: Value x cannot be converted to <class 'int'>." {
		t.Fatalf("got %q", e.Message)
	}
	e = parseErr(t, "m", "--max-model-len", "1.5K")
	if e.Message != "argument --max-model-len: Decimals are not allowed with binary suffixes like K. Did you mean to use 1.5k instead?" {
		t.Fatalf("got %q", e.Message)
	}
	r := parse(t, "m", "--seed", "-1", "--max-model-len", "1K")
	if r.Values["seed"] != int64(-1) || r.Values["max_model_len"] != int64(1024) {
		t.Fatalf("got %v", r.Values)
	}
}

func TestBadJSON(t *testing.T) {
	e := parseErr(t, "m", "--limit-mm-per-prompt", "{image:3}")
	if !strings.HasPrefix(e.Message, "argument --limit-mm-per-prompt: Value {image:3} cannot be converted to <function loads at 0x") {
		t.Fatalf("got %q", e.Message)
	}
	parseErr(t, "m", "--limit-mm-per-prompt", `{"image":3} x`)
}

func TestBooleanOptional(t *testing.T) {
	r := parse(t, "m", "--no-enable-chunked-prefill", "--enable-prefix-caching", "--disable-log-stats")
	if r.Values["enable_chunked_prefill"] != false || r.Values["enable_prefix_caching"] != true || r.Values["disable_log_stats"] != true {
		t.Fatalf("got %v", r.Values)
	}
	e := parseErr(t, "m", "--enforce-eager=yes")
	if e.Message != "argument --enforce-eager/--no-enforce-eager: ignored explicit argument 'yes'" {
		t.Fatalf("got %q", e.Message)
	}
}

func TestMissingValue(t *testing.T) {
	e := parseErr(t, "m", "--port")
	if e.Message != "argument --port: expected one argument" {
		t.Fatalf("got %q", e.Message)
	}
	e = parseErr(t, "m", "--host", "--port", "1")
	if e.Message != "argument --host: expected one argument" {
		t.Fatalf("got %q", e.Message)
	}
	e = parseErr(t, "m", "--served-model-name", "--port", "1")
	if e.Message != "argument --served-model-name: expected at least one argument" {
		t.Fatalf("got %q", e.Message)
	}
}

func TestModelPositionalAndOption(t *testing.T) {
	r := parse(t, "Org/A", "--port", "8001")
	if r.Model != "Org/A" {
		t.Fatalf("got %q", r.Model)
	}
	r = parse(t, "--port", "8001", "Org/A")
	if r.Model != "Org/A" {
		t.Fatalf("got %q", r.Model)
	}
	r = parse(t, "Org/A", "--model=Org/B")
	if r.Model != "Org/A" { // the positional wins, as `vllm serve` does
		t.Fatalf("got %q", r.Model)
	}
	r = parse(t, "--model=Org/B")
	if r.Model != "Org/B" {
		t.Fatalf("got %q", r.Model)
	}
	r = parse(t)
	if r.Model != "Qwen/Qwen3-0.6B" {
		t.Fatalf("default model %q", r.Model)
	}
	// 0.11 refuses `--model X` outright with a ValueError
	e := parseErr(t, "--model", "Org/B")
	if e.Code != 1 || !strings.Contains(e.Stderr(), "ValueError: With `vllm serve`, you should provide the model as a positional argument") {
		t.Fatalf("got %d %q", e.Code, e.Stderr())
	}
	e = parseErr(t, "Org/A", "Org/B")
	if e.Message != "unrecognized arguments: Org/B" {
		t.Fatalf("got %q", e.Message)
	}
}

func TestModelOptionMovedInNewerReleases(t *testing.T) {
	p := sample(t)
	p.T.VLLM = "0.20.0"
	r, err := p.ParseCLI([]string{"serve", "--port", "8001", "--model", "Org/B"})
	if err != nil || r.Model != "Org/B" {
		t.Fatalf("got %v %v", r, err)
	}
	_, err = p.ParseCLI([]string{"serve", "Org/A", "--model", "Org/B"})
	if err == nil || err.Message != "unrecognized arguments: Org/A" {
		t.Fatalf("got %v", err)
	}
}

func TestSubcommandAndHelp(t *testing.T) {
	_, e := sample(t).ParseCLI([]string{"srve"})
	if e == nil || e.Message != "argument subparser: invalid choice: 'srve' (choose from chat, complete, serve, bench, collect-env, run-batch)" {
		t.Fatalf("got %v", e)
	}
	r := parse(t, "m", "--help")
	if !r.Help {
		t.Fatal("help not seen")
	}
	r = parse(t, "m", "--help=ModelConfig")
	if !r.Help {
		t.Fatal("help= not seen")
	}
}

func TestAPIKeyList(t *testing.T) {
	r := parse(t, "m", "--api-key", "k1", "k2")
	l := r.Values["api_key"].([]any)
	if len(l) != 2 || l[1] != "k2" {
		t.Fatalf("got %v", l)
	}
}

func TestPyRepr(t *testing.T) {
	if got := pyRepr("it's"); got != `"it's"` {
		t.Fatal(got)
	}
	if got := PyRepr([]any{"a", int64(1), true, nil}); got != "['a', 1, True, None]" {
		t.Fatal(got)
	}
}

func TestNegativeDecimalIsADottedKeyInVLLM(t *testing.T) {
	// vLLM's dotted-key pre-processing takes "-0.5" for "-0" key "5": a
	// trailing one makes it index past the end of the list.
	e := parseErr(t, "m", "--gpu-memory-utilization", "-0.5")
	if e.Code != 1 || !strings.Contains(e.Stderr(), "IndexError: list index out of range") {
		t.Fatalf("got %d %q", e.Code, e.Stderr())
	}
	e = parseErr(t, "m", "--gpu-memory-utilization", "-0.5", "--port", "1")
	if e.Message != `unrecognized arguments: -0 {"5": "--port"}` {
		t.Fatalf("got %q", e.Message)
	}
}
