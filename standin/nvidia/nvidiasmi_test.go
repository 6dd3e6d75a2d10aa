// Package nvidia tests the fake nvidia-smi (a bash script) against the real
// captures in test/fixtures/nvidia-smi/.
package nvidia

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../test/fixtures/nvidia-smi"

func smi(t *testing.T, scenario string, args ...string) (string, int) {
	t.Helper()
	return smiLedger(t, scenario, t.TempDir(), args...)
}

// smiLedger runs the fake with a GPU ledger directory (an empty one: the
// scenario alone, whatever the host's ledger holds now).
func smiLedger(t *testing.T, scenario, ledger string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"nvidia-smi"}, args...)...)
	cmd.Env = append(os.Environ(), "MYIA_NVIDIA_SMI_SCENARIO="+scenario, "MYIA_GPU_LEDGER="+ledger)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func fixture(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const gpuQuery = "--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,driver_version,compute_cap,pci.bus_id"
const appsQuery = "--query-compute-apps=pid,gpu_uuid,used_memory"

func TestReproducesRealCaptures(t *testing.T) {
	for _, c := range []struct {
		scenario string
		args     []string
		file     string
	}{
		{"h200x2-idle", []string{gpuQuery, "--format=csv,noheader,nounits"}, "h200x2-idle-query-gpu.csv"},
		{"h200x2-idle", []string{"--query-gpu=index,name,memory.total,memory.used", "--format=csv"}, "h200x2-idle-query-gpu-with-header.csv"},
		{"h200x2-busy", []string{"--query-gpu=index,memory.total,memory.used,memory.free", "--format=csv,noheader,nounits"}, "h200x2-busy-memory.csv"},
		{"h200x2-busy", []string{appsQuery, "--format=csv,noheader,nounits"}, "h200x2-busy-compute-apps.csv"},
		{"h200x2-idle", nil, "h200x2-idle-table.txt"},
	} {
		out, code := smi(t, c.scenario, c.args...)
		if code != 0 || out != fixture(t, c.file) {
			t.Errorf("%s %v: exit %d\n%q\nwant %q", c.scenario, c.args, code, out, fixture(t, c.file))
		}
	}
}

func TestScenarios(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(fixtures, "scenarios", "*", "query-gpu.csv"))
	want := map[string]int{"h200x2-idle": 2, "h200x2-busy": 2, "rtx4090x2-idle": 2, "rtx4090x2-busy": 2, "rtx4090x2-full": 2, "rtx4090x1": 1}
	if len(dirs) != len(want) {
		t.Fatalf("scenarios: %v", dirs)
	}
	for name, n := range want {
		out, code := smi(t, name, gpuQuery, "--format=csv,noheader,nounits")
		if code != 0 || strings.Count(out, "\n") != n {
			t.Errorf("%s: exit %d, %q", name, code, out)
		}
		if _, err := os.Stat(filepath.Join(fixtures, "scenarios", name, "README.md")); err != nil {
			t.Errorf("%s has no README.md", name)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Split(l, ", "); len(f) != 9 {
				t.Errorf("%s: %q has %d columns", name, l, len(f))
			}
		}
	}
	// default scenario, empty compute apps
	out, code := smi(t, "", appsQuery, "--format=csv,noheader,nounits")
	if code != 0 || out != "" {
		t.Errorf("default apps: %d %q", code, out)
	}
	out, _ = smi(t, "", gpuQuery, "--format=csv,noheader,nounits")
	if !strings.Contains(out, "NVIDIA GeForce RTX 4090, 24564,") {
		t.Errorf("default scenario: %q", out)
	}
	out, _ = smi(t, "rtx4090x2-busy", appsQuery, "--format=csv,noheader,nounits")
	if !strings.HasSuffix(out, ", 6000\n") {
		t.Errorf("busy apps: %q", out)
	}
	abs, _ := filepath.Abs(filepath.Join(fixtures, "scenarios", "rtx4090x1"))
	out, _ = smi(t, abs, "-L")
	if out != "GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-5a1d8c3e-7b42-4f0a-9c6e-1d2f3a4b5c6d)\n" {
		t.Errorf("-L by path: %q", out)
	}
}

func TestInvalidField(t *testing.T) {
	out, code := smi(t, "rtx4090x2-idle", "--query-gpu=index,bogus.field", "--format=csv,noheader,nounits")
	if code != 2 || out != "Field \"bogus.field\" is not a valid field to query.\n\n" {
		t.Fatalf("%d %q", code, out)
	}
	out, code = smi(t, "no-such-scenario", "-L")
	if code != 9 || !strings.HasPrefix(out, "NVIDIA-SMI has failed") {
		t.Fatalf("%d %q", code, out)
	}
}
