package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func create(t *testing.T, s *server, props resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	t.Helper()
	resp, err := s.Create(t.Context(), &pulumirpc.CreateRequest{Urn: testURN, Properties: mustStruct(t, props), Preview: preview})
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(resp.Id, "c1") || len(resp.Id) != len("c1")+8 {
		t.Errorf("id %q, want c1 + 8 hex digits", resp.Id)
	}
	return mustMap(t, resp.Properties), nil
}

func TestCreatePreviewRunsNothing(t *testing.T) {
	s := newServer("1.2.1", nil)
	marker := t.TempDir() + "/ran"
	st, err := create(t, s, resource.PropertyMap{"create": strv("touch " + marker)}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !st["stdout"].IsComputed() || !st["stderr"].IsComputed() {
		t.Errorf("preview outputs should be unknown: %v", st)
	}
	if st["create"].StringValue() != "touch "+marker {
		t.Errorf("inputs not echoed: %v", st)
	}
	if _, err := resource.NewPathAsset(marker); err == nil {
		t.Error("the command ran during the preview")
	}
}

func TestSecretness(t *testing.T) {
	cases := []struct {
		name  string
		props resource.PropertyMap
	}{
		{"secret environment value", resource.PropertyMap{
			"create":      strv(`echo "$TOKEN"`),
			"environment": resource.NewObjectProperty(resource.PropertyMap{"TOKEN": secret(strv("tok-123"))}),
		}},
		{"secret environment", resource.PropertyMap{"create": strv(`echo "$TOKEN"`), "environment": secret(env("TOKEN", "tok-123"))}},
		{"secret stdin", resource.PropertyMap{"create": strv(`cat`), "stdin": secret(strv("tok-123"))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &fakeHost{}
			s := newServer("1.2.1", h)
			st, err := create(t, s, c.props, false)
			if err != nil {
				t.Fatal(err)
			}
			// Secret inputs stay secret in the state, exactly where they were.
			for k, v := range c.props {
				if !st[k].DeepEquals(v) {
					t.Errorf("%s stored as %v, given %v", k, st[k], v)
				}
			}
			// As in the official provider (pulumi-go-provider's default wiring),
			// stdout and stderr are not made secret by secret inputs; use
			// additionalSecretOutputs for that.
			if st["stdout"].ContainsSecrets() || plainString(st["stdout"]) != "tok-123" {
				t.Errorf("stdout %v", st["stdout"])
			}
			// ...but the secret never reaches the log.
			for _, l := range h.status {
				if strings.Contains(l, "tok-123") {
					t.Errorf("secret logged: %q", l)
				}
			}
		})
	}
}

func TestCreateFailureStoresNothing(t *testing.T) {
	s := newServer("1.2.1", nil)
	resp, err := s.Create(t.Context(), &pulumirpc.CreateRequest{Urn: testURN,
		Properties: mustStruct(t, resource.PropertyMap{"create": strv("echo half-done; echo bad >&2; exit 7")})})
	if err == nil {
		t.Fatal("no error")
	}
	if resp != nil {
		t.Errorf("a state came back with the error: %v", resp)
	}
	// stdout and stderr are two pipes read as they come, as the official does:
	// both lines follow the prefix, in whichever order they arrived.
	want := "exit status 7: running \"echo half-done; echo bad >&2; exit 7\":\n"
	msg := err.Error()
	if !strings.Contains(msg, want) || !strings.Contains(msg, "half-done\n") || !strings.Contains(msg, "bad\n") {
		t.Errorf("error %q, want %q then both lines", msg, want)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/log"
	olds := resource.PropertyMap{
		"create": strv("echo created"), "delete": strv(`echo "deleted after $PULUMI_COMMAND_STDOUT" >> ` + log),
		"stdout": strv("created"), "stderr": strv(""),
	}
	cases := []struct {
		name       string
		news       resource.PropertyMap
		wantStdout string
	}{
		{"update runs update, sees previous stdout", resource.PropertyMap{
			"create": strv("echo created"), "update": strv(`echo "updated from $PULUMI_COMMAND_STDOUT"`)}, "updated from created"},
		{"no update: create runs again", resource.PropertyMap{"create": strv("echo created again")}, "created again"},
		{"nothing to run keeps outputs", resource.PropertyMap{"delete": strv("true")}, "created"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer("1.2.1", nil)
			resp, err := s.Update(t.Context(), &pulumirpc.UpdateRequest{Urn: testURN, Olds: mustStruct(t, olds), News: mustStruct(t, c.news)})
			if err != nil {
				t.Fatal(err)
			}
			st := mustMap(t, resp.Properties)
			if got := plainString(st["stdout"]); got != c.wantStdout {
				t.Errorf("stdout %q, want %q", got, c.wantStdout)
			}
			// Preview: the command does not run and the outputs become unknown.
			resp, err = s.Update(t.Context(), &pulumirpc.UpdateRequest{Urn: testURN, Olds: mustStruct(t, olds), News: mustStruct(t, c.news), Preview: true})
			if err != nil {
				t.Fatal(err)
			}
			if st := mustMap(t, resp.Properties); !st["stdout"].IsComputed() {
				t.Errorf("preview stdout %v, want unknown", st["stdout"])
			}
		})
	}

	s := newServer("1.2.1", nil)
	bad := resource.PropertyMap{"update": strv("echo oops; exit 2")}
	if resp, err := s.Update(t.Context(), &pulumirpc.UpdateRequest{Urn: testURN, Olds: mustStruct(t, olds), News: mustStruct(t, bad)}); err == nil ||
		resp != nil || !strings.Contains(err.Error(), "exit status 2: running \"echo oops; exit 2\":\noops") {
		t.Errorf("failing update: %v %v", resp, err)
	}
	if _, err := s.Delete(t.Context(), &pulumirpc.DeleteRequest{Urn: testURN, Id: "c1", Properties: mustStruct(t, olds)}); err != nil {
		t.Fatal(err)
	}
	if b, err := resource.NewPathAsset(log); err != nil || b == nil {
		t.Fatalf("delete did not run: %v", err)
	}
	failing := olds.Copy()
	failing["delete"] = strv("echo cannot; exit 1")
	if _, err := s.Delete(t.Context(), &pulumirpc.DeleteRequest{Urn: testURN, Properties: mustStruct(t, failing)}); err == nil ||
		!strings.Contains(err.Error(), "cannot") {
		t.Errorf("failing delete: %v", err)
	}
}

func TestInvokeRun(t *testing.T) {
	h := &fakeHost{}
	s := newServer("1.2.1", h)
	args := resource.PropertyMap{
		"command":     strv(`cat; echo "$GREETING"`),
		"stdin":       strv("in\n"),
		"environment": env("GREETING", "hi"),
	}
	resp, err := s.Invoke(t.Context(), &pulumirpc.InvokeRequest{Tok: runToken, Args: mustStruct(t, args)})
	if err != nil {
		t.Fatal(err)
	}
	ret := mustMap(t, resp.Return)
	if ret["stdout"].StringValue() != "in\nhi" || ret["stderr"].StringValue() != "" || !ret["environment"].DeepEquals(args["environment"]) {
		t.Errorf("return %v", ret)
	}
	if len(h.logs) != 1 || !strings.Contains(h.logs[0], "myia-vllm stand-in") {
		t.Errorf("stand-in notice: %q", h.logs)
	}

	resp, err = s.Invoke(t.Context(), &pulumirpc.InvokeRequest{Tok: runToken, Args: mustStruct(t, resource.PropertyMap{})})
	if err != nil || len(resp.Failures) != 1 || resp.Failures[0].Property != "command" {
		t.Errorf("missing command: %v %v", resp, err)
	}
	_, err = s.Invoke(t.Context(), &pulumirpc.InvokeRequest{Tok: runToken, Args: mustStruct(t, resource.PropertyMap{"command": strv("echo no >&2; false")})})
	if err == nil || !strings.Contains(err.Error(), "exit status 1: running \"echo no >&2; false\":\nno") {
		t.Errorf("failing run: %v", err)
	}
	if len(h.logs) != 1 {
		t.Errorf("notice repeated: %q", h.logs)
	}
}

func TestConfigureAndInfo(t *testing.T) {
	h := &fakeHost{}
	s := newServer("1.2.1", h)
	resp, err := s.Configure(t.Context(), &pulumirpc.ConfigureRequest{SendsOldInputs: true, SendsOldInputsToDelete: true})
	if err != nil || !resp.AcceptSecrets || !resp.SupportsPreview {
		t.Fatalf("configure: %v %v", resp, err)
	}
	if !s.usesOldInputs() {
		t.Error("old inputs not noted")
	}
	info, _ := s.GetPluginInfo(t.Context(), nil)
	if info.Version != "1.2.1" {
		t.Errorf("version %q", info.Version)
	}
	want := "pulumi-resource-command 1.2.1 (myia-vllm stand-in: implements command:local:Command and command:local:run only; the official plugin is used wherever it is installed)"
	if len(h.logs) != 1 || h.logs[0] != want {
		t.Errorf("notice %q", h.logs)
	}
	if _, err := s.Check(t.Context(), &pulumirpc.CheckRequest{Urn: "urn:pulumi:dev::proj::command:remote:Command::x"}); err == nil {
		t.Error("remote:Command accepted")
	}
	chk, err := s.Check(t.Context(), &pulumirpc.CheckRequest{Urn: testURN, News: mustStruct(t, resource.PropertyMap{"create": resource.NewNumberProperty(1)})})
	if err != nil || len(chk.Failures) != 1 || chk.Failures[0].Property != "create" {
		t.Errorf("check failures: %v %v", chk, err)
	}
}
