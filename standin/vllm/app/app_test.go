package app

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type run struct {
	out, err *syncBuf
	stop     chan os.Signal
	ready    chan string
	done     chan int
}

func start(t *testing.T, env map[string]string, args ...string) *run {
	t.Helper()
	abs, _ := filepath.Abs("../../testdata/flags-sample.json")
	base := map[string]string{
		"STANDIN_FLAGS_FILE":       abs,
		"HF_HOME":                  t.TempDir(),
		"STANDIN_DOWNLOAD_SECONDS": "0.05",
		"STANDIN_LOAD_SECONDS":     "0.05",
	}
	for k, v := range env {
		base[k] = v
	}
	r := &run{out: &syncBuf{}, err: &syncBuf{}, stop: make(chan os.Signal, 1), ready: make(chan string, 1), done: make(chan int, 1)}
	go func() {
		r.done <- Run(Options{
			Args:   append([]string{"serve"}, args...),
			Getenv: func(k string) string { return base[k] },
			Stdout: r.out, Stderr: r.err, Stop: r.stop, Ready: r.ready,
		})
	}()
	return r
}

func (r *run) addr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-r.ready:
		return a
	case code := <-r.done:
		t.Fatalf("exited %d before listening\nstdout:\n%s\nstderr:\n%s", code, r.out, r.err)
	case <-time.After(5 * time.Second):
		t.Fatalf("not listening after 5s\n%s", r.out)
	}
	return ""
}

func (r *run) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case c := <-r.done:
		return c
	case <-time.After(within):
		t.Fatalf("still running after %v\n%s", within, r.out)
	}
	return -1
}

func TestServeThenSIGTERM(t *testing.T) {
	r := start(t, nil, "Org/M", "--host", "127.0.0.1", "--port", "0", "--api-key", "s3cret", "--hf-token", "hf_abc")
	a := r.addr(t)
	resp, err := http.Get("http://" + a + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	out := r.out.String()
	if strings.Count(out, "STANDIN listening at ") != 1 || !strings.Contains(out, "Application startup complete.") ||
		!strings.Contains(out, "Downloading weights for Org/M") || !strings.Contains(out, "Loading model weights...") {
		t.Fatalf("log:\n%s", out)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "hf_abc") || !strings.Contains(out, "'api_key': '<redacted>'") {
		t.Fatalf("secrets in the log:\n%s", out)
	}
	t0 := time.Now()
	r.stop <- os.Interrupt
	if c := r.exit(t, 3*time.Second); c != 0 {
		t.Fatalf("exit %d", c)
	}
	// The table here has no --shutdown-timeout: 0.11's SIGTERM, whose
	// EngineCore takes about a second to exit (server/shutdown.go).
	if d := time.Since(t0); d < time.Second || d > 2*time.Second {
		t.Fatalf("shutdown took %v, want about 1 s", d)
	}
}

func TestCacheHitOnSecondStart(t *testing.T) {
	home := t.TempDir()
	for i, want := range []string{"Downloading weights for Org/Cached", "Using cached weights for Org/Cached"} {
		r := start(t, map[string]string{"HF_HOME": home}, "Org/Cached", "--host", "127.0.0.1", "--port", "0")
		r.addr(t)
		r.stop <- os.Interrupt
		r.exit(t, 2*time.Second)
		if !strings.Contains(r.out.String(), want) {
			t.Fatalf("start %d: want %q in\n%s", i+1, want, r.out)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "hub", "models--Org--Cached", ".standin-complete")); err != nil {
		t.Fatal(err)
	}
	snaps, _ := filepath.Glob(filepath.Join(home, "hub", "models--Org--Cached", "snapshots", "*", "config.json"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots: %v", snaps)
	}
}

func TestParseErrorExits2(t *testing.T) {
	r := start(t, nil, "Org/M", "--swap-space", "16")
	if c := r.exit(t, 2*time.Second); c != 2 {
		t.Fatalf("exit %d", c)
	}
	if !strings.HasSuffix(r.err.String(), "vllm: error: unrecognized arguments: --swap-space 16\n") {
		t.Fatalf("stderr %q", r.err)
	}
}

func TestFailCrash(t *testing.T) {
	r := start(t, map[string]string{"STANDIN_FAIL": "crash"}, "Org/M", "--port", "0")
	if c := r.exit(t, 3*time.Second); c != 1 {
		t.Fatalf("exit %d", c)
	}
	if !strings.Contains(r.err.String(), "RuntimeError: CUDA error: out of memory") || strings.Contains(r.out.String(), "STANDIN listening") {
		t.Fatalf("stderr %q\nstdout %q", r.err, r.out)
	}
}

func TestFailUnhealthy(t *testing.T) {
	r := start(t, map[string]string{"STANDIN_FAIL": "unhealthy"}, "Org/M", "--port", "0")
	select {
	case a := <-r.ready:
		t.Fatalf("listening at %s", a)
	case c := <-r.done:
		t.Fatalf("exited %d", c)
	case <-time.After(400 * time.Millisecond):
	}
	if !strings.Contains(r.out.String(), "Loading model weights...") {
		t.Fatalf("log %s", r.out)
	}
	r.stop <- os.Interrupt
	if c := r.exit(t, time.Second); c != 0 {
		t.Fatalf("exit %d", c)
	}
}

func TestDieAfter(t *testing.T) {
	r := start(t, map[string]string{"STANDIN_DIE_AFTER": "2"}, "Org/M", "--host", "127.0.0.1", "--port", "0")
	a := r.addr(t)
	for i := 0; i < 2; i++ {
		resp, err := http.Get("http://" + a + "/v1/models")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	if c := r.exit(t, 3*time.Second); c != 1 {
		t.Fatalf("exit %d", c)
	}
	if !strings.Contains(r.out.String(), "STANDIN_DIE_AFTER=2") {
		t.Fatalf("log %s", r.out)
	}
}

func TestAPIKeyFromEnv(t *testing.T) {
	r := start(t, map[string]string{"VLLM_API_KEY": "envkey"}, "Org/M", "--host", "127.0.0.1", "--port", "0", "--served-model-name", "m1", "m2")
	a := r.addr(t)
	defer func() { r.stop <- os.Interrupt; r.exit(t, 2*time.Second) }()
	get := func(key string) int {
		req, _ := http.NewRequest("GET", "http://"+a+"/v1/models", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("") != 401 || get("nope") != 401 || get("envkey") != 200 {
		t.Fatal("auth not enforced")
	}
	resp, _ := http.Get("http://" + a + "/version")
	if resp.StatusCode != 200 {
		t.Fatalf("/version %d", resp.StatusCode)
	}
	buf := new(bytes.Buffer)
	buf.ReadFrom(resp.Body)
	if strings.TrimSpace(buf.String()) != `{"version":"0.11.0"}` {
		t.Fatalf("/version %s", buf)
	}
}
