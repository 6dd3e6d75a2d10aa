package server

import (
	"net/http"
	"strconv"
	"strings"
)

// sleepParams reads /sleep's query as the release does. 0.11 and 0.20/0.21
// call int(level) on the raw string (a bad one is an unhandled ValueError:
// 500) and pass mode on (EngineCore.pause_scheduler raises ValueError for an
// unknown one: 500). 0.34 declares them as FastAPI Query params: level
// Annotated[int, Query(ge=0, le=2)] = 1, mode PauseMode = "abort",
// reset_connector bool = True, so a bad value is a 422 with pydantic's detail.
func sleepParams(w http.ResponseWriter, r *http.Request, api SleepAPI) (int, string, bool) {
	q := r.URL.Query()
	raw, mode := "1", "abort"
	if v, ok := q["level"]; ok {
		raw = v[len(v)-1]
	}
	if v, ok := q["mode"]; ok {
		mode = v[len(v)-1]
	}
	if api != Sleep034 {
		level, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || (api == Sleep020 && mode != "abort" && mode != "wait" && mode != "keep") {
			internalError(w)
			return 0, "", false
		}
		return level, mode, true
	}
	var detail []any
	level, err := strconv.Atoi(strings.TrimSpace(raw))
	switch {
	case err != nil:
		detail = append(detail, map[string]any{"type": "int_parsing", "loc": []string{"query", "level"}, "msg": "Input should be a valid integer, unable to parse string as an integer", "input": raw})
	case level < 0:
		detail = append(detail, map[string]any{"type": "greater_than_equal", "loc": []string{"query", "level"}, "msg": "Input should be greater than or equal to 0", "input": raw, "ctx": map[string]any{"ge": 0}})
	case level > 2:
		detail = append(detail, map[string]any{"type": "less_than_equal", "loc": []string{"query", "level"}, "msg": "Input should be less than or equal to 2", "input": raw, "ctx": map[string]any{"le": 2}})
	}
	if mode != "abort" && mode != "wait" && mode != "keep" {
		detail = append(detail, map[string]any{"type": "literal_error", "loc": []string{"query", "mode"}, "msg": "Input should be 'abort', 'wait' or 'keep'", "input": mode, "ctx": map[string]any{"expected": "'abort', 'wait' or 'keep'"}})
	}
	if v, ok := q["reset_connector"]; ok && !pydanticBool(v[len(v)-1]) {
		detail = append(detail, map[string]any{"type": "bool_parsing", "loc": []string{"query", "reset_connector"}, "msg": "Input should be a valid boolean, unable to interpret input", "input": v[len(v)-1]})
	}
	if len(detail) > 0 {
		writeJSON(w, 422, map[string]any{"detail": detail})
		return 0, "", false
	}
	return level, mode, true
}

// pydanticBool: the strings pydantic accepts as a bool.
func pydanticBool(s string) bool {
	switch strings.ToLower(s) {
	case "0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes":
		return true
	}
	return false
}
