package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPythonPrefetchFillsTheCacheThenServeFindsIt(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	t.Setenv("STANDIN_DOWNLOAD_SECONDS", "0")
	var out, errb bytes.Buffer
	code := PythonMain([]string{"-c", "from huggingface_hub import snapshot_download; snapshot_download(repo_id='Qwen/Qwen3-32B-AWQ')"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "Downloading weights for Qwen/Qwen3-32B-AWQ") {
		t.Fatalf("no download logged: %s", out.String())
	}
	if _, err := os.Stat(filepath.Join(CacheDir(home, "Qwen/Qwen3-32B-AWQ"), ".standin-complete")); err != nil {
		t.Fatalf("cache not complete: %v", err)
	}
	out.Reset()
	if code := PythonMain([]string{"-c", "snapshot_download('Qwen/Qwen3-32B-AWQ')"}, &out, &errb); code != 0 {
		t.Fatalf("second fetch exit %d", code)
	}
	if !strings.Contains(out.String(), "Using cached weights") {
		t.Fatalf("second fetch was not a cache hit: %s", out.String())
	}
}

func TestPythonRefusesOtherCode(t *testing.T) {
	var out, errb bytes.Buffer
	if code := PythonMain([]string{"-c", "print(1)"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if code := PythonMain([]string{"script.py"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
}
