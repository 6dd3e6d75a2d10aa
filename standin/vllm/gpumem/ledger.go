// Package gpumem makes GPU memory a shared fact of the stand-in GPU host:
// every stand-in vLLM books, in a ledger directory, what it holds on each
// GPU it runs on; the fake nvidia-smi and every other stand-in read it.
//
// Layout of a ledger directory (on the host /run/myia-vllm/gpu/<host>, the
// default host being "default"; bind-mounted into GPU containers at
// /run/myia-gpu by the stand-in nvidia-container-runtime-hook):
//
//	baseline/query-gpu.csv     the GPUs and what the rest of the host uses
//	baseline/compute-apps.csv  (a scenario of test/fixtures/nvidia-smi)
//	<container id>.booking     one stand-in's booking, lines "<gpu index>, <host pid>, <MiB>"
//	.lock                      held (exclusive) while a stand-in checks free memory and books
//	                           or rewrites its booking; nvidia-smi reads under a shared lock
//
// Why a lock per booking rather than pids or container ids checked for
// liveness: a booking's owner holds an exclusive flock(2) on its booking file
// for its whole life. The kernel drops that lock when the process dies, however
// it dies (SIGKILL, OOM, `docker rm -f`, a dockerd crash), so a reader tells a
// live booking from a stale one by trying a shared lock without blocking:
// refused = owner alive. That works from inside other containers, whose pid
// namespace shows no host pid and which cannot ask Docker about container ids,
// and from the host's nvidia-smi (flock(1)); it cannot be fooled by a reused
// pid or a restarted container keeping its id. Stale files are only ignored
// (and replaced when a container of that id starts again): a reader that
// deleted one could race a new owner that had opened but not locked it yet.
package gpumem

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// GPU is one line of the baseline's query-gpu.csv.
type GPU struct {
	Index    int
	UUID     string
	Name     string
	TotalMiB int64
	UsedMiB  int64 // by the rest of the host (the scenario)
	FreeMiB  int64 // as the scenario reports it (total - used - reserved)
}

// Ledger is a ledger directory.
type Ledger struct{ Dir string }

// Baseline reads the GPUs of the ledger's baseline.
func (l Ledger) Baseline() ([]GPU, error) {
	return ReadQueryGPU(filepath.Join(l.Dir, "baseline", "query-gpu.csv"))
}

// ReadQueryGPU parses a scenario's query-gpu.csv (csv,noheader,nounits:
// index, uuid, name, memory.total, memory.used, memory.free, ...).
func ReadQueryGPU(path string) ([]GPU, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var gpus []GPU
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		c := strings.Split(line, ", ")
		if len(c) < 6 {
			return nil, fmt.Errorf("%s: not a query-gpu line: %q", path, line)
		}
		var g GPU
		var e [4]error
		g.Index, e[0] = strconv.Atoi(c[0])
		g.UUID, g.Name = c[1], c[2]
		g.TotalMiB, e[1] = strconv.ParseInt(c[3], 10, 64)
		g.UsedMiB, e[2] = strconv.ParseInt(c[4], 10, 64)
		g.FreeMiB, e[3] = strconv.ParseInt(c[5], 10, 64)
		if err := errors.Join(e[:]...); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		gpus = append(gpus, g)
	}
	return gpus, sc.Err()
}

// Row is one line of a booking: memory one process holds on one GPU.
type Row struct {
	GPU     int
	HostPid int
	MiB     int64
}

// Booking is a live booking read from the ledger.
type Booking struct {
	Name   string // file name without .booking (the container id)
	Header string // the "# ..." line
	Rows   []Row
}

// Live reads the bookings whose owner is alive; skip names a booking not to
// read (the caller's own).
func (l Ledger) Live(skip string) ([]Booking, error) {
	ents, err := os.ReadDir(l.Dir)
	if err != nil {
		return nil, err
	}
	var out []Booking
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".booking")
		if !ok || name == skip || e.IsDir() {
			continue
		}
		b, alive, err := readIfAlive(filepath.Join(l.Dir, e.Name()))
		if err != nil || !alive {
			continue // gone meanwhile, or stale
		}
		b.Name = name
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readIfAlive reads a booking when its owner still holds its lock.
func readIfAlive(path string) (Booking, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return Booking{}, false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return Booking{}, false, nil // nobody holds it: stale
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return Booking{}, false, err
	}
	b, err := parseBooking(f)
	return b, err == nil, err
}

func parseBooking(f *os.File) (Booking, error) {
	var b Booking
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			b.Header = line
		default:
			c := strings.Split(line, ", ")
			if len(c) != 3 {
				return b, fmt.Errorf("not a booking line: %q", line)
			}
			var r Row
			var e [3]error
			r.GPU, e[0] = strconv.Atoi(c[0])
			r.HostPid, e[1] = strconv.Atoi(c[1])
			r.MiB, e[2] = strconv.ParseInt(c[2], 10, 64)
			if err := errors.Join(e[:]...); err != nil {
				return b, err
			}
			b.Rows = append(b.Rows, r)
		}
	}
	return b, sc.Err()
}

// Booked sums live bookings per GPU index.
func Booked(bs []Booking) map[int]int64 {
	m := map[int]int64{}
	for _, b := range bs {
		for _, r := range b.Rows {
			m[r.GPU] += r.MiB
		}
	}
	return m
}

// Lock takes the ledger-wide lock (check-then-book is atomic under it).
func (l Ledger) Lock() (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(l.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
