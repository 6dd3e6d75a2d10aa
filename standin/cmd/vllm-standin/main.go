// Command vllm-standin plays `vllm serve` in the stand-in for the
// vllm/vllm-openai image. The image has no other programs, so the same
// binary is also a minimal `curl` (the healthcheck), `sh` (Docker runs
// CMD-SHELL healthchecks through /bin/sh -c) and `python3` (only the weight
// prefetch's snapshot_download), chosen by argv[0].
package main

import (
	"os"
	"os/signal"
	"path/filepath"

	"myia.local/standin/vllm/app"
	"myia.local/standin/vllm/curl"
	"myia.local/standin/vllm/minish"
)

func main() {
	switch filepath.Base(os.Args[0]) {
	case "curl":
		os.Exit(curl.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "sh":
		os.Exit(minish.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "python3":
		os.Exit(app.PythonMain(os.Args[1:], os.Stdout, os.Stderr))
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
