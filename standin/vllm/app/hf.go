package app

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"myia.local/standin/vllm/vlog"
)

var errStopped = errors.New("stopped")

// CacheDir is the HF hub cache directory of a model.
func CacheDir(hfHome, model string) string {
	return filepath.Join(hfHome, "hub", "models--"+strings.ReplaceAll(strings.Trim(model, "/"), "/", "--"))
}

func hfHome(env func(string) string) string {
	if h := env("HF_HOME"); h != "" {
		return h
	}
	if x := env("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface")
	}
	home := env("HOME")
	if home == "" {
		home = "/root"
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func fetchWeights(log *vlog.Logger, model string, env func(string) string, stop <-chan os.Signal) error {
	if st, err := os.Stat(model); err == nil && st.IsDir() && filepath.IsAbs(model) {
		log.Info("weight_utils.py:392", "Using cached weights: local model directory %s", model)
		return nil
	}
	dir := CacheDir(hfHome(env), model)
	marker := filepath.Join(dir, ".standin-complete")
	if _, err := os.Stat(marker); err == nil {
		log.Info("weight_utils.py:392", "Using cached weights for %s from %s", model, dir)
		return nil
	}
	if v := env("HF_HUB_OFFLINE"); v == "1" || strings.EqualFold(v, "true") {
		return fmt.Errorf("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them in the cached files (%s). HF_HUB_OFFLINE is set", dir)
	}
	d := seconds(env("STANDIN_DOWNLOAD_SECONDS"), 4)
	log.Info("weight_utils.py:392", "Downloading weights for %s into %s (stand-in: %.1fs)", model, dir, d.Seconds())
	sum := sha1.Sum([]byte(model))
	rev := hex.EncodeToString(sum[:])
	snap := filepath.Join(dir, "snapshots", rev)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return fmt.Errorf("cannot write the HF cache: %w", err)
	}
	if !sleepOrStop(d, stop) {
		return errStopped
	}
	cfg, _ := json.MarshalIndent(map[string]any{
		"_name_or_path": model, "architectures": []string{"StandinForCausalLM"},
		"model_type": "standin", "max_position_embeddings": 32768, "torch_dtype": "bfloat16",
		"standin": "written by the myia-vllm stand-in; not a real model",
	}, "", "  ")
	if err := os.MkdirAll(filepath.Join(dir, "refs"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(rev), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(snap, "config.json"), append(cfg, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	log.Info("weight_utils.py:413", "Time spent downloading weights for %s: %.6f seconds", model, d.Seconds())
	return nil
}
