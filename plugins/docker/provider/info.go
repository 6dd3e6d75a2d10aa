// Package provider maps the upstream Terraform docker provider onto the
// Pulumi tokens and property names that the @pulumi/docker SDK sends, so a
// program written against the official plugin runs unchanged on this build.
package provider

import (
	"context"
	"unicode"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tftokens "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/shim"

	"myia.local/plugins/docker/version"
)

const (
	pkg = "docker"
	mod = "index"
	// The daemon the provider talks to when neither config nor DOCKER_HOST names one.
	defaultHost = "unix:///var/run/docker.sock"
)

// resourceTok builds "docker:index/<camelName>:<Name>", the official token shape.
func resourceTok(name string) tokens.Type {
	file := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return tokens.Type(pkg + ":" + mod + "/" + file + ":" + name)
}

// Renamed holds the Terraform types whose Pulumi names are not the mechanical
// ones: @pulumi/docker calls docker_image RemoteImage (its Image is a
// separate, non-Terraform resource) and docker_config ServiceConfig.
var Renamed = map[string]string{
	"docker_image":  "RemoteImage",
	"docker_config": "ServiceConfig",
}

// RenamedData is the same for data sources.
var RenamedData = map[string]string{
	"docker_image": "getRemoteImage",
}

// Info is the bridge's description of the provider: what tfgen turns into
// the schema and what the plugin serves.
func Info() tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(shim.NewProvider(version.Version)),
		Name:        pkg,
		Version:     version.Version,
		Description: "A Pulumi package for interacting with Docker in Pulumi programs (myia-vllm offline build)",
		Keywords:    []string{"pulumi", "docker"},
		License:     "Apache-2.0",
		GitHubOrg:   "kreuzwerker",
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				EnvVars: []string{"DOCKER_HOST"},
				ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
					return defaultHost, nil
				},
			}},
			// A list in Terraform, but the SDK names it in the singular.
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok: resourceTok("Container"),
				// A container's name and ports cannot be held twice: the old one goes first.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					// One command line, not several: keep the SDK's singular names.
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {Tok: resourceTok(Renamed["docker_image"]), Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}}},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	for tf, name := range Renamed {
		if _, ok := prov.Resources[tf]; !ok {
			prov.Resources[tf] = &tfbridge.ResourceInfo{Tok: resourceTok(name)}
		}
	}
	for tf, name := range RenamedData {
		prov.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(pkg + ":" + mod + "/" + name + ":" + name)}
	}
	// Every other resource and data source gets the mechanical token, e.g.
	// docker_network -> docker:index/network:Network, as the official has it.
	prov.MustComputeTokens(tftokens.SingleModule("docker_", mod, tftokens.MakeStandard(pkg)))
	prov.SetAutonaming(255, "-")
	return prov
}
