package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// referenceSchema loads the official schema of pulumi-command v1.2.1 from the
// shared reference folder (MYIA_SHARED, else ../../../shared from here).
func referenceSchema(t *testing.T) map[string]any {
	t.Helper()
	dir := os.Getenv("MYIA_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	path := filepath.Join(dir, "reference", "pulumi-command-v1.2.1.schema.json")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("reference schema %s is absent (set MYIA_SHARED to the shared folder to compare)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func ourSchema(t *testing.T) map[string]any {
	t.Helper()
	js, err := schemaJSON("1.2.1")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withoutDescriptions drops every "description" key: descriptions are ours,
// everything else must equal the reference.
func withoutDescriptions(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if k != "description" {
				out[k] = withoutDescriptions(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = withoutDescriptions(e)
		}
		return out
	}
	return v
}

// refs collects the "#/types/..." tokens referenced under v.
func refs(v any, acc map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, "#/types/") {
				acc[strings.TrimPrefix(s, "#/types/")] = true
			}
			refs(e, acc)
		}
	case []any:
		for _, e := range v {
			refs(e, acc)
		}
	}
}

func section(t *testing.T, schema map[string]any, kind, token string) any {
	t.Helper()
	m, _ := schema[kind].(map[string]any)
	v, ok := m[token]
	if !ok {
		t.Fatalf("%s %s missing", kind, token)
	}
	return v
}

func TestSchemaMatchesReference(t *testing.T) {
	ref, ours := referenceSchema(t), ourSchema(t)
	want := map[string]bool{}
	cases := []struct{ kind, token string }{
		{"resources", commandToken},
		{"functions", runToken},
	}
	for _, c := range cases {
		r := section(t, ref, c.kind, c.token)
		refs(r, want)
		compare(t, c.kind+" "+c.token, withoutDescriptions(r), withoutDescriptions(section(t, ours, c.kind, c.token)))
	}
	if !want[loggingToken] {
		t.Fatalf("expected the reference to use %s", loggingToken)
	}
	for token := range want {
		compare(t, "type "+token, withoutDescriptions(section(t, ref, "types", token)),
			withoutDescriptions(section(t, ours, "types", token)))
	}
	// Exactly those tokens, nothing more.
	for _, kind := range []string{"resources", "functions", "types"} {
		m := ours[kind].(map[string]any)
		for token := range m {
			if token != commandToken && token != runToken && !want[token] {
				t.Errorf("our schema has %s %s, which the stand-in does not serve", kind, token)
			}
		}
	}
	if ours["name"] != "command" || ours["version"] != "1.2.1" {
		t.Errorf("package is %v %v, want command 1.2.1", ours["name"], ours["version"])
	}
}

// compare reports each differing property (type, items, required, secret,
// replaceOnChanges, default ...) by path.
func compare(t *testing.T, path string, want, got any) {
	t.Helper()
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if !wok || !gok {
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: reference %v, ours %v", path, want, got)
		}
		return
	}
	for k, w := range wm {
		g, ok := gm[k]
		if !ok {
			t.Errorf("%s.%s: missing in ours (reference %v)", path, k, w)
			continue
		}
		compare(t, path+"."+k, w, g)
	}
	for k, g := range gm {
		if _, ok := wm[k]; !ok {
			t.Errorf("%s.%s: not in the reference (ours %v)", path, k, g)
		}
	}
}
