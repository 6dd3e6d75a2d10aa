// Command vllm-standin plays `vllm serve` in the stand-in for the
// vllm/vllm-openai image; invoked as `curl` it is a minimal curl for the
// container healthcheck.
package main

import (
	"os"
	"os/signal"
	"path/filepath"

	"myia.local/standin/vllm/app"
	"myia.local/standin/vllm/curl"
)

func main() {
	if filepath.Base(os.Args[0]) == "curl" {
		os.Exit(curl.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, app.Signals...)
	os.Exit(app.Run(app.Options{
		Args:   os.Args[1:],
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Stop:   stop,
	}))
}
