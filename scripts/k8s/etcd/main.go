// Command etcd is etcd's own main (go.etcd.io/etcd/server/v3/etcdmain),
// built from the served module: etcd's main package lives in a module the
// proxy does not serve as a command.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
