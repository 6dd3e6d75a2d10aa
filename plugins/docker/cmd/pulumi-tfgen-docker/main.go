// Command pulumi-tfgen-docker writes the provider's Pulumi schema with the
// bridge's own generator: `pulumi-tfgen-docker schema --out DIR`.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"myia.local/plugins/docker/provider"
	"myia.local/plugins/docker/version"
)

func main() {
	tfgen.Main("docker", version.Version, provider.Info())
}
