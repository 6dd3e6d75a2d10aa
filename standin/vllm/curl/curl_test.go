package curl

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func srv() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.WriteHeader(200)
		case "/body":
			w.Write([]byte("hello"))
		default:
			w.WriteHeader(503)
			w.Write([]byte("down"))
		}
	}))
}

func run(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	c := Main(args, &o, &e)
	return c, o.String(), e.String()
}

func TestCurl(t *testing.T) {
	s := srv()
	defer s.Close()
	port := s.Listener.Addr().(*net.TCPAddr).Port
	local := "http://localhost:" + itoa(port)

	if c, _, _ := run("-fsS", local+"/health"); c != 0 {
		t.Fatalf("health: %d", c)
	}
	if c, o, _ := run("-s", s.URL+"/body"); c != 0 || o != "hello" {
		t.Fatalf("body: %d %q", c, o)
	}
	if c, _, e := run("-fsS", s.URL+"/down"); c != 22 || !strings.Contains(e, "curl: (22) The requested URL returned error: 503") {
		t.Fatalf("503 -f: %d %q", c, e)
	}
	if c, _, e := run("-f", "-s", s.URL+"/down"); c != 22 || e != "" {
		t.Fatalf("503 -fs: %d %q", c, e)
	}
	if c, o, _ := run("-s", s.URL+"/down"); c != 0 || o != "down" {
		t.Fatalf("503 without -f: %d %q", c, o)
	}
	out := filepath.Join(t.TempDir(), "out")
	if c, o, _ := run("-s", "-o", out, "--max-time", "2", s.URL+"/body"); c != 0 || o != "" {
		t.Fatalf("-o: %d %q", c, o)
	}
	if b, _ := os.ReadFile(out); string(b) != "hello" {
		t.Fatalf("file %q", b)
	}
	if c, _, _ := run("-fsS", "-o", "/dev/null", local+"/health"); c != 0 {
		t.Fatalf("-o /dev/null: %d", c)
	}
	// connection refused
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	free := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if c, _, e := run("-fsS", "http://localhost:"+itoa(free)+"/health"); c != 7 || !strings.Contains(e, "curl: (7) Failed to connect") {
		t.Fatalf("refused: %d %q", c, e)
	}
	if c, _, _ := run("--bogus", s.URL); c != 2 {
		t.Fatalf("bad option: %d", c)
	}
	if c, _, _ := run("-fsS", "https://localhost/"); c != 1 {
		t.Fatalf("https: %d", c)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
