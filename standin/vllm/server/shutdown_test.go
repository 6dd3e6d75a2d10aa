package server

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// SIGTERM with a stream in flight, per release behaviour: what the client
// reads, whether the server exits by itself, and what a new request gets.
func TestShutdownModes(t *testing.T) {
	cases := []struct {
		name      string
		mode      Shutdown
		timeout   time.Duration
		wantTail  string // how the stream in flight ends
		exits     bool   // Serve returns by itself within 3 s
		newStatus int    // a new request after SIGTERM, while the server still serves (0: not served)
	}{
		{"0.11: streams stall, the process waits for SIGKILL", ShutdownStall, 0, "", false, 0},
		{"0.34 default: vLLM's error event and [DONE], then exit", ShutdownAbort, 0, `"code":500}}` + "\n\ndata: [DONE]", true, 0},
		{"0.34 --shutdown-timeout: the stream finishes, new ones abort", ShutdownDrain, 10 * time.Second, `"finish_reason":"stop"`, true, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(Config{Version: "0.34.0", Model: "m", MMLimits: map[string]int{}, TokenDelay: 20 * time.Millisecond, Shutdown: c.mode, ShutdownTimeout: c.timeout})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			served := make(chan error, 1)
			go func() { served <- s.Serve(ln, stop) }()
			url := "http://" + ln.Addr().String() + "/v1/chat/completions"
			body := `{"model":"m","messages":[{"role":"user","content":"go"}],"stream":true,"min_tokens":40}`
			resp, err := http.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			time.Sleep(150 * time.Millisecond) // a few tokens in
			close(stop)
			time.Sleep(50 * time.Millisecond)
			if c.newStatus != 0 {
				r, err := http.Post(url, "application/json", strings.NewReader(strings.Replace(body, `"stream":true`, `"stream":false`, 1)))
				if err != nil {
					t.Fatalf("new request after SIGTERM: %v", err)
				}
				r.Body.Close()
				if r.StatusCode != c.newStatus {
					t.Fatalf("new request after SIGTERM: %d, want %d", r.StatusCode, c.newStatus)
				}
			}
			var got []string
			timeout := time.After(3 * time.Second)
		read:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						break read
					}
					if l != "" {
						got = append(got, l)
					}
				case <-timeout:
					break read
				}
			}
			tail := strings.Join(got, "\n\n")
			if c.wantTail == "" {
				if strings.Contains(tail, "[DONE]") || strings.Contains(tail, `"finish_reason":"`) {
					t.Fatalf("a stalled stream ended: %s", tail)
				}
			} else if !strings.Contains(tail, c.wantTail) {
				t.Fatalf("stream ends %q, want %q", tail[max(0, len(tail)-200):], c.wantTail)
			}
			select {
			case <-served:
				if !c.exits {
					t.Fatal("exited with a stream stalled: vLLM 0.11 waits for SIGKILL")
				}
			case <-time.After(3 * time.Second):
				if c.exits {
					t.Fatal("did not exit within 3 s")
				}
			}
		})
	}
}
