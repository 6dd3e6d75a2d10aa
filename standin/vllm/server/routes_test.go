package server

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// vLLM's rule, as in 0.21.0: the key guards /v1 only; the rest answers without it.
func TestOpenRoutesAnswerWithoutTheKey(t *testing.T) {
	dev := httptest.NewServer(New(Config{Version: "0.21.0", Model: "m", APIKeys: []string{"k"}, DevMode: true}))
	defer dev.Close()
	plain := httptest.NewServer(New(Config{Version: "0.21.0", Model: "m", APIKeys: []string{"k"}}))
	defer plain.Close()
	chat := map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	for _, c := range []struct {
		srv          *httptest.Server
		method, path string
		body         any
		want         int
	}{
		{plain, "POST", "/invocations", chat, 200},
		{plain, "POST", "/invocations", map[string]any{"prompt": "hi"}, 200},
		{plain, "POST", "/inference/v1/generate", map[string]any{"token_ids": []int{1, 2}}, 200},
		{plain, "POST", "/pooling", map[string]any{"input": "x"}, 200},
		{plain, "POST", "/classify", map[string]any{"input": "x"}, 200},
		{plain, "POST", "/score", map[string]any{"text_1": "a", "text_2": "b"}, 200},
		{plain, "POST", "/rerank", map[string]any{"query": "a", "documents": []string{"b"}}, 200},
		{plain, "POST", "/tokenize", map[string]any{"prompt": "a b c"}, 200},
		{plain, "POST", "/detokenize", map[string]any{"tokens": []int{1}}, 200},
		{plain, "POST", "/scale_elastic_ep", map[string]any{"new_data_parallel_size": 2}, 200},
		{plain, "POST", "/sleep", nil, 404},
		{dev, "POST", "/sleep", nil, 200},
		{dev, "POST", "/wake_up", nil, 200},
		{dev, "POST", "/collective_rpc", map[string]any{"method": "x"}, 200},
		{dev, "GET", "/is_sleeping", nil, 200},
		{plain, "POST", "/v1/chat/completions", chat, 401},
	} {
		if got, body := do(t, c.srv, c.method, c.path, "", c.body); got != c.want {
			t.Errorf("%s %s without a key: %d %v, want %d", c.method, c.path, got, body, c.want)
		}
	}
	if _, body := do(t, plain, "POST", "/invocations", "", chat); !strings.Contains(content(body), "[vllm stand-in]") {
		t.Errorf("/invocations did not run a completion: %v", body)
	}
}

func TestStreamIsPacedAndStopsWhenTheClientLeaves(t *testing.T) {
	srv := New(Config{Version: "0.21.0", Model: "m", TokenDelay: 20 * time.Millisecond})
	s := httptest.NewServer(srv)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/v1/chat/completions",
		strings.NewReader(`{"stream":true,"min_tokens":200,"messages":[{"role":"user","content":"hi"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sc := bufio.NewScanner(resp.Body)
	var arrivals []time.Duration
	for sc.Scan() && len(arrivals) < 5 {
		if strings.HasPrefix(sc.Text(), "data: ") {
			arrivals = append(arrivals, time.Since(start))
		}
	}
	if gap := arrivals[4] - arrivals[1]; gap < 40*time.Millisecond {
		t.Errorf("tokens were not paced: chunks 2-5 arrived within %v", gap)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(2 * time.Second)
	for srv.abortN.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if srv.abortN.Load() != 1 {
		t.Fatalf("the server did not abort the request when its client left (aborted %d)", srv.abortN.Load())
	}
}
