package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

func pngURL(t *testing.T, w, h int, c color.RGBA) string {
	var b bytes.Buffer
	if err := png.Encode(&b, solid(w, h, c)); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func jpegURL(t *testing.T, w, h int, c color.RGBA) string {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, solid(w, h, c), nil); err != nil {
		t.Fatal(err)
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func newSrv(keys ...string) *httptest.Server {
	return httptest.NewServer(New(Config{
		Version: "0.11.0", Model: "Qwen/Qwen2.5-VL-3B-Instruct", ServedNames: []string{"vl"},
		MaxModelLen: 8192, APIKeys: keys, MMLimits: map[string]int{"image": 3},
	}))
}

func do(t *testing.T, s *httptest.Server, method, path, key string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func chatBody(model string, urls ...string) map[string]any {
	parts := []any{map[string]any{"type": "text", "text": "describe"}}
	for _, u := range urls {
		parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{"url": u}})
	}
	return map[string]any{"model": model, "messages": []any{map[string]any{"role": "user", "content": parts}}}
}

func content(m map[string]any) string {
	return m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].(string)
}

func errMsg(m map[string]any) string { return m["error"].(map[string]any)["message"].(string) }

func TestAPIKeyGating(t *testing.T) {
	s := newSrv("k1", "k2")
	defer s.Close()
	for _, c := range []struct {
		path, key string
		want      int
	}{
		{"/v1/models", "", 401}, {"/v1/models", "bad", 401}, {"/v1/models", "k1", 200}, {"/v1/models", "k2", 200},
		{"/v1/nothing", "", 401}, {"/health", "", 200}, {"/version", "", 200}, {"/metrics", "", 200},
	} {
		code, body := do(t, s, "GET", c.path, c.key, nil)
		if code != c.want {
			t.Errorf("%s key=%q: %d, want %d", c.path, c.key, code, c.want)
		}
		if code == 401 && body["error"] != "Unauthorized" {
			t.Errorf("401 body %v", body)
		}
	}
	code, m := do(t, s, "GET", "/v1/models", "k1", nil)
	d := m["data"].([]any)[0].(map[string]any)
	if code != 200 || d["id"] != "vl" || d["max_model_len"] != float64(8192) || m["object"] != "list" {
		t.Fatalf("models %v", m)
	}
	// scheme is case-insensitive, as in vLLM
	req, _ := http.NewRequest("GET", s.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "bearer k1")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("lowercase bearer: %d", resp.StatusCode)
	}
}

func TestChatImagesAndColours(t *testing.T) {
	s := newSrv()
	defer s.Close()
	code, m := do(t, s, "POST", "/v1/chat/completions", "", chatBody("vl", pngURL(t, 64, 64, color.RGBA{220, 20, 20, 255})))
	if code != 200 {
		t.Fatalf("%d %v", code, m)
	}
	if got := content(m); !strings.HasPrefix(got, "[vllm stand-in] 1 image: 64x64, mostly red") {
		t.Fatalf("content %q", got)
	}
	if m["object"] != "chat.completion" || m["model"] != "vl" || m["choices"].([]any)[0].(map[string]any)["finish_reason"] != "stop" || m["usage"] == nil {
		t.Fatalf("shape %v", m)
	}
	code, m = do(t, s, "POST", "/v1/chat/completions", "", chatBody("vl",
		jpegURL(t, 32, 16, color.RGBA{10, 30, 230, 255}), pngURL(t, 8, 8, color.RGBA{255, 255, 255, 255}), pngURL(t, 8, 8, color.RGBA{0, 0, 0, 255})))
	if code != 200 || !strings.HasPrefix(content(m), "[vllm stand-in] 3 images: 32x16, mostly blue; 8x8, mostly white; 8x8, mostly black") {
		t.Fatalf("%d %v", code, m)
	}
	// deterministic
	_, m2 := do(t, s, "POST", "/v1/chat/completions", "", chatBody("vl",
		jpegURL(t, 32, 16, color.RGBA{10, 30, 230, 255}), pngURL(t, 8, 8, color.RGBA{255, 255, 255, 255}), pngURL(t, 8, 8, color.RGBA{0, 0, 0, 255})))
	if content(m) != content(m2) {
		t.Fatal("not deterministic")
	}
}

func TestImageLimit(t *testing.T) {
	s := newSrv()
	defer s.Close()
	u := pngURL(t, 4, 4, color.RGBA{0, 200, 0, 255})
	code, m := do(t, s, "POST", "/v1/chat/completions", "", chatBody("vl", u, u, u, u))
	if code != 400 || errMsg(m) != "At most 3 image(s) may be provided in one prompt." || m["message"] != errMsg(m) {
		t.Fatalf("%d %v", code, m)
	}
	if e := m["error"].(map[string]any); e["type"] != "BadRequestError" || e["code"] != float64(400) {
		t.Fatalf("%v", m)
	}
	// a text-only model takes no image
	txt := httptest.NewServer(New(Config{Version: "0.11.0", Model: "Qwen/Qwen3-0.6B", MMLimits: map[string]int{}}))
	defer txt.Close()
	code, m = do(t, txt, "POST", "/v1/chat/completions", "", chatBody("Qwen/Qwen3-0.6B", u))
	if code != 400 || errMsg(m) != "At most 0 image(s) may be provided in one prompt." {
		t.Fatalf("%d %v", code, m)
	}
	code, m = do(t, txt, "POST", "/v1/chat/completions", "", chatBody("Qwen/Qwen3-0.6B"))
	if code != 200 {
		t.Fatalf("%d %v", code, m)
	}
}

func TestChatValidation(t *testing.T) {
	s := newSrv()
	defer s.Close()
	code, _ := do(t, s, "POST", "/v1/chat/completions", "", "{not json")
	if code != 400 {
		t.Fatalf("malformed json: %d", code)
	}
	code, _ = do(t, s, "POST", "/v1/chat/completions", "", map[string]any{"model": "vl"})
	if code != 400 {
		t.Fatalf("missing messages: %d", code)
	}
	code, m := do(t, s, "POST", "/v1/chat/completions", "", chatBody("other"))
	if code != 404 || errMsg(m) != "The model `other` does not exist." || m["error"].(map[string]any)["type"] != "NotFoundError" {
		t.Fatalf("%d %v", code, m)
	}
	code, m = do(t, s, "POST", "/v1/chat/completions", "", chatBody("vl", "data:image/png;base64,"+base64.StdEncoding.EncodeToString([]byte("not a png"))))
	if code != 400 || !strings.Contains(errMsg(m), "cannot identify image file") {
		t.Fatalf("%d %v", code, m)
	}
	code, _ = do(t, s, "GET", "/v1/chat/completions", "", nil)
	if code != 405 {
		t.Fatalf("GET chat: %d", code)
	}
	// max_tokens truncates and says so
	b := chatBody("vl")
	b["max_tokens"] = 2
	code, m = do(t, s, "POST", "/v1/chat/completions", "", b)
	if code != 200 || m["choices"].([]any)[0].(map[string]any)["finish_reason"] != "length" {
		t.Fatalf("%d %v", code, m)
	}
}

func TestStreaming(t *testing.T) {
	s := newSrv()
	defer s.Close()
	b := chatBody("vl")
	b["stream"] = true
	j, _ := json.Marshal(b)
	resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json", bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	if !strings.Contains(out.String(), "chat.completion.chunk") || !strings.HasSuffix(out.String(), "data: [DONE]\n\n") {
		t.Fatalf("stream %q", out.String())
	}
}

func TestMetrics(t *testing.T) {
	s := newSrv()
	defer s.Close()
	do(t, s, "POST", "/v1/chat/completions", "", chatBody("vl"))
	resp, _ := http.Get(s.URL + "/metrics")
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	for _, name := range []string{"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc",
		"vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total"} {
		if !strings.Contains(b.String(), name+"{") {
			t.Errorf("no %s", name)
		}
	}
	if !strings.Contains(b.String(), `vllm:request_success_total{engine="0",model_name="vl",finished_reason="stop"} 1.0`) {
		t.Fatalf("%s", b.String())
	}
}

func TestColourNames(t *testing.T) {
	for _, c := range []struct {
		r, g, b uint8
		want    string
	}{
		{255, 0, 0, "red"}, {0, 255, 0, "green"}, {0, 0, 255, "blue"}, {255, 255, 255, "white"}, {0, 0, 0, "black"},
		{128, 128, 128, "gray"}, {255, 255, 0, "yellow"}, {0, 255, 255, "cyan"}, {255, 0, 255, "magenta"}, {255, 140, 0, "orange"},
	} {
		if got := ColourName(c.r, c.g, c.b); got != c.want {
			t.Errorf("%v: %s, want %s", c, got, c.want)
		}
	}
}
