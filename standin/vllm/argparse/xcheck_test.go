package argparse

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// xcheckCases exercise argparse proper (no underscores, dotted keys or -O,
// which are vLLM's pre-processing and are tested elsewhere).
var xcheckCases = [][]string{
	{"m"}, {}, {"--port", "8001"}, {"m", "--bogus", "1"}, {"--bogus", "1", "m"}, {"m", "--swap-space", "16", "--port", "1"},
	{"--swap-space", "16", "--port", "1"}, {"m", "--max", "4"}, {"m", "--max-m", "4"}, {"m", "--max-model=32k"}, {"m", "--gpu", "0.5"},
	{"m", "--port", "abc"}, {"m", "--port"}, {"m", "--port", "--host", "x"}, {"m", "--host", "--port", "1"}, {"m", "--seed", "-1"},
	{"m", "--gpu-memory-utilization", "1e-1"}, {"m", "--gpu-memory-utilization", "nan"}, {"m", "--gpu-memory-utilization", "0x10"},
	{"m", "--gpu-memory-utilization", "inf"}, {"m", "--gpu-memory-utilization", "1_0"}, {"m", "--gpu-memory-utilization", "1."},
	{"m", "--port", " 8001 "}, {"m", "--port", "8_001"}, {"m", "--port", "+8001"}, {"m", "--port", "1.0"}, {"m", "--port", "0x10"},
	{"m", "-tp", "2"}, {"m", "-tp2"}, {"m", "-tp=2"}, {"m", "-t", "2"}, {"m", "-p", "2"},
	{"m", "--tensor-parallel-size=2", "-pp", "3"}, {"m", "--enforce-eager=yes"}, {"m", "--no-enforce-eager"}, {"m", "--no-enf"},
	{"m", "--enf"}, {"m", "--enable"}, {"m", "--disable-log-stats=1"}, {"m", "--served-model-name"}, {"m", "--served-model-name", "a", "b", "c"},
	{"m", "--served-model-name", "a", "--", "b"}, {"--", "m"}, {"m", "--", "--port"}, {"m", "n"}, {"m", "--api-key", "k1", "k2", "--port", "1"},
	{"m", "--kv-cache-dtype", "fp9"}, {"m", "--kv-cache-dtype", "fp8"}, {"m", "--dtype", "HALF"}, {"m", "--kv-cache-dtype=fp8"},
	{"m", "--limit-mm-per-prompt", `{"image": 3}`}, {"m", "--limit-mm-per-prompt", "nope"}, {"m", "--limit-mm-per-prompt", `{"a":1} x`},
	{"m", "--max-num-seqs", "x"}, {"m", "--max-num-seqs", "None"}, {"m", "--max-model-len", "1.5K"}, {"m", "--max-model-len", "1.5k"},
	{"m", "--max-model-len", "1t"}, {"m", "--max-model-len", "abc"}, {"m", "--max-model-len", "32K"}, {"m", "--host", ""}, {"m", ""},
	{"m", "-"}, {"m", "-x"}, {"m", "--p", "1"}, {"m", "--po", "1"}, {"m", "--h"}, {"m", "--he"}, {"m", "-h"}, {"m", "--port", "1", "--port", "2"},
	{"m", "--uvicorn-log-level", "info"}, {"m", "--uvicorn-log-level", "loud"}, {"m", "--hf-token", "-abc"}, {"m", "--hf-token", "-a b"},
	{"m", "--hf-token=-abc"}, {"-5"}, {"m", "--compilation-config", `{"level":3}`}, {"--port", "1", "m", "extra"},
	{"m", "--enable-prefix-caching", "--no-enable-prefix-caching"}, {"m", "--trust-remote-code", "x"}, {"x", "y", "z"},
	{"m", "--api-key=", "--port=1"}, {"m", "--served-model-name=a", "b"}, {"m", "-tp", "-1"}, {"m", "--seed=-5"},
}

// TestMatchesCPythonArgparse runs the same command lines through CPython's
// argparse (testdata/argparse_xcheck.py) and compares exit codes and stderr.
func TestMatchesCPythonArgparse(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	in, _ := json.Marshal(xcheckCases)
	cmd := exec.Command(py, "../../testdata/argparse_xcheck.py", "../../testdata/flags-sample.json")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var want []struct {
		Code   int    `json:"code"`
		Stderr string `json:"stderr"`
		Help   bool   `json:"help"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	p := sample(t)
	addr := regexp.MustCompile(` at 0x[0-9a-f]+>`)
	subs := regexp.MustCompile(`usage: vllm \[-h\] \[-v\] \{[^}]*\} \.\.\.`)
	for i, c := range xcheckCases {
		r, e := p.ParseCLI(append([]string{"serve"}, c...))
		code, stderr, help := 0, "", false
		if e != nil {
			code, stderr = e.Code, addr.ReplaceAllString(e.Stderr(), " at 0x>")
			stderr = subs.ReplaceAllString(stderr, "usage: vllm [-h] [-v] {SUBCOMMANDS} ...")
		} else {
			help = r.Help
		}
		if code != want[i].Code || stderr != want[i].Stderr || help != want[i].Help {
			t.Errorf("%q:\n  CPython: %d %q help=%v\n  Go:      %d %q help=%v", strings.Join(c, " "), want[i].Code, want[i].Stderr, want[i].Help, code, stderr, help)
		}
	}
}
