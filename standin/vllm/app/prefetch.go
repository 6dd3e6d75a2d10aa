package app

import (
	"fmt"
	"io"
	"os"
	"regexp"

	"myia.local/standin/vllm/vlog"
)

// snapshotCall finds the repo id in `snapshot_download('Org/Name')` or
// `snapshot_download(repo_id="Org/Name", ...)`.
var snapshotCall = regexp.MustCompile(`snapshot_download\(\s*(?:repo_id\s*=\s*)?['"]([^'"]+)['"]`)

// PythonMain plays `python3 -c "...snapshot_download('Org/Name')..."`, the one
// Python call the program makes in the vLLM image: fetching a model's weights
// into the HF cache ahead of a switch. It fills the cache exactly as a first
// `vllm serve` would (STANDIN_DOWNLOAD_SECONDS), so the server's later start is a
// cache hit. Anything else is refused, with exit 1.
func PythonMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "-c" {
		fmt.Fprintln(stderr, "python3 (stand-in): only `python3 -c <code calling snapshot_download>` is supported")
		return 1
	}
	m := snapshotCall.FindStringSubmatch(args[1])
	if m == nil {
		fmt.Fprintln(stderr, "python3 (stand-in): the code does not call huggingface_hub.snapshot_download('<repo id>')")
		return 1
	}
	if err := fetchWeights(vlog.New(stdout), m[1], os.Getenv, nil); err != nil {
		fmt.Fprintf(stderr, "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nOSError: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, CacheDir(hfHome(os.Getenv), m[1]))
	return 0
}
