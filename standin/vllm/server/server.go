// Package server is the stand-in's HTTP side: the routes of vLLM's
// OpenAI-compatible server that the project uses, answered without a model.
package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"myia.local/standin/vllm/vlog"
)

// Config is what the server needs from the parsed command line.
type Config struct {
	Version     string         // vLLM version of the flag table
	Model       string         // the model (HF id or path)
	ServedNames []string       // --served-model-name, else [Model]
	MaxModelLen int64          // reported by /v1/models
	APIKeys     []string       // --api-key values, else VLLM_API_KEY; empty: no auth
	MMLimits    map[string]int // per-prompt limits by modality ("image", "video", "audio")
	DieAfter    int            // STANDIN_DIE_AFTER: after this many /v1 answers, call OnDie (0: never)
	OnDie       func()
	Log         *vlog.Logger // nil: no logging
	NoAccessLog bool         // --disable-uvicorn-access-log
	Started     time.Time
	// DevMode is VLLM_SERVER_DEV_MODE=1: the engine-control routes are mounted too.
	DevMode bool
	// TokenDelay is STANDIN_TOKEN_MS: the time between two streamed tokens
	// (and per token before a whole reply), so a stream is paced like a model's.
	TokenDelay time.Duration
	// Shutdown is what SIGTERM does to requests in flight, as the release does (shutdown.go).
	Shutdown Shutdown
	// ShutdownTimeout is --shutdown-timeout (ShutdownDrain's bound).
	ShutdownTimeout time.Duration
	// Sleep is the sleep router, mounted in DevMode (sleep.go).
	Sleep SleepConfig
}

// Server answers the routes.
type Server struct {
	cfg      Config
	keys     [][32]byte
	v1Count  atomic.Int64
	dieOnce  sync.Once
	running  atomic.Int64
	promptT  atomic.Int64
	genT     atomic.Int64
	success  atomic.Int64
	abortN   atomic.Int64
	mux      *http.ServeMux
	createdS int64
	term     chan struct{}
	termOnce sync.Once
	termAt   time.Time
	sl       sleepState
	dieWhy   atomic.Value // string: why OnDie was called
}

// New builds a server.
func New(cfg Config) *Server {
	if len(cfg.ServedNames) == 0 {
		cfg.ServedNames = []string{cfg.Model}
	}
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	if cfg.Sleep.API == 0 {
		cfg.Sleep.API = SleepAPIFor(cfg.Version)
	}
	s := &Server{cfg: cfg, createdS: cfg.Started.Unix(), term: make(chan struct{})}
	for _, k := range cfg.APIKeys {
		if k != "" {
			s.keys = append(s.keys, sha256.Sum256([]byte(k)))
		}
	}
	m := http.NewServeMux()
	m.HandleFunc("/health", s.health)
	m.HandleFunc("/version", s.version)
	m.HandleFunc("/metrics", s.metrics)
	m.HandleFunc("/v1/models", s.models)
	m.HandleFunc("/v1/chat/completions", s.chat)
	s.mountOpenRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
	})
	s.mux = m
	return s
}

// ServeHTTP applies vLLM's middlewares (auth on /v1, access log) then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	isV1 := strings.HasPrefix(r.URL.Path, "/v1")
	if isV1 && r.Method != http.MethodOptions && len(s.keys) > 0 && !s.authorized(r) {
		writeJSON(rec, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
	} else if s.gate(rec, r) {
		s.mux.ServeHTTP(rec, r)
	}
	if s.cfg.Log != nil && !s.cfg.NoAccessLog {
		s.cfg.Log.Uvicorn("%s - \"%s %s HTTP/%d.%d\" %d %s", r.RemoteAddr, r.Method, r.URL.RequestURI(),
			r.ProtoMajor, r.ProtoMinor, rec.status, http.StatusText(rec.status))
	}
	if isV1 && s.cfg.DieAfter > 0 && s.v1Count.Add(1) >= int64(s.cfg.DieAfter) && s.cfg.OnDie != nil {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		s.die("")
	}
}

// die calls OnDie once; why ("" for STANDIN_DIE_AFTER) is kept for DieReason.
func (s *Server) die(why string) {
	if s.cfg.OnDie == nil {
		return
	}
	s.dieOnce.Do(func() {
		s.dieWhy.Store(why)
		go s.cfg.OnDie()
	})
}

// DieReason is why the engine died ("" when STANDIN_DIE_AFTER ran out).
func (s *Server) DieReason() string {
	why, _ := s.dieWhy.Load().(string)
	return why
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		return false
	}
	scheme, param, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") {
		return false
	}
	got := sha256.Sum256([]byte(param))
	ok := 0
	for _, k := range s.keys {
		ok |= subtle.ConstantTimeCompare(got[:], k[:])
	}
	return ok == 1
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// writeError writes vLLM's ErrorResponse. vLLM 0.11 and later nest it under
// "error"; the same fields are repeated at the top level for clients written
// against the older flat shape ({"object":"error","message":...}).
func writeError(w http.ResponseWriter, code int, typ, msg string) {
	info := map[string]any{"message": msg, "type": typ, "param": nil, "code": code}
	writeJSON(w, code, map[string]any{
		"error":  info,
		"object": "error", "message": msg, "type": typ, "param": nil, "code": code,
	})
}

func methodNotAllowed(w http.ResponseWriter) {
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w)
		return
	}
	writeJSON(w, 200, map[string]any{"version": s.cfg.Version})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w)
		return
	}
	var b strings.Builder
	lbl := func(extra string) string {
		l := fmt.Sprintf(`engine="0",model_name=%q`, s.cfg.ServedNames[0])
		if extra != "" {
			l += "," + extra
		}
		return "{" + l + "}"
	}
	metric := func(name, typ, help string, v float64, extra string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %s\n", name, help, name, typ, name, lbl(extra), fmtFloat(v))
	}
	metric("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", float64(s.running.Load()), "")
	metric("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", 0, "")
	metric("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.", 0, "")
	metric("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", 0, "")
	name := "vllm:prompt_tokens_total"
	fmt.Fprintf(&b, "# HELP %s Number of prefill tokens processed.\n# TYPE %s counter\n%s%s %s\n", name, name, name, lbl(""), fmtFloat(float64(s.promptT.Load())))
	name = "vllm:generation_tokens_total"
	fmt.Fprintf(&b, "# HELP %s Number of generation tokens processed.\n# TYPE %s counter\n%s%s %s\n", name, name, name, lbl(""), fmtFloat(float64(s.genT.Load())))
	name = "vllm:request_success_total"
	fmt.Fprintf(&b, "# HELP %s Count of successfully processed requests.\n# TYPE %s counter\n", name, name)
	for _, reason := range []string{"abort", "length", "stop"} {
		v := 0.0
		switch reason {
		case "stop":
			v = float64(s.success.Load())
		case "abort":
			v = float64(s.abortN.Load())
		}
		fmt.Fprintf(&b, "%s%s %s\n", name, lbl(fmt.Sprintf(`finished_reason=%q`, reason)), fmtFloat(v))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(200)
	w.Write([]byte(b.String()))
}

func fmtFloat(v float64) string {
	s := fmt.Sprintf("%g", v)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w)
		return
	}
	var data []any
	for _, n := range s.cfg.ServedNames {
		data = append(data, map[string]any{
			"id": n, "object": "model", "created": s.createdS, "owned_by": "vllm",
			"root": s.cfg.Model, "parent": nil, "max_model_len": s.cfg.MaxModelLen,
			"permission": []any{map[string]any{
				"id": "modelperm-standin", "object": "model_permission", "created": s.createdS,
				"allow_create_engine": false, "allow_sampling": true, "allow_logprobs": true,
				"allow_search_indices": false, "allow_view": true, "allow_fine_tuning": false,
				"organization": "*", "group": nil, "is_blocking": false,
			}},
		})
	}
	writeJSON(w, 200, map[string]any{"object": "list", "data": data})
}

func (s *Server) modelKnown(name string) bool {
	if name == "" {
		return true
	}
	for _, n := range s.cfg.ServedNames {
		if n == name {
			return true
		}
	}
	return false
}

// Serve serves on ln until stop is closed; then it shuts down as vLLM does
// at this release on SIGTERM (shutdown.go decides how long that takes).
func (s *Server) Serve(ln net.Listener, stop <-chan struct{}) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-stop:
	}
	s.shutdown(srv)
	return nil
}

func sortedKeys(m map[string]int) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
