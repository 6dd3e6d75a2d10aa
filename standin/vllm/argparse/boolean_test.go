package argparse

import "testing"

func TestBooleanValue(t *testing.T) {
	// As vLLM 0.34's EnableDisableAction registers them (flags/v0.34.0.json).
	ep := []string{"--enable-expert-parallel", "--no-enable-expert-parallel", "-ep", "--disable-expert-parallel"}
	log := []string{"--disable-uvicorn-access-log", "--no-disable-uvicorn-access-log", "--enable-uvicorn-access-log"}
	plain := []string{"--enforce-eager", "--no-enforce-eager"}
	cases := []struct {
		names []string
		opt   string
		want  bool
	}{
		{ep, "--enable-expert-parallel", true},
		{ep, "-ep", true},
		{ep, "--no-enable-expert-parallel", false},
		{ep, "--disable-expert-parallel", false},
		{log, "--disable-uvicorn-access-log", true},
		{log, "--enable-uvicorn-access-log", false},
		{log, "--no-disable-uvicorn-access-log", false},
		{plain, "--enforce-eager", true},
		{plain, "--no-enforce-eager", false},
	}
	for _, c := range cases {
		if got := booleanValue(c.names, c.opt); got != c.want {
			t.Errorf("%s: got %v, want %v", c.opt, got, c.want)
		}
	}
}
