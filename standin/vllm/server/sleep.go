package server

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SleepAPI is the shape of vLLM's sleep router at a release.
type SleepAPI int

const (
	// Sleep011: vllm/entrypoints/openai/api_server.py:1001-1026 (0.11.0):
	// ?level only, empty 200s; no pause: a request that reaches the
	// sleeping engine kills it (CUDA illegal memory access, vLLM issue #15483).
	Sleep011 SleepAPI = iota + 1
	// Sleep020: vllm/entrypoints/serve/sleep/api_router.py (0.20.0, 0.21.0):
	// ?level&mode (EngineCore.sleep pauses the scheduler first; requests
	// wait while paused), empty 200s.
	Sleep020
	// Sleep034: vllm/entrypoints/serve/dev/sleep/api_router.py (0.34.0):
	// validated Query params, JSON answers, wake_up says if fully awake.
	Sleep034
)

// SleepAPIFor picks the router of a vLLM version.
func SleepAPIFor(version string) SleepAPI {
	switch {
	case VersionAtLeast(version, "0.34"):
		return Sleep034
	case VersionAtLeast(version, "0.20"):
		return Sleep020
	}
	return Sleep011
}

// VersionAtLeast compares dotted release numbers ("0.11.0" >= "0.20": false).
func VersionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(strings.TrimLeft(a[i], "v"))
		}
		y, _ = strconv.Atoi(b[i])
		if x != y {
			return x > y
		}
	}
	return true
}

// SleepRoute is one route of the sleep router: path, method, query params.
type SleepRoute struct {
	Path, Method string
	Params       []string
}

// SleepRoutes is the route table the stand-in mounts for a router shape
// (held to vLLM's source by sleep_xcheck_test.go).
func SleepRoutes(api SleepAPI) []SleepRoute {
	sleep := []string{"level"}
	switch api {
	case Sleep020:
		sleep = []string{"level", "mode"}
	case Sleep034:
		sleep = []string{"level", "mode", "reset_connector"}
	}
	return []SleepRoute{{"/sleep", "POST", sleep}, {"/wake_up", "POST", []string{"tags"}}, {"/is_sleeping", "GET", nil}}
}

// Memory is the engine's GPU memory (the ledger); nil when not accounted.
type Memory interface {
	Sleep() (freedMiB, usedMiB int64, err error)
	Wake(tags []string) error
}

// SleepConfig is the sleep router. vLLM mounts it with VLLM_SERVER_DEV_MODE=1
// alone; only --enable-sleep-mode (the CuMemAllocator pool) makes sleeping
// give memory back. Without it the engine still says it sleeps (and, from
// 0.20, pauses its scheduler), but frees nothing, in no time, and a 0.11
// engine keeps serving.
type SleepConfig struct {
	API        SleepAPI      // 0: the release's (SleepAPIFor(Config.Version))
	Enabled    bool          // --enable-sleep-mode
	Memory     Memory        // nil: not accounted (or not Enabled)
	SleepDelay time.Duration // STANDIN_SLEEP_SECONDS (Enabled only)
	WakeDelay  time.Duration // STANDIN_WAKE_SECONDS (Enabled only)
}

type sleepState struct {
	mu      sync.Mutex
	tags    map[string]bool // the executor's sleeping tags
	paused  bool            // the scheduler (0.20+)
	resumed chan struct{}   // closed when the scheduler resumes
}

func (s *Server) asleep() bool {
	s.sl.mu.Lock()
	defer s.sl.mu.Unlock()
	return s.sl.paused || len(s.sl.tags) > 0
}

// gate is what an inference request meets while the engine sleeps; false:
// it was answered here.
func (s *Server) gate(w http.ResponseWriter, r *http.Request) bool {
	if !s.cfg.DevMode || r.Method != http.MethodPost || !isInference(r.URL.Path) {
		return true
	}
	s.sl.mu.Lock()
	sleeping, paused, resumed := len(s.sl.tags) > 0, s.sl.paused, s.sl.resumed
	s.sl.mu.Unlock()
	if s.cfg.Sleep.API == Sleep011 {
		if !sleeping || !s.cfg.Sleep.Enabled {
			return true
		}
		// The engine runs the model on memory it gave back: it dies.
		writeError(w, 500, "InternalServerError", "EngineCore encountered an issue. See stack trace (above) for the root cause.")
		s.die("RuntimeError: CUDA error: an illegal memory access was encountered (a request reached the sleeping engine)")
		return false
	}
	if !paused {
		return true
	}
	select { // requests are accepted and wait for the scheduler to resume
	case <-resumed:
		return true
	case <-r.Context().Done():
		return false
	case <-s.term:
		writeError(w, 500, "InternalServerError", "The server is shutting down.")
		return false
	}
}

func isInference(p string) bool {
	switch p {
	case "/v1/chat/completions", "/v1/completions", "/invocations", "/inference/v1/generate":
		return true
	}
	return false
}

func (s *Server) logInfo(loc, format string, a ...any) {
	if s.cfg.Log != nil {
		s.cfg.Log.Info(loc, format, a...)
	}
}

func (s *Server) mountSleep(m *http.ServeMux) {
	api := s.cfg.Sleep.API
	m.HandleFunc("/is_sleeping", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w)
			return
		}
		if api == Sleep011 {
			s.logInfo("api_server.py:1024", "check whether the engine is sleeping")
		}
		writeJSON(w, 200, map[string]any{"is_sleeping": s.asleep()})
	})
	m.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			methodNotAllowed(w)
			return
		}
		level, mode, ok := sleepParams(w, r, api)
		if !ok {
			return
		}
		if err := s.sleep(level, mode); err != nil {
			internalError(w)
			return
		}
		if api == Sleep034 {
			writeJSON(w, 200, map[string]any{"status": "sleeping", "level": level})
			return
		}
		emptyOK(w)
	})
	m.HandleFunc("/wake_up", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			methodNotAllowed(w)
			return
		}
		tags := r.URL.Query()["tags"]
		s.logInfo(map[SleepAPI]string{Sleep011: "api_server.py:1016", Sleep020: "api_router.py:39", Sleep034: "api_router.py:54"}[api],
			"wake up the engine with tags: %s", pyList(tags))
		fully, err := s.wake(tags)
		if err != nil {
			internalError(w)
			return
		}
		if api == Sleep034 {
			status := "sleeping"
			if fully {
				status = "awake"
			}
			var t any
			if len(tags) > 0 {
				t = tags
			}
			writeJSON(w, 200, map[string]any{"status": status, "tags": t})
			return
		}
		emptyOK(w)
	})
}

// emptyOK is Starlette's Response(status_code=200): no body, no content type.
func emptyOK(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(200)
}

// internalError is Starlette's answer to an unhandled exception.
func internalError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(500)
	w.Write([]byte("Internal Server Error"))
}

func pyList(tags []string) string {
	if len(tags) == 0 {
		return "None"
	}
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = "'" + t + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func pySet(m map[string]bool) string {
	var k []string
	for t := range m {
		k = append(k, "'"+t+"'")
	}
	sort.Strings(k)
	return "{" + strings.Join(k, ", ") + "}"
}

// sleep is EngineCore.sleep: pause (0.20+), then the executor's sleep.
func (s *Server) sleep(level int, mode string) error {
	api := s.cfg.Sleep.API
	if api != Sleep011 {
		if mode == "wait" { // in-flight requests finish first
			for s.running.Load() > 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		s.sl.mu.Lock()
		if !s.sl.paused {
			s.sl.paused, s.sl.resumed = true, make(chan struct{})
		}
		s.sl.mu.Unlock()
		if level < 1 {
			return nil
		}
	}
	s.sl.mu.Lock()
	defer s.sl.mu.Unlock()
	already := len(s.sl.tags) > 0
	if api != Sleep011 {
		already = s.sl.tags["weights"]
	}
	if already {
		s.warn("Executor is already sleeping.")
		return nil
	}
	t0 := time.Now()
	if s.cfg.Sleep.Enabled {
		time.Sleep(s.cfg.Sleep.SleepDelay)
	}
	if m := s.cfg.Sleep.Memory; m != nil && s.cfg.Sleep.Enabled {
		freed, used, err := m.Sleep()
		if err != nil {
			return err
		}
		s.logInfo("gpu_worker.py:118", "Sleep mode freed %.2f GiB memory, %.2f GiB memory is still in use.", float64(freed)/1024, float64(used)/1024)
	}
	s.sl.tags = map[string]bool{"weights": true, "kv_cache": true}
	s.logInfo("abstract.py:446", "It took %.6f seconds to fall asleep.", time.Since(t0).Seconds())
	return nil
}

// wake is EngineCore.wake_up; it tells whether the engine is fully awake.
func (s *Server) wake(tags []string) (bool, error) {
	api := s.cfg.Sleep.API
	s.sl.mu.Lock()
	defer s.sl.mu.Unlock()
	if api != Sleep011 {
		var rest []string
		for _, t := range tags {
			if t != "scheduling" {
				rest = append(rest, t)
			}
		}
		if len(tags) > 0 && len(rest) == 0 {
			tags = []string{} // only "scheduling": no executor wake
		} else {
			tags = rest
		}
	}
	if tags == nil || len(tags) > 0 {
		if err := s.executorWake(tags); err != nil {
			return false, err
		}
	}
	fully := len(s.sl.tags) == 0
	// 0.20/0.21 resume the scheduler on every wake_up; 0.34 once fully awake.
	if s.sl.paused && (api == Sleep020 || fully) {
		s.sl.paused = false
		close(s.sl.resumed)
	}
	return fully, nil
}

func (s *Server) executorWake(tags []string) error {
	if len(s.sl.tags) == 0 {
		s.warn("Executor is not sleeping.")
		return nil
	}
	for _, t := range tags {
		if !s.sl.tags[t] {
			s.warn(fmt.Sprintf("Tag %s is not in sleeping tags %s", t, pySet(s.sl.tags)))
			return nil
		}
	}
	t0 := time.Now()
	shown := pyList(tags)
	if len(tags) == 0 {
		shown = pySet(s.sl.tags)
	}
	if m := s.cfg.Sleep.Memory; m != nil && s.cfg.Sleep.Enabled {
		if err := m.Wake(tags); err != nil {
			if s.cfg.Log != nil {
				s.cfg.Log.Error("cumem.py:215", "%v", err)
			}
			return err
		}
	}
	if s.cfg.Sleep.Enabled {
		time.Sleep(s.cfg.Sleep.WakeDelay)
	}
	if len(tags) == 0 {
		s.sl.tags = map[string]bool{}
	}
	for _, t := range tags {
		delete(s.sl.tags, t)
	}
	s.logInfo("abstract.py:464", "It took %.6f seconds to wake up tags %s.", time.Since(t0).Seconds(), shown)
	return nil
}

func (s *Server) warn(msg string) {
	if s.cfg.Log != nil {
		s.cfg.Log.Warning("abstract.py:440", "%s", msg)
	}
}
