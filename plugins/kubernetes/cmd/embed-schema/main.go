// Command embed-schema writes the two files the provider's main embeds and
// the module zip lacks (they are generated at release time):
//
//	embed-schema -src <provider module>/cmd/pulumi-resource-kubernetes -out <dir> -version 4.25.0
//
// schema-embed.json is the module's schema.json with the package version set,
// re-serialised compactly through the schema package's own types (so a field
// the engine does not know fails here, not at run time);
// terraform-mapping-embed.json is terraform-mapping.json, compacted.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	src := flag.String("src", "", "the provider module's cmd/pulumi-resource-kubernetes folder")
	out := flag.String("out", "", "where to write the *-embed.json files")
	version := flag.String("version", "", "the package version to stamp into the schema")
	flag.Parse()
	if *src == "" || *out == "" || *version == "" {
		fail(fmt.Errorf("usage: embed-schema -src DIR -out DIR -version X.Y.Z"))
	}

	var spec schema.PackageSpec
	readJSON(filepath.Join(*src, "schema.json"), &spec)
	spec.Version = *version
	writeJSON(filepath.Join(*out, "schema-embed.json"), spec)

	var mapping any
	readJSON(filepath.Join(*src, "terraform-mapping.json"), &mapping)
	writeJSON(filepath.Join(*out, "terraform-mapping-embed.json"), mapping)
}

func readJSON(path string, into any) {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
}

func writeJSON(path string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	if err := os.WriteFile(path, bytes.TrimRight(buf.Bytes(), "\n"), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "embed-schema:", err)
	os.Exit(1)
}
