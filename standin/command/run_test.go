package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

func ptr[T any](v T) *T { return &v }

type collected struct {
	mu    sync.Mutex
	lines []string
}

func (c *collected) log(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, line)
}

func TestRunCapturesOutputs(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name       string
		command    string
		in         inputs
		prev       result
		wantStdout string
		wantStderr string
	}{
		{name: "one trailing newline trimmed", command: `printf 'a\n\n'; printf 'e\n' >&2`, wantStdout: "a\n", wantStderr: "e"},
		{name: "no newline", command: `printf abc`, wantStdout: "abc"},
		{name: "stdin piped", command: `cat`, in: inputs{Stdin: ptr("from stdin\n")}, wantStdout: "from stdin"},
		{name: "empty stdin is no stdin", command: `cat`, in: inputs{Stdin: ptr("")}, wantStdout: ""},
		{name: "environment added", command: `echo "$FOO-$HOME"`, in: inputs{Environment: map[string]string{"FOO": "bar"}},
			wantStdout: "bar-" + os.Getenv("HOME")},
		{name: "dir", command: `pwd`, in: inputs{Dir: ptr(dir)}, wantStdout: dir},
		{name: "interpreter", command: `print(6*7)`, in: inputs{Interpreter: []string{"/bin/sh", "-c", `echo 42 "$0"`}}, wantStdout: "42 print(6*7)"},
		{name: "previous outputs by default", command: `echo "$PULUMI_COMMAND_STDOUT/$PULUMI_COMMAND_STDERR"`,
			prev: result{Stdout: "o", Stderr: "e"}, wantStdout: "o/e"},
		{name: "previous outputs when asked", command: `echo "$PULUMI_COMMAND_STDOUT"`,
			in: inputs{AddPreviousOutputInEnv: ptr(true)}, prev: result{Stdout: "o"}, wantStdout: "o"},
		{name: "previous outputs refused", command: `echo "${PULUMI_COMMAND_STDOUT-unset}"`,
			in: inputs{AddPreviousOutputInEnv: ptr(false)}, prev: result{Stdout: "o"}, wantStdout: "unset"},
		{name: "empty previous output not set", command: `echo "${PULUMI_COMMAND_STDOUT-unset}"`, wantStdout: "unset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := runCommand(context.Background(), c.command, c.in, c.prev, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stdout != c.wantStdout || res.Stderr != c.wantStderr {
				t.Errorf("stdout %q stderr %q, want %q %q", res.Stdout, res.Stderr, c.wantStdout, c.wantStderr)
			}
		})
	}
}

func TestRunLoggingModes(t *testing.T) {
	const command = `echo out1; echo err1 >&2; printf out2`
	cases := []struct {
		mode *string
		want []string
	}{
		{nil, []string{"err1", "out1", "out2"}},
		{ptr("stdoutAndStderr"), []string{"err1", "out1", "out2"}},
		{ptr("stdout"), []string{"out1", "out2"}},
		{ptr("stderr"), []string{"err1"}},
		{ptr("none"), nil},
	}
	for _, c := range cases {
		name := "default"
		if c.mode != nil {
			name = *c.mode
		}
		t.Run(name, func(t *testing.T) {
			var got collected
			res, err := runCommand(context.Background(), command, inputs{Logging: c.mode}, result{}, got.log)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got.lines)
			if !reflect.DeepEqual(got.lines, c.want) {
				t.Errorf("logged %q, want %q", got.lines, c.want)
			}
			// Logging never changes what is captured.
			if res.Stdout != "out1\nout2" || res.Stderr != "err1" {
				t.Errorf("captured %q / %q", res.Stdout, res.Stderr)
			}
		})
	}
}

func TestRunFailure(t *testing.T) {
	cases := []struct {
		name    string
		command string
		in      inputs
		want    []string
		notWant []string
	}{
		{name: "exit status and output", command: `echo partial; echo broken >&2; exit 3`,
			want: []string{"exit status 3: running \"echo partial; echo broken >&2; exit 3\":\n", "partial\n", "broken\n"}},
		{name: "missing dir", command: `true`, in: inputs{Dir: ptr("/nonexistent-dir-xyz")},
			want: []string{"/nonexistent-dir-xyz", `running "true"`}},
		{name: "secrets redacted", command: `echo "token=$TOKEN"; exit 1`,
			in:   inputs{Environment: map[string]string{"TOKEN": "s3cr3t-value"}, Secrets: []string{"s3cr3t-value"}},
			want: []string{"token=[secret]"}, notWant: []string{"s3cr3t-value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCommand(context.Background(), c.command, c.in, result{}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
		})
	}
}

func TestRunSecretsOnlyInEnvironmentAndNotInLogs(t *testing.T) {
	in := inputs{Environment: map[string]string{"TOKEN": "hunter22"}, Secrets: []string{"hunter22"}}
	var got collected
	// The command prints its own argv and its env var: argv must not carry the secret.
	res, err := runCommand(context.Background(), `echo "argv:$0 $*"; echo "env:$TOKEN"`, in, result{}, got.log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.SplitN(res.Stdout, "\n", 2)[0], "hunter22") {
		t.Errorf("secret in argv: %q", res.Stdout)
	}
	if !strings.Contains(res.Stdout, "env:hunter22") {
		t.Errorf("secret not in the environment: %q", res.Stdout)
	}
	if !reflect.DeepEqual(got.lines[1:], []string{"env:[secret]"}) {
		t.Errorf("logged %q", got.lines)
	}
}

func TestRunAssets(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"assets/logos/logo.svg", "src/index.js", "src/secret.js", "top.txt"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	globs := []string{"assets/**", "src/**.js", "!**secret.*"}
	res, err := runCommand(context.Background(), "true", inputs{Dir: &dir, AssetPaths: &globs, ArchivePaths: &globs}, result{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range res.Assets {
		got = append(got, k)
	}
	sort.Strings(got)
	if want := []string{"assets/logos/logo.svg", "src/index.js"}; !reflect.DeepEqual(got, want) {
		t.Errorf("assets %q, want %q", got, want)
	}
	if res.Archive == nil || len(res.Archive.Assets) != 2 {
		t.Errorf("archive %+v", res.Archive)
	}
}
