package curl

import (
	"bytes"
	"encoding/pem"
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
	if c, _, _ := run("-fsS", "ftp://localhost/"); c != 1 {
		t.Fatalf("ftp: %d", c)
	}
}

// The gateway's gate: https verified against a CA file (or stdin), to a name
// the certificate holds, dialled at another address; curl's exit codes.
func TestCurlTLS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer s.Close()
	port := itoa(s.Listener.Addr().(*net.TCPAddr).Port)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	// httptest's certificate names example.com and 127.0.0.1.
	to := "example.com:" + port + ":127.0.0.1:" + port
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"trusted CA, name in the certificate", []string{"--cacert", ca, "--connect-to", to, "https://example.com:" + port + "/"}, 0, ""},
		{"trusted CA, by address", []string{"--cacert", ca, "https://127.0.0.1:" + port + "/"}, 0, ""},
		{"unknown CA", []string{"--connect-to", to, "https://example.com:" + port + "/"}, 60, "SSL certificate problem: unable to get local issuer certificate"},
		{"name not in the certificate", []string{"--cacert", ca, "--connect-to", "other.test:" + port + ":127.0.0.1:" + port, "https://other.test:" + port + "/"}, 60, "no alternative certificate subject name matches target host name 'other.test'"},
		{"insecure", []string{"-k", "--connect-to", to, "https://example.com:" + port + "/"}, 0, ""},
		{"CA file unreadable", []string{"--cacert", ca + ".missing", "https://127.0.0.1:" + port + "/"}, 77, "error setting certificate file"},
		{"plain http to a TLS port", []string{"http://127.0.0.1:" + port + "/"}, 22, "returned error: 400"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, e := run(append([]string{"-fsS", "-o", "/dev/null"}, c.args...)...)
			if code != c.code || !strings.Contains(e, c.err) {
				t.Fatalf("exit %d %q; want %d %q", code, e, c.code, c.err)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
