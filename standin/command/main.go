// Command pulumi-resource-command is a stand-in for the Pulumi Command
// provider 1.2.1: it serves command:local:Command and command:local:run only.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is the plugin's version; it must equal the @pulumi/command npm
// package's. Set it with -ldflags "-X main.version=...".
var version = "1.2.1"

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(version, host), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
