package main

import (
	"context"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"google.golang.org/protobuf/types/known/structpb"
)

// fakeHost records what the plugin sends to the engine's log.
type fakeHost struct {
	mu     sync.Mutex
	logs   []string // Log (persistent)
	status []string // LogStatus (ephemeral)
}

func (h *fakeHost) Log(_ context.Context, _ diag.Severity, _ resource.URN, msg string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, msg)
	return nil
}

func (h *fakeHost) LogStatus(_ context.Context, _ diag.Severity, _ resource.URN, msg string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = append(h.status, msg)
	return nil
}

const testURN = "urn:pulumi:dev::proj::command:local:Command::c1"

func strv(s string) resource.PropertyValue { return resource.NewStringProperty(s) }

func secret(v resource.PropertyValue) resource.PropertyValue { return resource.MakeSecret(v) }

func env(kv ...string) resource.PropertyValue {
	m := resource.PropertyMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[resource.PropertyKey(kv[i])] = strv(kv[i+1])
	}
	return resource.NewObjectProperty(m)
}

func list(vs ...resource.PropertyValue) resource.PropertyValue { return resource.NewArrayProperty(vs) }

func mustStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustMap(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
