package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// The routes vLLM mounts outside /v1, answered as vLLM 0.21.0 answers them
// for a generate model: its AuthenticationMiddleware checks the key only
// for paths that start with /v1, so every one of these answers without it
// (see components/vllm/routes.ts, the list the gateway and validate use).
// The answers are shaped like vLLM's; only the fields a client reads are kept.
func (s *Server) mountOpenRoutes(m *http.ServeMux) {
	post := func(path string, h http.HandlerFunc) {
		m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				methodNotAllowed(w)
				return
			}
			h(w, r)
		})
	}
	// SageMaker's entry point: a chat or completions body, dispatched to the
	// same handlers as /v1 (inference, with no key).
	post("/invocations", s.invocations)
	post("/inference/v1/generate", s.generateTokens)
	for _, p := range []string{"/pooling", "/classify", "/score", "/rerank"} {
		path := p
		post(path, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"id": "standin-" + strings.TrimPrefix(path, "/"), "object": "list", "model": s.cfg.ServedNames[0], "data": []any{map[string]any{"index": 0, "object": strings.TrimPrefix(path, "/"), "data": []float64{0.5}}}})
		})
	}
	post("/tokenize", s.tokenize)
	post("/detokenize", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Tokens []int `json:"tokens"`
		}
		json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
		words := make([]string, len(req.Tokens))
		for i := range req.Tokens {
			words[i] = "tok"
		}
		writeJSON(w, 200, map[string]any{"prompt": strings.Join(words, " ")})
	})
	post("/scale_elastic_ep", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"message": "Scaled to 2 data parallel engines (stand-in: nothing scaled)"})
	})
	if !s.cfg.DevMode {
		return
	}
	// VLLM_SERVER_DEV_MODE=1: the engine's controls, also without a key.
	for _, p := range []string{"/reset_prefix_cache", "/reset_mm_cache", "/collective_rpc", "/update_weights"} {
		post(p, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"results": []any{}}) })
	}
	// The sleep router (sleep.go).
	s.mountSleep(m)
}

// invocations: a body with "messages" is a chat, else a completion.
func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, 400, "Bad Request", "could not read the request body")
		return
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil {
		writeError(w, 400, "Bad Request", "JSON decode error")
		return
	}
	if _, ok := probe["messages"]; !ok {
		var prompt struct {
			Prompt string `json:"prompt"`
		}
		json.Unmarshal(body, &prompt)
		body, _ = json.Marshal(map[string]any{"messages": []any{map[string]any{"role": "user", "content": prompt.Prompt}}, "model": json.RawMessage(orNull(probe["model"]))})
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	s.chat(w, r)
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func (s *Server) generateTokens(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TokenIDs []int `json:"token_ids"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
	writeJSON(w, 200, map[string]any{"request_id": "standin-generate", "choices": []any{map[string]any{"index": 0, "token_ids": []int{9707, 0}, "finish_reason": "stop"}}})
}

func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Prompt string `json:"prompt"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
	words := strings.Fields(req.Prompt)
	tokens := make([]int, len(words))
	for i := range words {
		tokens[i] = 1000 + i
	}
	writeJSON(w, 200, map[string]any{"count": len(tokens), "max_model_len": s.cfg.MaxModelLen, "tokens": tokens, "token_strs": nil})
}

// RouteList is what the start-up log lists, as vLLM's launcher prints it.
func RouteList(devMode bool) []string {
	routes := []string{"/health, Methods: GET", "/metrics, Methods: GET", "/version, Methods: GET", "/v1/models, Methods: GET", "/v1/chat/completions, Methods: POST",
		"/invocations, Methods: POST", "/inference/v1/generate, Methods: POST", "/pooling, Methods: POST", "/classify, Methods: POST", "/score, Methods: POST",
		"/rerank, Methods: POST", "/tokenize, Methods: POST", "/detokenize, Methods: POST", "/scale_elastic_ep, Methods: POST"}
	if devMode {
		routes = append(routes, "/sleep, Methods: POST", "/wake_up, Methods: POST", "/is_sleeping, Methods: GET", "/reset_prefix_cache, Methods: POST",
			"/reset_mm_cache, Methods: POST", "/collective_rpc, Methods: POST", "/update_weights, Methods: POST")
	}
	return routes
}
