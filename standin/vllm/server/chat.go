package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// ImageInfo is what the stand-in "sees" in an image.
type ImageInfo struct {
	Width, Height int
	Colour        string
}

func (i ImageInfo) String() string {
	return fmt.Sprintf("%dx%d, mostly %s", i.Width, i.Height, i.Colour)
}

type chatError struct {
	code int
	typ  string
	msg  string
}

func badRequest(format string, a ...any) *chatError {
	return &chatError{400, "BadRequestError", fmt.Sprintf(format, a...)}
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w)
		return
	}
	s.running.Add(1)
	defer s.running.Add(-1)
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, 400, "Bad Request", "could not read the request body")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, 400, "Bad Request", "Unsupported Media Type: Only 'application/json' is allowed")
		return
	}
	var req map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil || dec.More() {
		msg := "JSON decode error"
		if err != nil {
			msg += ": " + err.Error()
		}
		writeError(w, 400, "Bad Request", fmt.Sprintf("[{'type': 'json_invalid', 'loc': ('body', 0), 'msg': '%s', 'input': {}}]", msg))
		return
	}
	resp, stream, cerr := s.complete(r.Context(), req)
	if cerr != nil {
		writeError(w, cerr.code, cerr.typ, cerr.msg)
		return
	}
	if s.terminating() {
		s.newAfterTerm(r.Context(), w, resp, stream)
		return
	}
	if stream {
		s.writeStream(r.Context(), w, resp)
		return
	}
	// A whole reply takes as long as its tokens would; a client that goes
	// away meanwhile aborts it, as vLLM aborts a request whose client left.
	if !s.pace(r.Context(), resp.genTokens) {
		s.aborted(resp)
		return
	}
	writeJSON(w, 200, resp)
}

type completion struct {
	id, model, content, finish string
	created                    int64
	promptTokens, genTokens    int
	body                       map[string]any
}

// MarshalJSON gives the OpenAI chat.completion object.
func (c *completion) MarshalJSON() ([]byte, error) { return json.Marshal(c.body) }

func (s *Server) complete(ctx context.Context, req map[string]any) (*completion, bool, *chatError) {
	model, _ := req["model"].(string)
	if _, ok := req["model"]; ok && req["model"] != nil {
		if _, isStr := req["model"].(string); !isStr {
			return nil, false, &chatError{400, "Bad Request", "[{'type': 'string_type', 'loc': ('body', 'model'), 'msg': 'Input should be a valid string'}]"}
		}
	}
	rawMsgs, ok := req["messages"]
	if !ok {
		return nil, false, &chatError{400, "Bad Request", "[{'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required', 'input': {}}]"}
	}
	msgs, ok := rawMsgs.([]any)
	if !ok {
		return nil, false, &chatError{400, "Bad Request", "[{'type': 'list_type', 'loc': ('body', 'messages'), 'msg': 'Input should be a valid list'}]"}
	}
	if !s.modelKnown(model) {
		return nil, false, &chatError{404, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", model)}
	}
	if model == "" {
		model = s.cfg.ServedNames[0]
	}
	if len(msgs) == 0 {
		return nil, false, badRequest("messages must contain at least one message")
	}
	stream := false
	if v, ok := req["stream"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return nil, false, &chatError{400, "Bad Request", "[{'type': 'bool_type', 'loc': ('body', 'stream'), 'msg': 'Input should be a valid boolean'}]"}
		}
		stream = b
	}

	var texts []string
	var images []ImageInfo
	counts := map[string]int{}
	for i, m := range msgs {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil, false, &chatError{400, "Bad Request", fmt.Sprintf("[{'type': 'model_type', 'loc': ('body', 'messages', %d), 'msg': 'Input should be a valid dictionary'}]", i)}
		}
		role, _ := mm["role"].(string)
		if role == "" {
			return nil, false, &chatError{400, "Bad Request", fmt.Sprintf("[{'type': 'missing', 'loc': ('body', 'messages', %d, 'role'), 'msg': 'Field required'}]", i)}
		}
		switch c := mm["content"].(type) {
		case nil:
		case string:
			if role == "user" {
				texts = append(texts, c)
			}
		case []any:
			for _, part := range c {
				p, ok := part.(map[string]any)
				if !ok {
					return nil, false, badRequest("content parts must be objects")
				}
				typ, _ := p["type"].(string)
				switch typ {
				case "text", "input_text":
					if t, ok := p["text"].(string); ok && role == "user" {
						texts = append(texts, t)
					}
				case "image_url", "input_image", "image":
					url := imageURL(p)
					if url == "" {
						return nil, false, badRequest("image_url part without a url")
					}
					counts["image"]++
					info, err := s.loadImage(ctx, url)
					if err != nil {
						return nil, false, badRequest("%s", err)
					}
					images = append(images, info)
				case "video_url", "video":
					counts["video"]++
				case "audio_url", "input_audio", "audio":
					counts["audio"]++
				default:
					return nil, false, badRequest("Unknown part type: %s", typ)
				}
			}
		default:
			return nil, false, badRequest("message content must be a string or a list of parts")
		}
	}
	for _, mod := range []string{"image", "video", "audio"} {
		if n := counts[mod]; n > 0 {
			limit := s.cfg.MMLimits[mod]
			if n > limit {
				return nil, false, badRequest("At most %d %s(s) may be provided in one prompt.", limit, mod)
			}
		}
	}

	content := reply(images, texts)
	words := strings.Fields(content)
	// min_tokens (a vLLM sampling parameter): a longer reply, for long generations.
	if n := intParam(req, "min_tokens"); n > len(words) {
		for i := len(words); i < n; i++ {
			words = append(words, fmt.Sprintf("t%d", i))
		}
		content = strings.Join(words, " ")
	}
	finish := "stop"
	if mt := maxTokens(req); mt > 0 && mt < len(words) {
		words = words[:mt]
		content = strings.Join(words, " ")
		finish = "length"
	}
	prompt := 0
	for _, t := range texts {
		prompt += len(strings.Fields(t)) + 1
	}
	prompt += 8 + 64*len(images)
	sum := sha256.Sum256([]byte(model + "\x00" + content + fmt.Sprint(time.Now().UnixNano())))
	c := &completion{
		id: "chatcmpl-" + hex.EncodeToString(sum[:16]), model: model, content: content, finish: finish,
		created: time.Now().Unix(), promptTokens: prompt, genTokens: len(words),
	}
	c.body = map[string]any{
		"id": c.id, "object": "chat.completion", "created": c.created, "model": model,
		"choices": []any{map[string]any{
			"index": 0,
			"message": map[string]any{
				"role": "assistant", "content": content, "refusal": nil, "annotations": nil,
				"audio": nil, "function_call": nil, "tool_calls": []any{}, "reasoning_content": nil,
			},
			"logprobs": nil, "finish_reason": finish, "stop_reason": nil,
		}},
		"service_tier": nil, "system_fingerprint": nil,
		"usage": map[string]any{
			"prompt_tokens": prompt, "total_tokens": prompt + len(words),
			"completion_tokens": len(words), "prompt_tokens_details": nil,
		},
		"prompt_logprobs": nil, "kv_transfer_params": nil,
	}
	s.promptT.Add(int64(prompt))
	s.genT.Add(int64(len(words)))
	s.success.Add(1)
	return c, stream, nil
}

func intParam(req map[string]any, key string) int {
	if n, ok := req[key].(json.Number); ok {
		if i, err := n.Int64(); err == nil && i > 0 {
			return int(i)
		}
	}
	return 0
}

func maxTokens(req map[string]any) int {
	for _, k := range []string{"max_completion_tokens", "max_tokens"} {
		if n, ok := req[k].(json.Number); ok {
			if i, err := n.Int64(); err == nil && i > 0 {
				return int(i)
			}
		}
	}
	return 0
}

// reply is the deterministic answer: it says it is the stand-in and
// describes each image.
func reply(images []ImageInfo, texts []string) string {
	var b strings.Builder
	b.WriteString("[vllm stand-in]")
	if len(images) > 0 {
		noun := "image"
		if len(images) > 1 {
			noun = "images"
		}
		parts := make([]string, len(images))
		for i, im := range images {
			parts[i] = im.String()
		}
		fmt.Fprintf(&b, " %d %s: %s", len(images), noun, strings.Join(parts, "; "))
	}
	if len(texts) > 0 {
		t := strings.Join(strings.Fields(texts[len(texts)-1]), " ")
		if r := []rune(t); len(r) > 120 {
			t = string(r[:120]) + "..."
		}
		if len(images) > 0 {
			b.WriteString(".")
		}
		fmt.Fprintf(&b, " You said: %q", t)
	}
	if len(images) == 0 && len(texts) == 0 {
		b.WriteString(" no user text.")
	}
	return b.String()
}

func imageURL(p map[string]any) string {
	for _, k := range []string{"image_url", "image"} {
		switch v := p[k].(type) {
		case string:
			return v
		case map[string]any:
			if u, ok := v["url"].(string); ok {
				return u
			}
		}
	}
	return ""
}

func (s *Server) loadImage(ctx context.Context, url string) (ImageInfo, error) {
	var data []byte
	switch {
	case strings.HasPrefix(url, "data:"):
		meta, payload, ok := strings.Cut(url[len("data:"):], ",")
		if !ok {
			return ImageInfo{}, fmt.Errorf("Invalid data URL: missing ','")
		}
		mediaType := strings.ToLower(strings.Split(meta, ";")[0])
		if !strings.HasPrefix(mediaType, "image/") {
			return ImageInfo{}, fmt.Errorf("Unsupported media type for an image: %s", mediaType)
		}
		if !strings.HasSuffix(meta, ";base64") {
			return ImageInfo{}, fmt.Errorf("Only base64 data URLs are supported for now.")
		}
		var err error
		data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
		if err != nil {
			if data, err = base64.RawStdEncoding.DecodeString(strings.TrimSpace(payload)); err != nil {
				return ImageInfo{}, fmt.Errorf("Failed to decode base64 image data: %v", err)
			}
		}
	case strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://"):
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
		if err != nil {
			return ImageInfo{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ImageInfo{}, fmt.Errorf("Failed to fetch image from %s: %v", url, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return ImageInfo{}, fmt.Errorf("Failed to fetch image from %s: HTTP %d", url, resp.StatusCode)
		}
		data, _ = io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	default:
		return ImageInfo{}, fmt.Errorf("The URL must be either a HTTP, data or file URL.")
	}
	return DescribeImage(data)
}

// DescribeImage decodes a PNG/JPEG/GIF and names its dominant colour.
func DescribeImage(data []byte) (ImageInfo, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return ImageInfo{}, fmt.Errorf("Failed to load image: cannot identify image file (%v)", err)
	}
	b := img.Bounds()
	counts := map[string]int{}
	step := 1
	if n := b.Dx() * b.Dy(); n > 40000 {
		step = int(math.Sqrt(float64(n) / 40000))
	}
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			r, g, bl, a := img.At(x, y).RGBA()
			if a == 0 {
				counts["transparent"]++
				continue
			}
			counts[ColourName(uint8(r>>8), uint8(g>>8), uint8(bl>>8))]++
		}
	}
	best, bestN := "black", -1
	for _, k := range sortedKeys(counts) {
		if counts[k] > bestN {
			best, bestN = k, counts[k]
		}
	}
	return ImageInfo{Width: b.Dx(), Height: b.Dy(), Colour: best}, nil
}

// ColourName puts an RGB colour in one of a few named bins.
func ColourName(r, g, b uint8) string {
	rf, gf, bf := float64(r)/255, float64(g)/255, float64(b)/255
	mx := math.Max(rf, math.Max(gf, bf))
	mn := math.Min(rf, math.Min(gf, bf))
	v := mx
	d := mx - mn
	s := 0.0
	if mx > 0 {
		s = d / mx
	}
	switch {
	case v < 0.2:
		return "black"
	case s < 0.2 && v > 0.85:
		return "white"
	case s < 0.2:
		return "gray"
	}
	var h float64
	switch mx {
	case rf:
		h = math.Mod((gf-bf)/d, 6)
	case gf:
		h = (bf-rf)/d + 2
	default:
		h = (rf-gf)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	switch {
	case h < 15 || h >= 345:
		if v < 0.6 && s > 0.5 {
			return "brown"
		}
		return "red"
	case h < 40:
		if v < 0.6 {
			return "brown"
		}
		return "orange"
	case h < 70:
		return "yellow"
	case h < 160:
		return "green"
	case h < 200:
		return "cyan"
	case h < 260:
		return "blue"
	case h < 290:
		return "purple"
	default:
		if s < 0.5 {
			return "pink"
		}
		return "magenta"
	}
}

func (s *Server) writeStream(ctx context.Context, w http.ResponseWriter, c *completion) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{
			"id": c.id, "object": "chat.completion.chunk", "created": c.created, "model": c.model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	// One chunk a token, paced: the pieces add up to the whole content.
	for _, piece := range strings.SplitAfter(c.content, " ") {
		if !s.pace(ctx, 1) {
			s.aborted(c)
			return
		}
		if s.cutNow() {
			s.cutStream(ctx, w)
			return
		}
		chunk(map[string]any{"content": piece}, nil)
	}
	chunk(map[string]any{}, c.finish)
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// pace waits n token times; false when the client went away first.
func (s *Server) pace(ctx context.Context, n int) bool {
	if s.cfg.TokenDelay <= 0 || n <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(time.Duration(n) * s.cfg.TokenDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// aborted counts and logs a request whose client disconnected, in vLLM's words.
func (s *Server) aborted(c *completion) {
	s.success.Add(-1)
	s.abortN.Add(1)
	if s.cfg.Log != nil {
		s.cfg.Log.Info("async_llm.py:420", "Aborted request %s.", c.id)
	}
}
