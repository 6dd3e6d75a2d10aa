// Package shim exposes the upstream Terraform provider's constructor, which
// lives in an internal package, to our bridge program.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the upstream SDKv2 provider (containers, images,
// networks, volumes, ...). Its plugin-framework half (compose, buildx) is not
// bridged, as in the official Pulumi provider.
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
