// Command pause is the pod sandbox of the real node (scripts/k8s.sh kubelet):
// no pause image can be fetched here, so this is ours. It holds the pod's
// namespaces by doing nothing: it sleeps until SIGTERM or SIGINT, and reaps
// any child that ends (it is PID 1 of a shared PID namespace). Built static.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
