package server

import (
	"context"
	"net/http"
	"time"
)

// Shutdown is what the server does with requests in flight on SIGTERM, as
// the vLLM release of its flag table does (read in each wheel's source):
//
//   - ShutdownStall, vLLM 0.11.0: launcher.py serve_http cancels the server
//     task, then AsyncLLM.shutdown kills EngineCore (v1/utils.py shutdown:
//     SIGTERM, 5 s, SIGKILL) and cancels the output handler, which never
//     propagates an error. Open streams stop, with no finish_reason and no
//     [DONE], and stay open; uvicorn's Server.shutdown then waits for them with
//     no bound (timeout_graceful_shutdown None), so the process exits only
//     when docker kills it. New requests are not served.
//   - ShutdownAbort, vLLM 0.34.0 with --shutdown-timeout 0 (its default,
//     PR #36666): EngineCore is killed at once and each stream ends with
//     vLLM's error event (code 500) and [DONE], no finish_reason; then the
//     listener closes and the process exits within a second.
//   - ShutdownDrain, 0.34.0 with --shutdown-timeout N > 0: streams in flight
//     go on for up to N s; new requests end at once with finish_reason
//     "abort" (EngineCore _reject_add_in_shutdown); then as ShutdownAbort.
type Shutdown int

const (
	ShutdownStall Shutdown = iota
	ShutdownAbort
	ShutdownDrain
)

// Terminate starts the SIGTERM behaviour: what streams in flight do from now.
func (s *Server) Terminate() {
	s.termOnce.Do(func() {
		s.termAt = time.Now()
		close(s.term)
	})
}

func (s *Server) terminating() bool {
	select {
	case <-s.term:
		return true
	default:
		return false
	}
}

// cutNow tells a stream in flight to stop: at once (stall, abort), or past
// the drain's bound (drain).
func (s *Server) cutNow() bool {
	if !s.terminating() {
		return false
	}
	return s.cfg.Shutdown != ShutdownDrain || time.Since(s.termAt) >= s.cfg.ShutdownTimeout
}

// cutStream ends a stream the SIGTERM cut: vLLM 0.34's error event and
// [DONE], or (0.11) nothing more, with the connection held open until the
// process dies or the client goes away.
func (s *Server) cutStream(ctx context.Context, w http.ResponseWriter) {
	if s.cfg.Shutdown == ShutdownStall {
		<-ctx.Done()
		return
	}
	writeSSE(w, `{"error":{"message":"The server had an error while processing your request.","type":"InternalServerError","param":null,"code":500}}`)
	writeSSE(w, "[DONE]")
}

func writeSSE(w http.ResponseWriter, data string) {
	_, _ = w.Write([]byte("data: " + data + "\n\n"))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// shutdown runs after SIGTERM (Serve's stop): the listener as the release
// leaves it, then the wait for what is in flight.
func (s *Server) shutdown(srv *http.Server) {
	s.Terminate()
	switch s.cfg.Shutdown {
	case ShutdownStall:
		// The loop is blocked while EngineCore exits (about a second here):
		// connections queue unserved, then the listener closes; uvicorn then
		// waits for the stalled streams with no bound.
		time.Sleep(time.Second)
		_ = srv.Shutdown(context.Background())
	case ShutdownDrain:
		// Serving (new requests end with "abort") while streams drain.
		deadline := s.termAt.Add(s.cfg.ShutdownTimeout)
		for s.running.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		fallthrough
	default:
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
	}
}

// newAfterTerm answers a request that arrives after SIGTERM: 0.11 serves
// nothing (its loop is blocked until the listener closes); 0.34 rejects it
// in EngineCore, a finish_reason "abort" with no content (drain), or the
// dead engine's 500 (abort).
func (s *Server) newAfterTerm(ctx context.Context, w http.ResponseWriter, c *completion, stream bool) {
	switch s.cfg.Shutdown {
	case ShutdownStall:
		<-ctx.Done()
	case ShutdownAbort:
		writeError(w, 500, "InternalServerError", "The server had an error while processing your request.")
	case ShutdownDrain:
		c.content, c.finish = "", "abort"
		if choices, ok := c.body["choices"].([]any); ok && len(choices) > 0 {
			if ch, ok := choices[0].(map[string]any); ok {
				ch["finish_reason"] = "abort"
				if m, ok := ch["message"].(map[string]any); ok {
					m["content"] = ""
				}
			}
		}
		if stream {
			s.writeStream(ctx, w, c)
		} else {
			writeJSON(w, 200, c)
		}
	}
}
