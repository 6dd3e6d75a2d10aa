package gpumem

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Holder is this process's own booking: its file stays locked (exclusive)
// for as long as the process lives.
type Holder struct {
	path string
	f    *os.File
}

// Hold opens and locks the booking file of name, replacing a stale one.
func (l Ledger) Hold(name string) (*Holder, error) {
	path := filepath.Join(l.Dir, name+".booking")
	for attempt := 0; attempt < 5; attempt++ {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			// Another live process holds this name: two stand-ins in one
			// container, or a container id reused while the old one lives.
			return nil, fmt.Errorf("booking %s is held by a live process", path)
		}
		// The file may have been removed (by its previous owner's Release)
		// between our open and our lock: make sure we locked the file the
		// path names, else start over.
		var a, b syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &a) == nil && syscall.Stat(path, &b) == nil && a.Ino == b.Ino && a.Dev == b.Dev {
			return &Holder{path: path, f: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("booking %s keeps changing under us", path)
}

// Write replaces the booking's content.
func (h *Holder) Write(header string, rows []Row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", header)
	for _, r := range rows {
		fmt.Fprintf(&b, "%d, %d, %d\n", r.GPU, r.HostPid, r.MiB)
	}
	if err := h.f.Truncate(0); err != nil {
		return err
	}
	_, err := h.f.WriteAt([]byte(b.String()), 0)
	return err
}

// Release removes the booking (a graceful exit; a killed process's booking
// is released by the kernel dropping its lock).
func (h *Holder) Release() {
	if h == nil || h.f == nil {
		return
	}
	os.Remove(h.path)
	syscall.Flock(int(h.f.Fd()), syscall.LOCK_UN)
	h.f.Close()
	h.f = nil
}
