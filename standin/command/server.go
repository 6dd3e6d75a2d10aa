package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// engineLog is the part of the engine's host client this plugin uses;
// *provider.HostClient implements it.
type engineLog interface {
	Log(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
	LogStatus(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
}

// server implements pulumirpc.ResourceProviderServer for the two tokens of
// this stand-in; every other RPC answers "unimplemented".
type server struct {
	pulumirpc.UnimplementedResourceProviderServer

	version string
	host    engineLog // nil in unit tests that don't look at logs

	announce sync.Once

	mu sync.Mutex
	// oldInputs is true when the engine sends old inputs with Diff (told in Configure).
	oldInputs bool
	// cancel stops every command still running (Cancel RPC).
	cancelCtx context.Context
	cancel    context.CancelFunc
}

func newServer(version string, host engineLog) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{version: version, host: host, cancelCtx: ctx, cancel: cancel}
}

func standInNotice(version string) string {
	return fmt.Sprintf("pulumi-resource-command %s (myia-vllm stand-in: implements %s and %s only; "+
		"the official plugin is used wherever it is installed)", version, commandToken, runToken)
}

// announceOnce tells the engine, once per process, that this is a stand-in.
func (s *server) announceOnce(ctx context.Context) {
	s.announce.Do(func() {
		if s.host != nil {
			_ = s.host.Log(ctx, diag.Info, "", standInNotice(s.version))
		}
	})
}

// lineLog streams a command's output lines to the engine as status messages
// of the resource (urn is empty for invokes), as the official plugin does.
func (s *server) lineLog(ctx context.Context, urn resource.URN) lineLogger {
	if s.host == nil {
		return nil
	}
	return func(line string) { _ = s.host.LogStatus(ctx, diag.Info, urn, line) }
}

// runCtx is ctx, also cancelled when the engine sends Cancel.
func (s *server) runCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.cancelCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	js, err := schemaJSON(s.version)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetSchemaResponse{Schema: js}, nil
}

// The provider takes no configuration: accept whatever comes and change nothing.

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *server) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	s.mu.Lock()
	s.oldInputs = req.GetSendsOldInputs() && req.GetSendsOldInputsToDelete()
	s.mu.Unlock()
	s.announceOnce(ctx)
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets:   true,
		SupportsPreview: true,
		AcceptResources: true,
	}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

func (s *server) usesOldInputs() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oldInputs
}
