package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Invoke serves command:local:run: the command runs on every call, previews
// included. The result echoes the arguments (secret markers kept) and adds
// stdout, stderr and, where asked, assets and archive.
func (s *server) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != runToken {
		return nil, fmt.Errorf("unknown function %q: this stand-in implements only %s", req.GetTok(), runToken)
	}
	s.announceOnce(ctx)
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	ret, fails, err := s.run(ctx, args)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.InvokeResponse{}
	for _, f := range fails {
		resp.Failures = append(resp.Failures, f.rpc())
	}
	if ret != nil {
		if resp.Return, err = marshal(ret); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (s *server) run(ctx context.Context, args resource.PropertyMap) (resource.PropertyMap, []checkFailure, error) {
	in, fails := decodeInputs(args, runInputKeys)
	if in.Command == nil && !in.Unknown {
		fails = append(fails, checkFailure{"command", "missing required property 'command'"})
	}
	if len(fails) > 0 {
		return nil, fails, nil
	}
	if in.Unknown {
		return nil, nil, errors.New("command:local:run: some arguments are not known yet")
	}
	ctx, cancel := s.runCtx(ctx)
	defer cancel()
	res, err := runCommand(ctx, *in.Command, in, result{}, s.lineLog(ctx, ""))
	if err != nil {
		return nil, nil, err
	}
	ret := echo(args, runInputKeys)
	setOutputs(ret, res)
	return ret, nil, nil
}
