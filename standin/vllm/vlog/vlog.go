// Package vlog writes log lines the way vLLM formats them:
//
//	(APIServer pid=1) INFO 11-26 19:30:02 [api_server.py:1839] vLLM API server version 0.11.0
//
// and uvicorn's access/lifecycle lines ("INFO:     Application startup complete.").
package vlog

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Logger is safe for concurrent use.
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	Prefix string           // e.g. "(APIServer pid=1) "; empty for the first lines vLLM prints
	Now    func() time.Time // for tests
}

func New(w io.Writer) *Logger { return &Logger{w: w, Now: time.Now} }

// APIServerPrefix is the prefix vLLM puts on its API server process's lines.
func APIServerPrefix() string { return fmt.Sprintf("(APIServer pid=%d) ", os.Getpid()) }

func (l *Logger) line(level, src, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%s %s [%s] %s\n", l.Prefix, level, l.Now().Format("01-02 15:04:05"), src, msg)
}

// Info logs "INFO MM-DD HH:MM:SS [src] msg"; src is "file.py:NNN".
func (l *Logger) Info(src, format string, a ...any) { l.line("INFO", src, fmt.Sprintf(format, a...)) }

func (l *Logger) Warning(src, format string, a ...any) {
	l.line("WARNING", src, fmt.Sprintf(format, a...))
}

func (l *Logger) Error(src, format string, a ...any) { l.line("ERROR", src, fmt.Sprintf(format, a...)) }

// Uvicorn logs a uvicorn-style line: "INFO:     msg".
func (l *Logger) Uvicorn(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%sINFO:     %s\n", l.Prefix, fmt.Sprintf(format, a...))
}

// Raw writes text as is.
func (l *Logger) Raw(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, s)
}
