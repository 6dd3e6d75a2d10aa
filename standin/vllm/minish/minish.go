// Package minish is a very small `sh -c` for the stand-in image, which has no
// shell: Docker runs CMD-SHELL healthchecks as `/bin/sh -c "<command>"`.
// It handles what healthchecks use: words with quotes and backslashes,
// $VAR and ${VAR}, `;`, `&&`, `||`, and the builtins exit, true, false, echo.
package minish

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Main runs `sh` with args (without argv[0]).
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "-c" {
		fmt.Fprintln(stderr, "sh: the stand-in image's sh only runs `sh -c COMMAND`")
		return 2
	}
	return Run(args[1], os.Getenv, stdout, stderr)
}

type token struct {
	word string
	op   string // ";", "&&", "||" when this is an operator
}

// Run executes a command line.
func Run(line string, getenv func(string) string, stdout, stderr io.Writer) int {
	toks, err := lex(line, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2
	}
	status := 0
	var cmd []string
	prevOp := ";"
	// run runs the pending command unless the operator before it says to
	// skip it (POSIX and-or lists: a skipped command keeps the last status).
	run := func() (exit bool) {
		defer func() { cmd = nil }()
		if len(cmd) == 0 {
			return false
		}
		if (prevOp == "&&" && status != 0) || (prevOp == "||" && status == 0) {
			return false
		}
		var ex bool
		status, ex = runOne(cmd, status, stdout, stderr)
		return ex
	}
	for _, t := range toks {
		if t.op == "" {
			cmd = append(cmd, t.word)
			continue
		}
		if run() {
			return status
		}
		prevOp = t.op
	}
	run()
	return status
}

func runOne(cmd []string, last int, stdout, stderr io.Writer) (int, bool) {
	switch cmd[0] {
	case "exit":
		if len(cmd) > 1 {
			n, err := strconv.Atoi(cmd[1])
			if err != nil {
				return 2, true
			}
			return n & 0xff, true
		}
		return last, true
	case "true", ":":
		return 0, false
	case "false":
		return 1, false
	case "echo":
		fmt.Fprintln(stdout, strings.Join(cmd[1:], " "))
		return 0, false
	}
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Stdout, c.Stderr, c.Stdin = stdout, stderr, os.Stdin
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), false
		}
		fmt.Fprintf(stderr, "sh: %s: not found\n", cmd[0])
		return 127, false
	}
	return 0, false
}

func lex(s string, getenv func(string) string) ([]token, error) {
	var out []token
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, token{word: cur.String()})
			cur.Reset()
			inWord = false
		}
	}
	expand := func(i int) (int, error) {
		// s[i] == '$'
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return 0, fmt.Errorf("bad substitution")
			}
			cur.WriteString(getenv(s[i+2 : i+2+end]))
			return i + 2 + end + 1, nil
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			cur.WriteByte('$')
			return i + 1, nil
		}
		cur.WriteString(getenv(s[i+1 : j]))
		return j, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			flush()
			i++
		case c == ';':
			flush()
			out = append(out, token{op: ";"})
			i++
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			flush()
			out = append(out, token{op: "&&"})
			i += 2
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			flush()
			out = append(out, token{op: "||"})
			i += 2
		case c == '|' || c == '&' || c == '>' || c == '<' || c == '`' || c == '(' || c == ')':
			return nil, fmt.Errorf("unsupported shell syntax %q", string(c))
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string")
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated quoted string")
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					cur.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '$' {
					var err error
					if i, err = expand(i); err != nil {
						return nil, err
					}
					continue
				}
				cur.WriteByte(s[i])
				i++
			}
		case c == '\\':
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
			}
			inWord = true
			i += 2
		case c == '$':
			inWord = true
			var err error
			if i, err = expand(i); err != nil {
				return nil, err
			}
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	flush()
	return out, nil
}
