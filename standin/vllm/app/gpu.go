package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"myia.local/standin/vllm/argparse"
	"myia.local/standin/vllm/gpumem"
	"myia.local/standin/vllm/server"
	"myia.local/standin/vllm/vlog"
)

// startGPU is the worker's memory check and booking, when the container
// was given GPUs by the stand-in hook (a grant file and the ledger mounted);
// without a grant there is no accounting (nil, as before the ledger).
// code >= 0: the process ends with it.
func startGPU(log *vlog.Logger, stderr io.Writer, res *argparse.Result, env func(string) string, version string) (eng *gpumem.Engine, code int) {
	grantPath, dir := env("STANDIN_GPU_GRANT"), env("STANDIN_GPU_LEDGER")
	if grantPath == "" {
		grantPath = gpumem.DefaultGrantFile
	}
	if dir == "" {
		dir = gpumem.DefaultLedgerDir
	}
	grant, err := gpumem.ReadGrant(grantPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, -1
	}
	if err != nil {
		log.Warning("standin.py:3", "GPU ledger not used: %v", err)
		return nil, -1
	}
	l := gpumem.Ledger{Dir: dir}
	host, err := l.Baseline()
	if err == nil {
		var gpus []gpumem.GPU
		if gpus, err = gpumem.Resolve(grant.Devices, host); err == nil {
			eng = &gpumem.Engine{Ledger: l, Grant: grant, GPUs: worldGPUs(res, gpus), Util: utilization(res),
				LeftoverMiB: mib(env("STANDIN_SLEEP_LEFTOVER_MIB"), 1280), WeightsMiB: mib(env("STANDIN_WEIGHTS_MIB"), 0),
				UnusedMiB: mib(env("STANDIN_GPU_UNUSED_MIB"), 200),
				Header:    "model=" + res.Model}
		}
	}
	if err != nil {
		log.Warning("standin.py:3", "GPU ledger %s not used: %v", dir, err)
		return nil, -1
	}
	err = eng.Start(server.VersionAtLeast(version, "0.20"))
	var short *gpumem.ShortError
	if errors.As(err, &short) {
		refuse(log, stderr, short, len(eng.GPUs), version)
		return nil, 1
	}
	if err != nil {
		log.Warning("standin.py:3", "GPU ledger %s not used: %v", dir, err)
		return nil, -1
	}
	var shown []string
	for _, g := range eng.GPUs {
		shown = append(shown, fmt.Sprintf("GPU %d: %d MiB of a %d MiB budget", g.Index, eng.InUseMiB(), eng.BudgetMiB(g)))
	}
	log.Info("standin.py:4", "booked in the GPU ledger (%s): %s", dir, strings.Join(shown, ", "))
	return eng, -1
}

// worldGPUs: vLLM uses cuda:0 .. cuda:(tp×pp - 1) of the GPUs it sees.
func worldGPUs(res *argparse.Result, gpus []gpumem.GPU) []gpumem.GPU {
	world := int64(1)
	for _, k := range []string{"tensor_parallel_size", "pipeline_parallel_size"} {
		if n, ok := res.Values[k].(int64); ok && n > 0 {
			world *= n
		}
	}
	if int(world) < len(gpus) {
		return gpus[:world]
	}
	return gpus
}

func utilization(res *argparse.Result) float64 {
	if f, ok := res.Values["gpu_memory_utilization"].(float64); ok && f > 0 {
		return f
	}
	return 0.9 // vLLM's default (CacheConfig.gpu_memory_utilization)
}

func mib(s string, def int64) int64 {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n >= 0 {
		return n
	}
	return def
}

// refuse prints vLLM's failure: the worker's ValueError (in a worker
// process with tensor parallelism), EngineCore's "failed to start", then the
// API server's RuntimeError; exit 1 (vllm/v1/engine/utils.py,
// wait_for_engine_startup: 0.11.0 line 785, 0.34.0 line 1478). The frames
// in between are 0.11's (gpu_worker.py's init_device: 0.20's line 283).
func refuse(log *vlog.Logger, stderr io.Writer, e *gpumem.ShortError, world int, version string) {
	site := `  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_worker.py", line 187, in init_device
    raise ValueError(`
	if server.VersionAtLeast(version, "0.20") {
		line := 413
		if server.VersionAtLeast(version, "0.34") {
			line = 789
		}
		site = fmt.Sprintf(`  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_worker.py", line 283, in init_device
    self.requested_memory = request_memory(init_snapshot, self.cache_config)
  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/utils.py", line %d, in request_memory
    raise ValueError(`, line)
	}
	ready, startup := 482, 785 // multiproc_executor.py wait_for_ready, engine/utils.py wait_for_engine_startup
	if server.VersionAtLeast(version, "0.34") {
		ready, startup = 925, 1478
	}
	tb := "Traceback (most recent call last):\n"
	if world > 1 {
		wlog := vlog.New(logWriter{log})
		wlog.Prefix = fmt.Sprintf("(Worker_TP%d pid=%d) ", e.Local, os.Getpid()+1+e.Local)
		wlog.Error("multiproc_executor.py:597", "WorkerProc failed to start.")
		fmt.Fprintf(stderr, "%s  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/executor/multiproc_executor.py\", line 430, in __init__\n    self.worker.init_device()\n%s\nValueError: %s\n", tb, site, e.Error())
		log.Error("core.py:708", "EngineCore failed to start.")
		fmt.Fprintf(stderr, "%s  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/executor/multiproc_executor.py\", line %d, in wait_for_ready\n    raise e from None\nException: WorkerProc initialization failed due to an exception in a background process. See stack trace for root cause.\n", tb, ready)
	} else {
		log.Error("core.py:708", "EngineCore failed to start.")
		fmt.Fprintf(stderr, "%s  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py\", line 699, in run_engine_core\n    engine_core = EngineCoreProc(*args, **kwargs)\n%s\nValueError: %s\n", tb, site, e.Error())
	}
	fmt.Fprintf(stderr, "%s  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/utils.py\", line %d, in wait_for_engine_startup\n    raise RuntimeError(\"Engine core initialization failed. \"\nRuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}\n", tb, startup)
}

// logWriter writes a second logger's lines through the first's writer.
type logWriter struct{ l *vlog.Logger }

func (w logWriter) Write(p []byte) (int, error) { w.l.Raw(string(p)); return len(p), nil }
