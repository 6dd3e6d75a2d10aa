package gpumem

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newHost makes a ledger whose baseline is a scenario of the repo.
func newHost(t *testing.T, scenario string) Ledger {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "baseline"), 0o755)
	b, err := os.ReadFile(filepath.Join("../../../test/fixtures/nvidia-smi/scenarios", scenario, "query-gpu.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "baseline", "query-gpu.csv"), b, 0o644)
	return Ledger{Dir: dir}
}

func engine(t *testing.T, l Ledger, id, devices string, util float64) *Engine {
	t.Helper()
	host, err := l.Baseline()
	if err != nil {
		t.Fatal(err)
	}
	gpus, err := Resolve(devices, host)
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Ledger: l, Grant: Grant{Container: id, HostPid: 100, Devices: devices}, GPUs: gpus, Util: util, LeftoverMiB: 1280}
}

func TestResolve(t *testing.T) {
	host := []GPU{{Index: 0, UUID: "GPU-a"}, {Index: 1, UUID: "GPU-b"}}
	for _, c := range []struct {
		devices string
		want    string // indexes, or "error"
	}{
		{"0,1", "0,1"}, {"1", "1"}, {"all", "0,1"}, {"", ""}, {"void", ""}, {"GPU-b,0", "1,0"}, {"2", "error"},
	} {
		got, err := Resolve(c.devices, host)
		var idx []string
		for _, g := range got {
			idx = append(idx, string(rune('0'+g.Index)))
		}
		s := strings.Join(idx, ",")
		if err != nil {
			s = "error"
		}
		if s != c.want {
			t.Errorf("Resolve(%q) = %s, want %s", c.devices, s, c.want)
		}
	}
}

// The text of vLLM's ValueError, as Python formats it (checked with python3).
func TestShortErrorText(t *testing.T) {
	g := GPU{Index: 1, TotalMiB: 24564}
	for _, c := range []struct {
		e    ShortError
		want string
	}{
		{ShortError{GPU: g, FreeMiB: 2054, Util: 0.9},
			"Free memory on device (2.01/23.99 GiB) on startup is less than desired GPU memory utilization (0.9, 21.59 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes."},
		{ShortError{Local: 1, GPU: g, FreeMiB: 1024, Util: 0.85, WithName: true},
			"Free memory on device cuda:1 (1.0/23.99 GiB) on startup is less than desired GPU memory utilization (0.85, 20.39 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes."},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

// Two models on the same GPUs: the second is refused while the first lives
// and awake; asleep, the first holds only its leftover.
func TestSecondModelOnTheSameGPUs(t *testing.T) {
	l := newHost(t, "rtx4090x2-idle")
	first := engine(t, l, "first", "0,1", 0.9)
	if err := first.Start(false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what    string
		devices string
		util    float64
		ok      bool
	}{
		{"same GPUs, 0.9", "0,1", 0.9, false},
		{"GPU 1 only, 0.05", "1", 0.05, true},
		{"GPU 1 only, 0.1", "1", 0.1, false},
	} {
		e := engine(t, l, "second", c.devices, c.util)
		err := e.Start(true)
		var short *ShortError
		if c.ok != (err == nil) || (!c.ok && !errors.As(err, &short)) {
			t.Errorf("%s: %v", c.what, err)
		}
		e.Release()
	}
	freed, used, err := first.Sleep()
	if err != nil || used != 1280 || freed != 22108-1280 {
		t.Fatalf("sleep: freed %d, used %d, %v", freed, used, err)
	}
	second := engine(t, l, "second", "0,1", 0.85)
	if err := second.Start(true); err != nil {
		t.Fatalf("after the first fell asleep: %v", err)
	}
	var oom *OOMError
	if err := first.Wake(nil); !errors.As(err, &oom) {
		t.Errorf("waking with the second awake: %v, want an out of memory", err)
	}
	second.Release()
	if err := first.Wake([]string{"weights"}); err != nil {
		t.Fatal(err)
	}
	live, _ := l.Live("")
	if len(live) != 1 || live[0].Rows[0].MiB != 1280+(22108-1280)/2 || !strings.Contains(live[0].Header, "partly awake") {
		t.Errorf("after waking the weights: %+v", live)
	}
	first.Release()
	if live, _ := l.Live(""); len(live) != 0 {
		t.Errorf("after release: %+v", live)
	}
}

// A booking whose owner is gone (file left, lock dropped) does not count;
// a live owner's name cannot be taken.
func TestStaleAndHeldBookings(t *testing.T) {
	l := newHost(t, "rtx4090x2-idle")
	os.WriteFile(filepath.Join(l.Dir, "gone.booking"), []byte("# container=gone\n0, 7, 24000\n1, 7, 24000\n"), 0o644)
	a := engine(t, l, "a", "0,1", 0.95)
	if err := a.Start(false); err != nil {
		t.Fatalf("a stale booking counted: %v", err)
	}
	defer a.Release()
	if _, err := l.Hold("a"); err == nil {
		t.Error("took a live owner's booking")
	}
	// a restarted container (same id) replaces its stale booking
	os.WriteFile(filepath.Join(l.Dir, "b.booking"), []byte("# old\n0, 8, 10\n"), 0o644)
	h, err := l.Hold("b")
	if err != nil {
		t.Fatal(err)
	}
	h.Write("new", []Row{{GPU: 1, HostPid: 9, MiB: 5}})
	live, _ := l.Live("a")
	if len(live) != 1 || live[0].Name != "b" || len(live[0].Rows) != 1 || live[0].Rows[0].HostPid != 9 {
		t.Errorf("live: %+v", live)
	}
	h.Release()
}
