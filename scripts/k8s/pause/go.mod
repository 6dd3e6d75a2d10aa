// The pod sandbox of the real node (scripts/k8s.sh kubelet): no dependency.
module myia.local/k8s/pause

go 1.24
