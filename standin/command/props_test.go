package main

import "testing"

func TestRedactor(t *testing.T) {
	r := newRedactor([]string{"5", "hf_abcdef123", "hf_abcdef123456"})
	cases := []struct{ in, want string }{
		{"INFO 12-01 22:35:51 loading", "INFO 12-01 22:35:51 loading"}, // a short secret value is not redacted
		{"token hf_abcdef123456 used", "token [secret] used"},          // the longest match first
		{"token hf_abcdef123 used", "token [secret] used"},
	}
	for _, c := range cases {
		if got := r.apply(c.in); got != c.want {
			t.Errorf("apply(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
