package main

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func checkType(urn string) error {
	if t := resource.URN(urn).Type(); t != commandToken {
		return fmt.Errorf("unknown resource type %q: this stand-in implements only %s", t, commandToken)
	}
	return nil
}

// Check validates the inputs' types. The resource has no defaults, so valid
// inputs come back as they were (secret and unknown markers included).
func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	_, fails := decodeInputs(news, commandInputKeys)
	checked, err := marshal(echo(news, commandInputKeys))
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: checked}
	for _, f := range fails {
		resp.Failures = append(resp.Failures, f.rpc())
	}
	return resp, nil
}

// stateOf is the stored state: the inputs as given plus the outputs.
func stateOf(ins resource.PropertyMap, res result) resource.PropertyMap {
	st := echo(ins, commandInputKeys)
	setOutputs(st, res)
	return st
}

func setOutputs(st resource.PropertyMap, res result) {
	st["stdout"] = resource.NewStringProperty(res.Stdout)
	st["stderr"] = resource.NewStringProperty(res.Stderr)
	if res.Assets != nil {
		assets := resource.PropertyMap{}
		for p, a := range res.Assets {
			assets[resource.PropertyKey(p)] = resource.NewAssetProperty(a)
		}
		st["assets"] = resource.NewObjectProperty(assets)
	}
	if res.Archive != nil {
		st["archive"] = resource.NewArchiveProperty(res.Archive)
	}
}

// begin is how every call on a Command starts: the token checked, the
// stand-in announced (once a process), the properties decoded.
func (s *server) begin(ctx context.Context, urn string, props *structpb.Struct) (resource.PropertyMap, error) {
	if err := checkType(urn); err != nil {
		return nil, err
	}
	s.announceOnce(ctx)
	return unmarshal(props)
}

// previous reads the stdout and stderr kept in a state.
func previous(st resource.PropertyMap) result {
	return result{Stdout: plainString(st["stdout"]), Stderr: plainString(st["stderr"])}
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	props, err := s.begin(ctx, req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	id, err := resource.NewUniqueHex(urn.Name(), 8, 0)
	if err != nil {
		return nil, err
	}
	st, err := s.create(ctx, urn, props, req.GetPreview())
	if err != nil {
		return nil, err // nothing is stored: the engine records no resource
	}
	out, err := marshal(st)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, nil
}

func (s *server) create(ctx context.Context, urn resource.URN, props resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	in, fails := decodeInputs(props, commandInputKeys)
	if len(fails) > 0 {
		return nil, fmt.Errorf("invalid inputs: %s", fails[0].Reason)
	}
	if preview {
		// Nothing runs in a preview; the outputs are not known yet.
		st := echo(props, commandInputKeys)
		st["stdout"], st["stderr"] = unknown(), unknown()
		return st, nil
	}
	if in.Create == nil {
		return stateOf(props, result{}), nil
	}
	ctx, cancel := s.runCtx(ctx)
	defer cancel()
	res, err := runCommand(ctx, *in.Create, in, result{}, s.lineLog(ctx, urn))
	if err != nil {
		return nil, err
	}
	return stateOf(props, res), nil
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := s.begin(ctx, req.GetUrn(), req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	st, err := s.update(ctx, resource.URN(req.GetUrn()), olds, news, req.GetPreview())
	if err != nil {
		return nil, err // the engine keeps the previous state
	}
	out, err := marshal(st)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: out}, nil
}

func (s *server) update(ctx context.Context, urn resource.URN, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	in, fails := decodeInputs(news, commandInputKeys)
	if len(fails) > 0 {
		return nil, fmt.Errorf("invalid inputs: %s", fails[0].Reason)
	}
	// Start from the new inputs and the previous outputs.
	st := echo(news, commandInputKeys)
	for _, k := range outputKeys {
		if v, ok := olds[resource.PropertyKey(k)]; ok {
			st[resource.PropertyKey(k)] = v
		}
	}
	if preview {
		if inputsChanged(olds, news) {
			for _, k := range outputKeys {
				if _, ok := st[resource.PropertyKey(k)]; ok {
					st[resource.PropertyKey(k)] = unknown()
				}
			}
		}
		return st, nil
	}
	cmd := in.Create
	if in.Update != nil {
		cmd = in.Update
	}
	if cmd == nil {
		return st, nil
	}
	ctx, cancel := s.runCtx(ctx)
	defer cancel()
	res, err := runCommand(ctx, *cmd, in, previous(olds), s.lineLog(ctx, urn))
	if err != nil {
		return nil, err
	}
	setOutputs(st, res)
	return st, nil
}

// inputsChanged tells whether an update preview must show the outputs as
// unknown: some new input is unknown, or an input kept in the old state has a
// different value now (an input absent from the old state does not count,
// as in the official plugin).
func inputsChanged(olds, news resource.PropertyMap) bool {
	for _, k := range commandInputKeys {
		nv := news[resource.PropertyKey(k)]
		if nv.ContainsUnknowns() {
			return true
		}
		if ov, ok := olds[resource.PropertyKey(k)]; ok && !ov.DeepEquals(nv) {
			return true
		}
	}
	return false
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	props, err := s.begin(ctx, req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	in, _ := decodeInputs(props, commandInputKeys)
	if in.Delete == nil {
		return &emptypb.Empty{}, nil
	}
	ctx, cancel := s.runCtx(ctx)
	defer cancel()
	if _, err := runCommand(ctx, *in.Delete, in, previous(props), s.lineLog(ctx, resource.URN(req.GetUrn()))); err != nil {
		return nil, err // the engine keeps the resource
	}
	return &emptypb.Empty{}, nil
}

// Read returns the state as it is: a command has nothing to refresh from.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
