package nvidia

import (
	"os"
	"path/filepath"
	"testing"

	"myia.local/standin/vllm/gpumem"
)

// The ledger adds live bookings to the scenario; a booking nobody holds
// (its stand-in was killed) is not counted.
func TestLedgerAddsLiveBookings(t *testing.T) {
	dir := t.TempDir()
	l := gpumem.Ledger{Dir: dir}
	h, err := l.Hold("c0ffee")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if err := h.Write("container=c0ffee state=awake", []gpumem.Row{{GPU: 0, HostPid: 4242, MiB: 22108}, {GPU: 1, HostPid: 4242, MiB: 22108}}); err != nil {
		t.Fatal(err)
	}
	// a stale booking: written, never locked
	if err := os.WriteFile(filepath.Join(dir, "dead.booking"), []byte("# container=dead\n0, 99, 5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		scenario string
		args     []string
		want     string
	}{
		{"rtx4090x2-idle", []string{"--query-gpu=index,memory.total,memory.used,memory.free", "--format=csv,noheader,nounits"},
			"0, 24564, 22109, 2054\n1, 24564, 22109, 2054\n"},
		{"rtx4090x2-busy", []string{"--query-gpu=index,memory.used,memory.free", "--format=csv,noheader,nounits"},
			"0, 22109, 2054\n1, 28117, 0\n"},
		{"rtx4090x2-idle", []string{appsQuery, "--format=csv,noheader,nounits"},
			"4242, GPU-5a1d8c3e-7b42-4f0a-9c6e-1d2f3a4b5c6d, 22108\n4242, GPU-8e9f0a1b-2c3d-4e5f-a6b7-c8d9e0f1a2b3, 22108\n"},
		{"rtx4090x2-idle", []string{appsQuery, "--format=csv", "-i", "1"},
			"pid, gpu_uuid, used_gpu_memory [MiB]\n4242, GPU-8e9f0a1b-2c3d-4e5f-a6b7-c8d9e0f1a2b3, 22108 MiB\n"},
		{"rtx4090x2-idle", []string{"--query-gpu=memory.used", "--format=csv", "-i", "0"}, "memory.used [MiB]\n22109 MiB\n"},
		{"rtx4090x1", []string{appsQuery, "--format=csv,noheader,nounits"}, "4242, GPU-5a1d8c3e-7b42-4f0a-9c6e-1d2f3a4b5c6d, 22108\n"},
	} {
		if out, code := smiLedger(t, c.scenario, dir, c.args...); code != 0 || out != c.want {
			t.Errorf("%s %v: exit %d\n%q\nwant %q", c.scenario, c.args, code, out, c.want)
		}
	}
	h.Release()
	if out, _ := smiLedger(t, "rtx4090x2-idle", dir, appsQuery, "--format=csv,noheader,nounits"); out != "" {
		t.Errorf("after release: %q, want no process", out)
	}
}

// A booking counts only on the same GPU (uuid) as in the ledger's baseline,
// and not at all on a "fixed" scenario (the whole host, our vLLMs included).
func TestLedgerBaselineAndFixedScenarios(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "baseline"), 0o755)
	b, _ := os.ReadFile(filepath.Join(fixtures, "scenarios/rtx4090x2-idle/query-gpu.csv"))
	os.WriteFile(filepath.Join(dir, "baseline", "query-gpu.csv"), b, 0o644)
	h, err := gpumem.Ledger{Dir: dir}.Hold("c")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	h.Write("container=c", []gpumem.Row{{GPU: 0, HostPid: 7, MiB: 1000}, {GPU: 1, HostPid: 7, MiB: 1000}})
	q := []string{"--query-gpu=index,memory.used", "--format=csv,noheader,nounits"}
	for scenario, want := range map[string]string{
		"rtx4090x2-idle": "0, 1001\n1, 1001\n",
		"rtx4090x2-busy": "0, 1001\n1, 7009\n",
		"rtx4090x1":      "0, 1001\n",
		"rtx4090x2-full": "0, 23509\n1, 23509\n",
		"h200x2-idle":    "0, 0\n1, 0\n",
	} {
		if out, code := smiLedger(t, scenario, dir, q...); code != 0 || out != want {
			t.Errorf("%s: exit %d %q, want %q", scenario, code, out, want)
		}
	}
}
