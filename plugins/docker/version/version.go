// Package version holds the plugin's version, set at link time to the
// @pulumi/docker npm package's version (scripts/versions.env).
package version

// Version is overwritten with -ldflags "-X myia.local/plugins/docker/version.Version=...".
var Version = "0.0.0-dev"
