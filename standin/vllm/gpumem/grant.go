package gpumem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Where the stand-in hook puts things in a GPU container.
const (
	DefaultLedgerDir = "/run/myia-gpu"       // the host's ledger, bind-mounted
	DefaultGrantFile = "/run/myia-gpu-grant" // what this container was given
)

// Grant is what the hook tells a container: who it is on the host and which
// GPUs it was given. File format: key=value lines.
type Grant struct {
	Container string // container id (the booking's name)
	HostPid   int    // the container's init process as the host numbers it
	Devices   string // NVIDIA_VISIBLE_DEVICES as Docker set it: "0,1", "all", GPU-uuids
}

// ReadGrant reads a grant file.
func ReadGrant(path string) (Grant, error) {
	var g Grant
	f, err := os.Open(path)
	if err != nil {
		return g, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch k {
		case "container":
			g.Container = v
		case "pid":
			g.HostPid, _ = strconv.Atoi(v)
		case "devices":
			g.Devices = v
		}
	}
	if g.Container == "" {
		return g, fmt.Errorf("%s: no container=", path)
	}
	return g, sc.Err()
}

// Resolve turns NVIDIA_VISIBLE_DEVICES into the host's GPUs, in the order
// given (CUDA numbers them cuda:0, cuda:1, ... in that order).
func Resolve(devices string, host []GPU) ([]GPU, error) {
	devices = strings.TrimSpace(devices)
	switch devices {
	case "", "void", "none":
		return nil, nil
	case "all":
		return host, nil
	}
	var out []GPU
	for _, d := range strings.Split(devices, ",") {
		d = strings.TrimSpace(d)
		found := false
		for _, g := range host {
			if strconv.Itoa(g.Index) == d || g.UUID == d {
				out, found = append(out, g), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown device %q (the host has %d GPUs)", d, len(host))
		}
	}
	return out, nil
}
