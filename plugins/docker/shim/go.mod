// A one-function module inside the upstream provider's import path: Go lets
// only packages under github.com/terraform-providers/terraform-provider-docker
// import its internal/provider, where the Terraform provider lives.
module github.com/terraform-providers/terraform-provider-docker/shim

go 1.26
