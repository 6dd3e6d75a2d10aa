package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeMemory struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeMemory) Sleep() (int64, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "sleep")
	return 20828, 1280, nil
}

func (f *fakeMemory) Wake(tags []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "wake "+strings.Join(tags, ","))
	return nil
}

func sleepSrv(api SleepAPI, mem Memory, onDie func()) *httptest.Server {
	return httptest.NewServer(New(Config{Version: "x", Model: "m", APIKeys: []string{"k"}, DevMode: true,
		Sleep: SleepConfig{API: api, Enabled: true, Memory: mem}, OnDie: onDie}))
}

// raw does a request without a key and returns status, content type, body.
func raw(t *testing.T, s *httptest.Server, method, path string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// Each release's answers, step by step (no API key: the sleep router is
// outside /v1, as in vLLM).
func TestSleepRoutesPerRelease(t *testing.T) {
	type step struct {
		method, path, wantBody string
		want                   int
	}
	for _, c := range []struct {
		api   SleepAPI
		steps []step
		mem   []string
	}{
		{Sleep011, []step{
			{"GET", "/is_sleeping", `{"is_sleeping":false}`, 200},
			{"POST", "/sleep?level=abc", "Internal Server Error", 500},
			{"POST", "/sleep?level=1", "", 200},
			{"POST", "/sleep", "", 200}, // already sleeping: a warning
			{"GET", "/is_sleeping", `{"is_sleeping":true}`, 200},
			{"POST", "/wake_up?tags=weights", "", 200},
			{"GET", "/is_sleeping", `{"is_sleeping":true}`, 200},
			{"POST", "/wake_up?tags=kv_cache", "", 200},
			{"GET", "/is_sleeping", `{"is_sleeping":false}`, 200},
			{"GET", "/sleep", `{"detail":"Method Not Allowed"}`, 405},
		}, []string{"sleep", "wake weights", "wake kv_cache"}},
		{Sleep020, []step{
			{"POST", "/sleep?level=0", "", 200}, // pause only: no memory change
			{"GET", "/is_sleeping", `{"is_sleeping":true}`, 200},
			{"POST", "/wake_up?tags=scheduling", "", 200},
			{"GET", "/is_sleeping", `{"is_sleeping":false}`, 200},
			{"POST", "/sleep?level=2&mode=bogus", "Internal Server Error", 500},
			{"POST", "/sleep?level=2&mode=wait", "", 200},
			{"POST", "/wake_up", "", 200},
			{"GET", "/is_sleeping", `{"is_sleeping":false}`, 200},
		}, []string{"sleep", "wake "}},
		{Sleep034, []step{
			{"POST", "/sleep?level=3", `{"detail":[{"ctx":{"le":2},"input":"3","loc":["query","level"],"msg":"Input should be less than or equal to 2","type":"less_than_equal"}]}`, 422},
			{"POST", "/sleep?level=x&mode=y", `{"detail":[{"input":"x","loc":["query","level"],"msg":"Input should be a valid integer, unable to parse string as an integer","type":"int_parsing"},{"ctx":{"expected":"'abort', 'wait' or 'keep'"},"input":"y","loc":["query","mode"],"msg":"Input should be 'abort', 'wait' or 'keep'","type":"literal_error"}]}`, 422},
			{"POST", "/sleep?reset_connector=maybe", `{"detail":[{"input":"maybe","loc":["query","reset_connector"],"msg":"Input should be a valid boolean, unable to interpret input","type":"bool_parsing"}]}`, 422},
			{"POST", "/sleep", `{"level":1,"status":"sleeping"}`, 200},
			{"POST", "/wake_up?tags=weights", `{"status":"sleeping","tags":["weights"]}`, 200},
			{"GET", "/is_sleeping", `{"is_sleeping":true}`, 200},
			{"POST", "/wake_up?tags=kv_cache", `{"status":"awake","tags":["kv_cache"]}`, 200},
			{"GET", "/is_sleeping", `{"is_sleeping":false}`, 200},
			{"POST", "/sleep?level=0&mode=keep", `{"level":0,"status":"sleeping"}`, 200},
			{"POST", "/wake_up", `{"status":"awake","tags":null}`, 200},
		}, []string{"sleep", "wake weights", "wake kv_cache"}},
	} {
		mem := &fakeMemory{}
		s := sleepSrv(c.api, mem, nil)
		for _, st := range c.steps {
			code, ctype, body := raw(t, s, st.method, st.path)
			if code != st.want || body != st.wantBody {
				t.Errorf("api %d %s %s: %d %q, want %d %q", c.api, st.method, st.path, code, body, st.want, st.wantBody)
			}
			if st.wantBody == "" && ctype != "" {
				t.Errorf("api %d %s %s: content type %q on an empty answer", c.api, st.method, st.path, ctype)
			}
		}
		if strings.Join(mem.calls, "|") != strings.Join(c.mem, "|") {
			t.Errorf("api %d: memory calls %q, want %q", c.api, mem.calls, c.mem)
		}
		s.Close()
	}
}

// While asleep, inference: 0.11 dies (the engine touches freed memory);
// 0.20+ keep the request waiting until the scheduler resumes.
func TestInferenceWhileAsleep(t *testing.T) {
	chat := map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	died := make(chan struct{})
	old := sleepSrv(Sleep011, nil, func() { close(died) })
	defer old.Close()
	raw(t, old, "POST", "/sleep")
	if code, _ := do(t, old, "POST", "/v1/chat/completions", "k", chat); code != 500 {
		t.Errorf("0.11 asleep: chat %d, want 500", code)
	}
	select {
	case <-died:
	case <-time.After(2 * time.Second):
		t.Error("0.11: the engine did not die")
	}

	for _, api := range []SleepAPI{Sleep020, Sleep034} {
		s := sleepSrv(api, nil, nil)
		raw(t, s, "POST", "/sleep?level=1")
		done := make(chan int, 1)
		go func() { code, _ := do(t, s, "POST", "/v1/chat/completions", "k", chat); done <- code }()
		select {
		case code := <-done:
			t.Errorf("api %d: chat answered %d while asleep", api, code)
		case <-time.After(300 * time.Millisecond):
		}
		raw(t, s, "POST", "/wake_up")
		select {
		case code := <-done:
			if code != 200 {
				t.Errorf("api %d: chat after wake_up: %d", api, code)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("api %d: chat still waiting after wake_up", api)
		}
		s.Close()
	}
}

// Without --enable-sleep-mode the router is there (dev mode) but frees
// nothing: a 0.11 engine keeps serving; 0.20+ still pause until wake_up.
func TestSleepWithoutSleepMode(t *testing.T) {
	chat := map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	mem := &fakeMemory{}
	s := httptest.NewServer(New(Config{Version: "0.11.0", Model: "m", DevMode: true, Sleep: SleepConfig{Memory: mem}}))
	defer s.Close()
	if code, _, body := raw(t, s, "POST", "/sleep"); code != 200 || body != "" {
		t.Fatalf("sleep: %d %q", code, body)
	}
	if _, _, body := raw(t, s, "GET", "/is_sleeping"); body != `{"is_sleeping":true}` {
		t.Errorf("is_sleeping: %s", body)
	}
	if code, _ := do(t, s, "POST", "/v1/chat/completions", "", chat); code != 200 {
		t.Errorf("0.11 without sleep mode, asleep: chat %d, want 200", code)
	}
	if len(mem.calls) != 0 {
		t.Errorf("memory moved without --enable-sleep-mode: %v", mem.calls)
	}
	plain := httptest.NewServer(New(Config{Version: "0.34.0", Model: "m"}))
	defer plain.Close()
	if code, _, _ := raw(t, plain, "POST", "/sleep"); code != 404 {
		t.Errorf("without dev mode: /sleep %d, want 404", code)
	}
}

func TestSleepAPIFor(t *testing.T) {
	for v, want := range map[string]SleepAPI{"0.11.0": Sleep011, "0.16.1": Sleep011, "0.20.0": Sleep020, "0.21.0": Sleep020, "0.34.0": Sleep034, "0.35.1": Sleep034} {
		if got := SleepAPIFor(v); got != want {
			t.Errorf("SleepAPIFor(%s) = %d, want %d", v, got, want)
		}
	}
}
