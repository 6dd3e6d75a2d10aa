// Package app is `vllm serve` played by the stand-in: parse the command line
// like vLLM, "download" into the HF cache, "load", then serve, with fault
// injection driven by STANDIN_* environment variables.
package app

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"myia.local/standin/vllm/argparse"
	"myia.local/standin/vllm/flagtable"
	"myia.local/standin/vllm/server"
	"myia.local/standin/vllm/vlog"
)

// DefaultFlagsFile is where the image keeps its flag table.
const DefaultFlagsFile = "/etc/vllm-standin/flags.json"

// Options are the process's inputs, injectable for tests.
type Options struct {
	Args   []string // os.Args[1:], e.g. ["serve", "Org/Model", "--port", "8000"]
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Stop   <-chan os.Signal // SIGTERM/SIGINT
	// Ready, if set, receives the listen address once serving (tests).
	Ready chan<- string
}

// Run is the whole `vllm serve` life; it returns the exit status.
func Run(o Options) int {
	env := o.Getenv
	if env == nil {
		env = os.Getenv
	}
	log := vlog.New(o.Stdout)

	tablePath := env("STANDIN_FLAGS_FILE")
	if tablePath == "" {
		tablePath = DefaultFlagsFile
	}
	tab, err := flagtable.Load(tablePath)
	if err != nil {
		fmt.Fprintf(o.Stderr, "vllm stand-in: cannot read the flag table %s: %v\n", tablePath, err)
		return 1
	}
	// Printed by vLLM at import time, before argument parsing.
	log.Info("__init__.py:216", "Automatically detected platform cuda.")

	p := argparse.New(tab)
	res, perr := p.ParseCLI(o.Args)
	if perr != nil {
		if perr.Code == 0 {
			fmt.Fprintln(o.Stdout, p.TopUsage())
			return 0
		}
		io.WriteString(o.Stderr, perr.Stderr())
		return perr.Code
	}
	if res.Version {
		fmt.Fprintln(o.Stdout, tab.VLLM)
		return 0
	}
	if res.Help {
		fmt.Fprintf(o.Stdout, "%s\n\nvLLM OpenAI-compatible server (stand-in for vLLM %s: no model runs here).\nAccepted options are those of %s.\n", argparse.ServeUsage, tab.VLLM, tablePath)
		return 0
	}

	// STANDIN_PARSE_ONLY: stop once the command line parsed, for tests that
	// hold our own flag check to this parser.
	if env("STANDIN_PARSE_ONLY") == "1" {
		fmt.Fprintln(o.Stdout, "parsed")
		return 0
	}

	log.Prefix = vlog.APIServerPrefix()
	for _, w := range res.Warnings {
		log.Warning("argparse_utils.py:75", "%s", w)
	}
	log.Info("api_server.py:1839", "vLLM API server version %s", tab.VLLM)
	log.Info("utils.py:233", "non-default args: %s", nonDefaultArgs(res))
	log.Info("standin.py:1", "This is the myia-vllm stand-in (no GPU, no model); flag table %s (vLLM %s)", tablePath, tab.VLLM)

	cfg, cerr := settings(res, env)
	if cerr != nil {
		log.Error("api_server.py:1900", "%v", cerr)
		return 1
	}
	if v := env("NVIDIA_VISIBLE_DEVICES"); v != "" {
		log.Info("standin.py:2", "NVIDIA_VISIBLE_DEVICES=%s (the stand-in uses no GPU)", v)
	}
	// The worker's GPU memory check, and the booking in the host's ledger (gpu.go).
	eng, code := startGPU(log, o.Stderr, res, env, tab.VLLM)
	if code >= 0 {
		return code
	}
	if eng != nil {
		defer eng.Release()
	}

	// ---- "download" into the HF cache ----
	if err := fetchWeights(log, res.Model, env, o.Stop); err != nil {
		if errors.Is(err, errStopped) {
			return 0
		}
		log.Error("core.py:708", "%v", err)
		fmt.Fprintf(o.Stderr, "Traceback (most recent call last):\n  File \"/usr/local/lib/python3.12/dist-packages/vllm/transformers_utils/config.py\", line 620, in get_config\nOSError: %v\n", err)
		return 1
	}

	// ---- "load" ----
	log.Info("gpu_model_runner.py:2602", "Starting to load model %s...", res.Model)
	log.Info("default_loader.py:267", "Loading model weights...")
	if strings.EqualFold(env("STANDIN_FAIL"), "unhealthy") {
		// Never gets to listening; keeps saying it is loading until stopped.
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-o.Stop:
				log.Info("launcher.py:99", "Shutting down FastAPI HTTP server.")
				return 0
			case <-t.C:
				log.Info("default_loader.py:267", "Loading model weights...")
			}
		}
	}
	if !sleepOrStop(seconds(env("STANDIN_LOAD_SECONDS"), 5), o.Stop) {
		return 0
	}
	log.Info("gpu_model_runner.py:2653", "Model loading took 0.0000 GiB and %.6f seconds", seconds(env("STANDIN_LOAD_SECONDS"), 5).Seconds())
	if strings.EqualFold(env("STANDIN_FAIL"), "crash") {
		log.Error("core.py:708", "EngineCore failed to start.")
		io.WriteString(o.Stderr, crashTraceback)
		return 1
	}
	log.Info("core.py:210", "init engine (profile, create kv cache, warmup model) took 0.01 seconds")

	// ---- serve ----
	addr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("api_server.py:1900", "%v", err)
		fmt.Fprintf(o.Stderr, "OSError: [Errno 98] error while attempting to bind on address ('%s', %d): address already in use\n", cfg.host, cfg.port)
		return 1
	}
	die := make(chan struct{})
	srvCfg := cfg.server
	srvCfg.Log = log
	if b, _ := res.Values["disable_uvicorn_access_log"].(bool); b {
		srvCfg.NoAccessLog = true
	}
	srvCfg.Version = tab.VLLM
	// SIGTERM as the release does: only releases with --shutdown-timeout
	// (0.34) end or drain streams; 0.11 leaves them stalled.
	srvCfg.Shutdown = server.ShutdownStall
	if tableHas(tab, "--shutdown-timeout") {
		srvCfg.Shutdown = server.ShutdownAbort
		if n, ok := res.Values["shutdown_timeout"].(int64); ok && n > 0 {
			srvCfg.Shutdown, srvCfg.ShutdownTimeout = server.ShutdownDrain, time.Duration(n)*time.Second
		}
	}
	// Sleep mode gives memory back only with --enable-sleep-mode (server/sleep.go).
	if b, _ := res.Values["enable_sleep_mode"].(bool); b {
		srvCfg.Sleep = server.SleepConfig{Enabled: true,
			SleepDelay: seconds(env("STANDIN_SLEEP_SECONDS"), 1), WakeDelay: seconds(env("STANDIN_WAKE_SECONDS"), 2)}
		if eng != nil {
			srvCfg.Sleep.Memory = eng
		}
	}
	srvCfg.OnDie = func() { close(die) }
	srv := server.New(srvCfg)

	stop := make(chan struct{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, stop) }()

	shownHost := cfg.host
	if shownHost == "" {
		shownHost = "0.0.0.0"
	}
	log.Info("api_server.py:1912", "Starting vLLM API server 0 on http://%s", net.JoinHostPort(shownHost, strconv.Itoa(cfg.port)))
	log.Info("launcher.py:34", "Available routes are:")
	for _, r := range server.RouteList(srvCfg.DevMode) {
		log.Info("launcher.py:42", "Route: %s", r)
	}
	log.Uvicorn("Started server process [%d]", os.Getpid())
	log.Uvicorn("Waiting for application startup.")
	log.Raw(fmt.Sprintf("STANDIN listening at %s\n", time.Now().UTC().Format(time.RFC3339Nano)))
	log.Uvicorn("Application startup complete.")
	if o.Ready != nil {
		o.Ready <- ln.Addr().String()
	}

	select {
	case <-o.Stop:
		log.Uvicorn("Shutting down")
		close(stop)
		<-served
		log.Uvicorn("Waiting for application shutdown.")
		log.Uvicorn("Application shutdown complete.")
		log.Uvicorn("Finished server process [%d]", os.Getpid())
		return 0
	case <-die:
		if why := srv.DieReason(); why != "" {
			log.Error("core.py:708", "EngineCore encountered a fatal error: %s", why)
		} else {
			log.Error("core.py:708", "EngineCore encountered a fatal error (stand-in: STANDIN_DIE_AFTER=%d requests answered).", cfg.server.DieAfter)
		}
		io.WriteString(o.Stderr, "vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.\n")
		close(stop)
		<-served
		return 1
	case err := <-served:
		log.Error("api_server.py:1900", "server stopped: %v", err)
		return 1
	}
}

const crashTraceback = `Process EngineCore_DP0:
Traceback (most recent call last):
  File "/usr/lib/python3.12/multiprocessing/process.py", line 314, in _bootstrap
    self.run()
  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py", line 712, in run_engine_core
    raise e
  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_worker.py", line 263, in determine_available_memory
    self.model_runner.profile_run()
RuntimeError: CUDA error: out of memory
CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.
(stand-in: STANDIN_FAIL=crash)
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
`

type settingsT struct {
	host   string
	port   int
	server server.Config
}

func settings(res *argparse.Result, env func(string) string) (*settingsT, error) {
	s := &settingsT{host: "0.0.0.0", port: 8000}
	if h, ok := res.Values["host"].(string); ok && h != "" {
		s.host = h
	}
	if p, ok := res.Values["port"].(int64); ok {
		if p < 0 || p > 65535 {
			return nil, fmt.Errorf("port must be 0-65535, got %d", p)
		}
		s.port = int(p)
	}
	c := &s.server
	c.Model = res.Model
	switch v := res.Values["served_model_name"].(type) {
	case []any:
		for _, n := range v {
			if str, ok := n.(string); ok {
				c.ServedNames = append(c.ServedNames, str)
			}
		}
	case string:
		c.ServedNames = []string{v}
	}
	c.MaxModelLen = 32768
	if n, ok := res.Values["max_model_len"].(int64); ok && n > 0 {
		c.MaxModelLen = n
	}
	// --api-key takes precedence over VLLM_API_KEY, as in vLLM (even when
	// its values are empty: `--api-key ""` turns authentication off).
	_, keyGiven := res.Values["api_key"]
	switch v := res.Values["api_key"].(type) {
	case []any:
		for _, k := range v {
			if str, ok := k.(string); ok && str != "" {
				c.APIKeys = append(c.APIKeys, str)
			}
		}
	case string:
		if v != "" {
			c.APIKeys = []string{v}
		}
	}
	if !keyGiven && env("VLLM_API_KEY") != "" {
		c.APIKeys = []string{env("VLLM_API_KEY")}
	}
	c.MMLimits = mmLimits(res)
	if n, err := strconv.Atoi(env("STANDIN_DIE_AFTER")); err == nil && n > 0 {
		c.DieAfter = n
	}
	if n, err := strconv.Atoi(env("STANDIN_TOKEN_MS")); err == nil && n > 0 {
		c.TokenDelay = time.Duration(n) * time.Millisecond
	}
	c.DevMode = env("VLLM_SERVER_DEV_MODE") == "1"
	return s, nil
}

// tableHas tells whether the release's parser has that option.
func tableHas(t *flagtable.Table, name string) bool {
	for _, o := range t.Options {
		for _, n := range o.Names {
			if n == name {
				return true
			}
		}
	}
	return false
}

// mmLimits is --limit-mm-per-prompt, or a default from the model's name:
// vision-language models (…-VL-…, llava, …vision…) take many images, others none.
func mmLimits(res *argparse.Result) map[string]int {
	limits := map[string]int{}
	if v, ok := res.Values["limit_mm_per_prompt"]; ok && v != nil {
		if m, ok := argparse.ToPlain(v).(map[string]any); ok {
			for k, x := range m {
				switch n := x.(type) {
				case int64:
					limits[k] = int(n)
				case float64:
					limits[k] = int(n)
				case map[string]any: // newer form: {"image": {"count": 3, ...}}
					if c, ok := n["count"].(int64); ok {
						limits[k] = int(c)
					}
				}
			}
			return limits
		}
	}
	name := strings.ToLower(res.Model)
	if strings.Contains(name, "-vl") || strings.Contains(name, "llava") || strings.Contains(name, "vision") {
		for _, m := range []string{"image", "video", "audio"} {
			limits[m] = 999
		}
	}
	return limits
}

var secretWords = []string{"key", "token", "secret", "password", "passwd", "credential"}

// nonDefaultArgs is vLLM's "non-default args" dict, secrets redacted.
func nonDefaultArgs(res *argparse.Result) string {
	var parts []string
	for _, dest := range res.Order {
		v := res.Values[dest]
		shown := argparse.PyRepr(v)
		for _, w := range secretWords {
			if strings.Contains(strings.ToLower(dest), w) {
				shown = "'<redacted>'"
				break
			}
		}
		parts = append(parts, fmt.Sprintf("'%s': %s", dest, shown))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func seconds(s string, def float64) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		f = def
	}
	return time.Duration(f * float64(time.Second))
}

// sleepOrStop sleeps d; false if stopped first.
func sleepOrStop(d time.Duration, stop <-chan os.Signal) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// Signals the process handles.
var Signals = []os.Signal{syscall.SIGTERM, os.Interrupt}
