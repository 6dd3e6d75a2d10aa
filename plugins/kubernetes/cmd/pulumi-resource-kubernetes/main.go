// Command pulumi-resource-kubernetes serves the upstream provider
// (github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider) with the
// schema and Terraform mapping that cmd/embed-schema wrote beside this file
// from the module's own schema.json and terraform-mapping.json. The version
// comes from the ldflag -X .../provider/v4/pkg/version.Version=<version>.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

var (
	//go:embed schema-embed.json
	schema []byte
	//go:embed terraform-mapping-embed.json
	mapping []byte
)

func main() { provider.Serve("kubernetes", version.Version, schema, mapping) }
