package argparse

import (
	"path/filepath"
	"strings"
	"testing"

	"myia.local/standin/vllm/flagtable"
)

// TestRealTables checks every table in components/vllm/flags/ (when that
// engineer's tables exist) against a few things every vLLM release accepts
// and refuses.
func TestRealTables(t *testing.T) {
	files, _ := filepath.Glob("../../../components/vllm/flags/v*.json")
	if len(files) == 0 {
		t.Skip("no components/vllm/flags/v*.json yet")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tab, err := flagtable.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			p := New(tab)
			r, perr := p.ParseCLI([]string{"serve", "Org/M", "--port", "8001", "--host", "0.0.0.0",
				"--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.9", "--max-model-len", "32k",
				"--served-model-name", "m", "--api-key", "k", "--limit-mm-per-prompt", `{"image": 3}`, "--trust-remote-code"})
			if perr != nil {
				t.Fatalf("common flags refused:\n%s", perr.Stderr())
			}
			if r.Model != "Org/M" || r.Values["port"] != int64(8001) || r.Values["max_model_len"] != int64(32000) {
				t.Fatalf("got %v", r.Values)
			}
			if _, perr := p.ParseCLI([]string{"serve", "Org/M", "--port", "abc"}); perr == nil || perr.Message != "argument --port: invalid int value: 'abc'" {
				t.Fatalf("bad port: %v", perr)
			}
			if _, perr := p.ParseCLI([]string{"serve", "Org/M", "--no-such-flag-anywhere"}); perr == nil || !strings.HasPrefix(perr.Message, "unrecognized arguments:") {
				t.Fatalf("unknown flag: %v", perr)
			}
			// A generated table names vllm's sub-commands; errors print them in the top usage line.
			if subs := tab.Parser.Subcommands; len(subs) > 0 {
				if want := "{" + strings.Join(subs, ",") + "}"; !strings.Contains(p.TopUsage(), want) {
					t.Errorf("top usage %q lacks %s", p.TopUsage(), want)
				}
			}
			for _, rm := range tab.Removed {
				if _, known := p.byString[rm.Flag]; known {
					t.Errorf("%s is listed as removed but is still an option", rm.Flag)
				}
			}
		})
	}
}
