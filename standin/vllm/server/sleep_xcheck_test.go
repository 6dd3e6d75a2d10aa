package server

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The sleep router of each pinned-or-cached release, read from vLLM's own
// source (the wheels unpacked at $MYIA_CACHE/catalog/pkgs/<version>/vllm):
// route paths, methods and query parameters must be the stand-in's
// (SleepRoutes), and so must 0.34's validation (level bounds, PauseMode).
var sleepSources = []struct {
	version, file string
	only          []string // routes of that file that belong to the sleep router (nil: all)
}{
	{"0.11.0", "vllm/entrypoints/openai/api_server.py", []string{"/sleep", "/wake_up", "/is_sleeping"}},
	{"0.20.0", "vllm/entrypoints/serve/sleep/api_router.py", nil},
	{"0.21.0", "vllm/entrypoints/serve/sleep/api_router.py", nil},
	{"0.34.0", "vllm/entrypoints/serve/dev/sleep/api_router.py", nil},
}

// notModelled: routes of vLLM's sleep router the stand-in does not mount.
var notModelled = map[string]bool{"/release_kv_cache_memory": true}

func pkgsDir() string {
	c := os.Getenv("MYIA_CACHE")
	if c == "" {
		home, _ := os.UserHomeDir()
		c = filepath.Join(home, ".cache", "myia-vllm")
	}
	return filepath.Join(c, "catalog", "pkgs")
}

var (
	routeRe  = regexp.MustCompile(`(?m)^([ \t]*)@router\.(get|post)\("([^"]+)"\)`)
	queryRe  = regexp.MustCompile(`query_params\.(?:get|getlist)\("([a-z_]+)"`)
	annotRe  = regexp.MustCompile(`(?m)^\s+([a-z_]+): Annotated\[[^\n]*Query\(`)
	boundsRe = regexp.MustCompile(`level: Annotated\[int, Query\(ge=(\d+), le=(\d+)\)\] = (\d+)`)
	pauseRe  = regexp.MustCompile(`PauseMode = Literal\[([^\]]*)\]`)
)

// parseRoutes reads the decorated handlers of a FastAPI router file.
func parseRoutes(src string) map[string]SleepRoute {
	out := map[string]SleepRoute{}
	locs := routeRe.FindAllStringSubmatchIndex(src, -1)
	for i, l := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := src[l[1]:end]
		// the handler ends at the first line indented no deeper than its decorator
		indent := src[l[2]:l[3]]
		lines := strings.Split(body, "\n")
		for j := 2; j < len(lines); j++ {
			ln := lines[j]
			if strings.TrimSpace(ln) != "" && !strings.HasPrefix(ln, indent+" ") && !strings.HasPrefix(strings.TrimLeft(ln, " "), ")") {
				body = strings.Join(lines[:j], "\n")
				break
			}
		}
		var params []string
		for _, m := range append(annotRe.FindAllStringSubmatch(body, -1), queryRe.FindAllStringSubmatch(body, -1)...) {
			if !slices.Contains(params, m[1]) {
				params = append(params, m[1])
			}
		}
		path := src[l[6]:l[7]]
		out[path] = SleepRoute{Path: path, Method: strings.ToUpper(src[l[4]:l[5]]), Params: params}
	}
	return out
}

func TestSleepRoutesMatchVLLMSource(t *testing.T) {
	dir := pkgsDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no unpacked vLLM wheels at %s (the catalog's package cache): nothing to hold the sleep routes to", dir)
	}
	checked := 0
	for _, s := range sleepSources {
		b, err := os.ReadFile(filepath.Join(dir, s.version, s.file))
		if err != nil {
			t.Logf("vLLM %s: %v (skipped)", s.version, err)
			continue
		}
		checked++
		real := parseRoutes(string(b))
		mine := map[string]SleepRoute{}
		for _, r := range SleepRoutes(SleepAPIFor(s.version)) {
			mine[r.Path] = r
		}
		for path, r := range real {
			if s.only != nil && !slices.Contains(s.only, path) {
				continue
			}
			m, ok := mine[path]
			switch {
			case !ok && notModelled[path]:
				t.Logf("vLLM %s: %s %s is not modelled by the stand-in", s.version, r.Method, path)
			case !ok:
				t.Errorf("vLLM %s has %s %s %v; the stand-in does not", s.version, r.Method, path, r.Params)
			case m.Method != r.Method || !slices.Equal(sorted(m.Params), sorted(r.Params)):
				t.Errorf("vLLM %s: %s %s %v; the stand-in: %s %v", s.version, r.Method, path, r.Params, m.Method, m.Params)
			}
		}
		for path := range mine {
			if _, ok := real[path]; !ok {
				t.Errorf("the stand-in mounts %s for vLLM %s, which has no such route in %s", path, s.version, s.file)
			}
		}
		if m := boundsRe.FindStringSubmatch(string(b)); m != nil && (m[1] != "0" || m[2] != "2" || m[3] != "1") {
			t.Errorf("vLLM %s: level is Query(ge=%s, le=%s) = %s; sleepparams.go checks 0..2, default 1", s.version, m[1], m[2], m[3])
		}
		if init, err := os.ReadFile(filepath.Join(dir, s.version, "vllm/v1/engine/__init__.py")); err == nil {
			if m := pauseRe.FindStringSubmatch(string(init)); m != nil && strings.ReplaceAll(m[1], " ", "") != `"abort","wait","keep"` {
				t.Errorf("vLLM %s: PauseMode is Literal[%s]; the stand-in accepts abort, wait, keep", s.version, m[1])
			}
		}
	}
	if checked == 0 {
		t.Skipf("none of the releases' sleep routers is under %s", dir)
	}
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// The parser itself, on a router written like vLLM's.
func TestParseRoutes(t *testing.T) {
	src := "router = APIRouter()\n\n\n@router.post(\"/sleep\")\nasync def sleep(\n    raw_request: Request,\n    level: Annotated[int, Query(ge=0, le=2)] = 1,\n    mode: Annotated[PauseMode, Query()] = \"abort\",\n) -> JSONResponse:\n    return 1\n\n\n@router.post(\"/wake_up\")\nasync def wake_up(raw_request: Request):\n    tags = raw_request.query_params.getlist(\"tags\")\n\n\ndef attach_router(app):\n    x = raw_request.query_params.get(\"not_a_route_param\")\n"
	got := parseRoutes(src)
	want := map[string]SleepRoute{"/sleep": {"/sleep", "POST", []string{"level", "mode"}}, "/wake_up": {"/wake_up", "POST", []string{"tags"}}}
	for p, w := range want {
		if g := got[p]; g.Method != w.Method || !slices.Equal(g.Params, w.Params) {
			t.Errorf("%s: %+v, want %+v", p, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("routes: %+v", got)
	}
}
