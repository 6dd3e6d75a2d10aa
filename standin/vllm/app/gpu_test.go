package app

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gpuHost makes a ledger (baseline: the default scenario) and a grant file
// per container name, as the hook does; it returns the env for a container.
func gpuHost(t *testing.T) func(id, devices string) map[string]string {
	t.Helper()
	ledger := t.TempDir()
	os.MkdirAll(filepath.Join(ledger, "baseline"), 0o755)
	b, err := os.ReadFile("../../../test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle/query-gpu.csv")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ledger, "baseline", "query-gpu.csv"), b, 0o644)
	grants := t.TempDir()
	return func(id, devices string) map[string]string {
		g := filepath.Join(grants, id)
		os.WriteFile(g, []byte("container="+id+"\npid=4242\ndevices="+devices+"\n"), 0o644)
		return map[string]string{"STANDIN_GPU_LEDGER": ledger, "STANDIN_GPU_GRANT": g}
	}
}

// A second model on the same GPUs is refused as vLLM refuses it, whatever
// the order of the flags; the GPUs it does not use do not count.
func TestSecondModelRefused(t *testing.T) {
	host := gpuHost(t)
	first := start(t, host("first", "0,1"), "A", "--host", "127.0.0.1", "--port", "0", "-tp", "2", "--gpu-memory-utilization", "0.9")
	first.addr(t)
	for _, c := range []struct {
		what    string
		devices string
		args    []string
		refused string // "" = starts
	}{
		{"same GPUs, tp 2", "0,1", []string{"-tp", "2", "--gpu-memory-utilization", "0.9"},
			"ValueError: Free memory on device (2.2/23.99 GiB) on startup is less than desired GPU memory utilization (0.9, 21.59 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes."},
		{"default utilization, GPU 1", "1", nil, "(Worker_TP0"},
		{"small enough", "1", []string{"--gpu-memory-utilization", "0.08"}, ""},
	} {
		r := start(t, host("second", c.devices), append([]string{"B", "--host", "127.0.0.1", "--port", "0"}, c.args...)...)
		if c.refused == "" {
			r.addr(t)
			r.stop <- os.Interrupt
			r.exit(t, 3*time.Second)
			continue
		}
		if code := r.exit(t, 3*time.Second); code != 1 {
			t.Errorf("%s: exit %d, want 1", c.what, code)
		}
		out := r.out.String() + r.err.String()
		if c.refused == "(Worker_TP0" {
			if strings.Contains(out, c.refused) || !strings.Contains(out, "desired GPU memory utilization (0.9,") {
				t.Errorf("%s: a single-GPU engine fails in EngineCore, with the default 0.9:\n%s", c.what, out)
			}
		} else if !strings.Contains(out, c.refused) || !strings.Contains(out, "Failed core proc(s): {}") {
			t.Errorf("%s:\n%s", c.what, out)
		}
	}
	first.stop <- os.Interrupt
	first.exit(t, 3*time.Second)
	again := start(t, host("second", "0,1"), "B", "--host", "127.0.0.1", "--port", "0", "-tp", "2", "--gpu-memory-utilization", "0.9")
	again.addr(t)
	again.stop <- os.Interrupt
	again.exit(t, 3*time.Second)
}

// Sleep mode with the 0.34 table: asleep, the engine holds only its
// leftover, so another one fits; waking up needs the room back.
func TestSleepFreesTheGPUs(t *testing.T) {
	table, _ := filepath.Abs("../../../components/vllm/flags/v0.34.0.json")
	if _, err := os.Stat(table); err != nil {
		t.Skipf("no 0.34.0 flag table: %v", err)
	}
	host := gpuHost(t)
	env := host("sleeper", "0,1")
	env["STANDIN_FLAGS_FILE"], env["VLLM_SERVER_DEV_MODE"], env["STANDIN_SLEEP_SECONDS"], env["STANDIN_WAKE_SECONDS"] = table, "1", "0", "0"
	a := start(t, env, "A", "--host", "127.0.0.1", "--port", "0", "-tp", "2", "--gpu-memory-utilization", "0.6", "--enable-sleep-mode")
	url := "http://" + a.addr(t)
	post := func(path string) (int, string) {
		resp, err := http.Post(url+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	env2 := host("other", "0,1")
	env2["STANDIN_FLAGS_FILE"] = table
	other := func() *run {
		return start(t, env2, "B", "--host", "127.0.0.1", "--port", "0", "-tp", "2", "--gpu-memory-utilization", "0.5")
	}
	if code := other().exit(t, 3*time.Second); code != 1 {
		t.Fatalf("B started beside an awake A: exit %d", code)
	}
	if code, body := post("/sleep?level=1"); code != 200 || body != `{"level":1,"status":"sleeping"}` {
		t.Fatalf("sleep: %d %s", code, body)
	}
	b := other()
	b.addr(t)
	if code, body := post("/wake_up"); code != 500 || body != "Internal Server Error" {
		t.Errorf("wake_up with B holding the memory: %d %s", code, body)
	}
	b.stop <- os.Interrupt
	b.exit(t, 3*time.Second)
	if code, body := post("/wake_up"); code != 200 || body != `{"status":"awake","tags":null}` {
		t.Errorf("wake_up: %d %s", code, body)
	}
	if !strings.Contains(a.out.String(), "Sleep mode freed") || !strings.Contains(a.out.String(), "CUDA Error: out of memory") {
		t.Errorf("log:\n%s", a.out)
	}
	a.stop <- os.Interrupt
	a.exit(t, 3*time.Second)
}
