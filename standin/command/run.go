package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const (
	envPrevStdout = "PULUMI_COMMAND_STDOUT"
	envPrevStderr = "PULUMI_COMMAND_STDERR"
)

// lineLogger receives the lines a command prints, one call per line.
type lineLogger func(line string)

// result is what a finished command produced.
type result struct {
	Stdout, Stderr string
	Assets         map[string]*resource.Asset // nil unless assetPaths was given
	Archive        *resource.Archive          // nil unless archivePaths was given
}

// shouldLog tells, for a logging mode (nil: the default), whether stdout and
// stderr are streamed to the log. Unrecognised modes log nothing.
func shouldLog(mode *string) (stdout, stderr bool) {
	if mode == nil {
		return true, true
	}
	switch *mode {
	case "stdout":
		return true, false
	case "stderr":
		return false, true
	case "stdoutAndStderr":
		return true, true
	}
	return false, false
}

// lockedBuffer lets stdout and stderr both write into one buffer.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineStreamer forwards complete lines written to it to a logger; Close
// flushes a last unterminated line.
type lineStreamer struct {
	w    *io.PipeWriter
	done chan struct{}
}

func newLineStreamer(log lineLogger) *lineStreamer {
	r, w := io.Pipe()
	s := &lineStreamer{w: w, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				log(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
			}
			if err != nil {
				// Drain anything left so that writers never block.
				_, _ = io.Copy(io.Discard, r)
				return
			}
		}
	}()
	return s
}

func (s *lineStreamer) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s *lineStreamer) Close() {
	_ = s.w.Close()
	<-s.done
}

// runCommand runs command with the settings in in. prev holds the previous
// stdout/stderr (update and delete), offered to the command through the
// environment unless addPreviousOutputInEnv is false. log receives the
// streamed lines, already redacted of secrets. Assets and Archive of the
// result are set only when assetPaths and archivePaths are.
func runCommand(ctx context.Context, command string, in inputs, prev result, log lineLogger) (result, error) {
	args := []string{"/bin/sh", "-c"}
	if len(in.Interpreter) > 0 {
		args = append([]string(nil), in.Interpreter...)
	}
	args = append(args, command)

	red := newRedactor(in.Secrets)
	//nolint:gosec // running the user's command is the point of this provider
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)

	var stdout, stderr bytes.Buffer
	var combined lockedBuffer // for the error message only
	logOut, logErr := shouldLog(in.Logging)
	outWriters := []io.Writer{&stdout, &combined}
	errWriters := []io.Writer{&stderr, &combined}
	var streamers []*lineStreamer
	if log != nil {
		redacted := func(line string) { log(red.apply(line)) }
		if logOut {
			s := newLineStreamer(redacted)
			streamers = append(streamers, s)
			outWriters = append(outWriters, s)
		}
		if logErr {
			s := newLineStreamer(redacted)
			streamers = append(streamers, s)
			errWriters = append(errWriters, s)
		}
	}
	cmd.Stdout = io.MultiWriter(outWriters...)
	cmd.Stderr = io.MultiWriter(errWriters...)

	if in.Dir != nil {
		cmd.Dir = *in.Dir
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return result{}, err
		}
		cmd.Dir = wd
	}

	// Secrets travel in the environment only, never in argv.
	cmd.Env = os.Environ()
	for k, v := range in.Environment {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if in.AddPreviousOutputInEnv == nil || *in.AddPreviousOutputInEnv {
		if prev.Stdout != "" {
			cmd.Env = append(cmd.Env, envPrevStdout+"="+prev.Stdout)
		}
		if prev.Stderr != "" {
			cmd.Env = append(cmd.Env, envPrevStderr+"="+prev.Stderr)
		}
	}
	if in.Stdin != nil && *in.Stdin != "" {
		cmd.Stdin = strings.NewReader(*in.Stdin)
	}

	err := cmd.Run()
	for _, s := range streamers {
		s.Close()
	}
	if err != nil {
		return result{}, errors.New(red.apply(
			fmt.Sprintf("%v: running %q:\n%s", err, command, combined.String())))
	}

	out := result{
		Stdout: strings.TrimSuffix(stdout.String(), "\n"),
		Stderr: strings.TrimSuffix(stderr.String(), "\n"),
	}
	if in.AssetPaths != nil {
		assets, err := globAssets(cmd.Dir, *in.AssetPaths)
		if err != nil {
			return result{}, err
		}
		out.Assets = assets
	}
	if in.ArchivePaths != nil {
		assets, err := globAssets(cmd.Dir, *in.ArchivePaths)
		if err != nil {
			return result{}, err
		}
		members := map[string]any{}
		for p, a := range assets {
			members[p] = a
		}
		archive, err := resource.NewAssetArchive(members)
		if err != nil {
			return result{}, err
		}
		out.Archive = archive
	}
	return out, nil
}
