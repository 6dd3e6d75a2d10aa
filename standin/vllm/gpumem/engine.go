package gpumem

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// GiB is how vLLM shows bytes: round(b / GiB_bytes, 2), printed as a Python float.
func GiB(mib float64) string { return PyFloat(math.Round(mib/1024*100) / 100) }

// PyFloat prints a float as Python's repr does for ordinary values (0.9, 22.0).
func PyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// ShortError is vLLM's refusal to start: free memory on a device is below
// gpu_memory_utilization × total.
type ShortError struct {
	Local    int // cuda:N inside the container
	GPU      GPU
	FreeMiB  float64
	Util     float64
	WithName bool // 0.20+ name the device: "on device cuda:0"
}

// Error is the ValueError's text:
//   - 0.11.0 vllm/v1/worker/gpu_worker.py:187-195 (Worker.init_device);
//   - 0.20.0/0.21.0 vllm/v1/worker/utils.py:413-421 (request_memory);
//   - 0.34.0 vllm/v1/worker/utils.py:789-797 (request_memory).
func (e *ShortError) Error() string {
	dev := ""
	if e.WithName {
		dev = fmt.Sprintf(" cuda:%d", e.Local)
	}
	total := float64(e.GPU.TotalMiB)
	return fmt.Sprintf("Free memory on device%s (%s/%s GiB) on startup is less than desired GPU memory utilization (%s, %s GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.",
		dev, GiB(e.FreeMiB), GiB(total), PyFloat(e.Util), GiB(total*e.Util))
}

// Engine is one stand-in vLLM's memory on the GPUs it runs on.
type Engine struct {
	Ledger      Ledger
	Grant       Grant
	GPUs        []GPU   // the GPUs the engine uses, cuda:0 first
	Util        float64 // --gpu-memory-utilization
	LeftoverMiB int64   // what stays in use per GPU while asleep (CUDA context, ...)
	UnusedMiB   int64   // of the budget, what vLLM's KV sizing leaves unused (nvidia-smi shows a little less than the budget)
	WeightsMiB  int64   // of the budget, the weights (the rest is KV cache)
	Header      string  // shown in the booking's "#" line

	mu       sync.Mutex
	h        *Holder
	weights  bool // resident tags
	kv       bool
	inUseMiB int64 // per GPU, as booked
}

// BudgetMiB is what the engine holds per GPU while awake.
func (e *Engine) BudgetMiB(g GPU) int64 { return int64(math.Ceil(e.Util * float64(g.TotalMiB))) }

func (e *Engine) use(g GPU) int64 {
	b := max(e.BudgetMiB(g)-e.UnusedMiB, 0)
	left := min(e.LeftoverMiB, b)
	w := e.WeightsMiB
	if w <= 0 || w > b-left {
		w = (b - left) / 2
	}
	n := left
	if e.weights {
		n += w
	}
	if e.kv {
		n += b - left - w
	}
	return n
}

func (e *Engine) rows() []Row {
	var rs []Row
	for _, g := range e.GPUs {
		rs = append(rs, Row{GPU: g.Index, HostPid: e.Grant.HostPid, MiB: e.use(g)})
	}
	return rs
}

// freeMiB is each used GPU's free memory, others' live bookings deducted.
func (e *Engine) freeMiB() ([]float64, error) {
	live, err := e.Ledger.Live(e.Grant.Container)
	if err != nil {
		return nil, err
	}
	booked := Booked(live)
	out := make([]float64, len(e.GPUs))
	for i, g := range e.GPUs {
		out[i] = float64(g.FreeMiB - booked[g.Index])
	}
	return out, nil
}

// Start is the worker's start-up check, then the booking of the whole
// budget (weights and KV cache) on every GPU used. withName: the release
// names the device in its message (0.20 and later).
func (e *Engine) Start(withName bool) error {
	unlock, err := e.Ledger.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	free, err := e.freeMiB()
	if err != nil {
		return err
	}
	for i, g := range e.GPUs {
		if free[i] < e.Util*float64(g.TotalMiB) {
			return &ShortError{Local: i, GPU: g, FreeMiB: free[i], Util: e.Util, WithName: withName}
		}
	}
	if e.h, err = e.Ledger.Hold(e.Grant.Container); err != nil {
		return err
	}
	e.weights, e.kv = true, true
	return e.write()
}

func (e *Engine) write() error {
	st := "awake"
	switch {
	case !e.weights && !e.kv:
		st = "asleep"
	case !e.weights || !e.kv:
		st = "partly awake"
	}
	if len(e.GPUs) > 0 {
		e.inUseMiB = e.use(e.GPUs[0])
	}
	return e.h.Write(fmt.Sprintf("container=%s state=%s util=%s %s", e.Grant.Container, st, PyFloat(e.Util), e.Header), e.rows())
}

// Sleep frees the weights and the KV cache (level 1 offloads the weights to
// CPU memory, level 2 discards them: the GPU is left with the same leftover).
// It returns the freed and still-used GiB per GPU, as vLLM logs them.
func (e *Engine) Sleep() (freedMiB, usedMiB int64, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return 0, 0, nil
	}
	unlock, err := e.Ledger.Lock() // a booking is rewritten under the lock (readers take it shared)
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	before := e.inUseMiB
	e.weights, e.kv = false, false
	err = e.write()
	return before - e.inUseMiB, e.inUseMiB, err
}

// OOMError is a wake-up that finds too little free memory.
type OOMError struct{ GPU GPU }

func (o *OOMError) Error() string {
	return "CUDA Error: out of memory at /workspace/csrc/cumem_allocator.cpp:62"
}

// Wake makes tags resident again ("weights", "kv_cache"; nil: both),
// when the GPUs have room for them.
func (e *Engine) Wake(tags []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return nil
	}
	unlock, err := e.Ledger.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	w, kv := e.weights, e.kv
	if tags == nil {
		w, kv = true, true
	}
	for _, t := range tags {
		switch t {
		case "weights":
			w = true
		case "kv_cache":
			kv = true
		}
	}
	free, err := e.freeMiB()
	if err != nil {
		return err
	}
	oldW, oldKV := e.weights, e.kv
	for i, g := range e.GPUs {
		cur := e.use(g)
		e.weights, e.kv = w, kv
		need := e.use(g) - cur
		e.weights, e.kv = oldW, oldKV
		if float64(need) > free[i]-float64(cur) {
			return &OOMError{GPU: g}
		}
	}
	e.weights, e.kv = w, kv
	return e.write()
}

// InUseMiB is what the engine books per GPU now.
func (e *Engine) InUseMiB() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inUseMiB
}

// Release gives everything back (graceful exit).
func (e *Engine) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.h.Release()
	e.h = nil
}
