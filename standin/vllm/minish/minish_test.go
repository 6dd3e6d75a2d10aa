package minish

import (
	"bytes"
	"testing"
)

func TestRun(t *testing.T) {
	env := map[string]string{"PORT": "8000"}
	get := func(k string) string { return env[k] }
	for _, c := range []struct {
		line string
		code int
		out  string
	}{
		{"true", 0, ""},
		{"false", 1, ""},
		{"false || exit 3", 3, ""},
		{"true || exit 3", 0, ""},
		{"false && echo no", 1, ""},
		{"true && echo yes", 0, "yes\n"},
		{"echo 'a  b' \"p=$PORT\" ${PORT}x; exit 4", 4, "a  b p=8000 8000x\n"},
		{"false && echo no || echo fallback", 0, "fallback\n"},
		{"/nonexistent/cmd", 127, ""},
	} {
		var o, e bytes.Buffer
		if code := Run(c.line, get, &o, &e); code != c.code || o.String() != c.out {
			t.Errorf("%q: %d %q, want %d %q (%s)", c.line, code, o.String(), c.code, c.out, e.String())
		}
	}
}
