// Command pulumi-resource-docker serves the bridged docker provider to the
// Pulumi engine. schema-embed.json is written beside this file by
// pulumi-tfgen-docker at build time (scripts/plugins.sh); it is not committed.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"myia.local/plugins/docker/provider"
	"myia.local/plugins/docker/version"
)

//go:embed schema-embed.json
var schema []byte

func main() {
	tfbridge.Main("docker", version.Version, provider.Info(), schema)
}
