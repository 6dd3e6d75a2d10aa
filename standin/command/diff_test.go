package main

import (
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestDiffRules(t *testing.T) {
	base := resource.PropertyMap{"create": strv("echo a"), "triggers": list(strv("t1"))}
	with := func(k string, v resource.PropertyValue) resource.PropertyMap {
		m := base.Copy()
		m[resource.PropertyKey(k)] = v
		return m
	}
	without := func(k string) resource.PropertyMap {
		m := base.Copy()
		delete(m, resource.PropertyKey(k))
		return m
	}
	cases := []struct {
		name         string
		olds, news   resource.PropertyMap
		ignore       []string
		wantChanges  bool
		wantReplaces []string
		wantDetailed map[string]pulumirpc.PropertyDiff_Kind
	}{
		{name: "no change", olds: base, news: base},
		{name: "create changed, no update: an update (create runs again)", olds: base, news: with("create", strv("echo b")),
			wantChanges: true, wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"create": pulumirpc.PropertyDiff_UPDATE}},
		{name: "update added", olds: base, news: with("update", strv("echo u")),
			wantChanges: true, wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"update": pulumirpc.PropertyDiff_ADD}},
		{name: "delete changed", olds: with("delete", strv("x")), news: with("delete", strv("y")),
			wantChanges: true, wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"delete": pulumirpc.PropertyDiff_UPDATE}},
		{name: "environment changed", olds: with("environment", env("A", "1")), news: with("environment", env("A", "2")),
			wantChanges: true, wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"environment.A": pulumirpc.PropertyDiff_UPDATE}},
		{name: "secret environment unchanged", olds: with("environment", secret(env("A", "1"))), news: with("environment", secret(env("A", "1")))},
		{name: "triggers added: replace", olds: without("triggers"), news: base,
			wantChanges: true, wantReplaces: []string{"triggers"},
			wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"triggers": pulumirpc.PropertyDiff_ADD_REPLACE}},
		{name: "triggers removed: replace", olds: base, news: without("triggers"),
			wantChanges: true, wantReplaces: []string{"triggers"},
			wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"triggers": pulumirpc.PropertyDiff_DELETE_REPLACE}},
		// As the official plugin: an element change is reported as an update of
		// triggers[0]; the engine replaces through the SDK's replaceOnChanges option.
		{name: "trigger element changed", olds: base, news: with("triggers", list(strv("t2"))),
			wantChanges: true, wantDetailed: map[string]pulumirpc.PropertyDiff_Kind{"triggers[0]": pulumirpc.PropertyDiff_UPDATE}},
		{name: "ignoreChanges keeps the state's value", olds: base, news: with("create", strv("echo b")), ignore: []string{"create"}},
		{name: "version and __ keys ignored", olds: base, news: resource.PropertyMap{
			"create": strv("echo a"), "triggers": list(strv("t1")), "version": strv("1"), "__internal": strv("x"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := diffInputs(c.olds, c.olds, c.news, c.ignore)
			if (got.Changes == pulumirpc.DiffResponse_DIFF_SOME) != c.wantChanges {
				t.Errorf("changes %v, want %v", got.Changes, c.wantChanges)
			}
			if !reflect.DeepEqual(got.Replaces, c.wantReplaces) {
				t.Errorf("replaces %v, want %v", got.Replaces, c.wantReplaces)
			}
			kinds := map[string]pulumirpc.PropertyDiff_Kind{}
			for k, v := range got.DetailedDiff {
				kinds[k] = v.Kind
			}
			if c.wantDetailed == nil {
				c.wantDetailed = map[string]pulumirpc.PropertyDiff_Kind{}
			}
			if !reflect.DeepEqual(kinds, c.wantDetailed) {
				t.Errorf("detailed %v, want %v", kinds, c.wantDetailed)
			}
			if got.DeleteBeforeReplace {
				t.Error("deleteBeforeReplace set")
			}
		})
	}
}

func TestDiffUsesStateWithoutOldInputs(t *testing.T) {
	s := newServer("1.2.1", nil) // Configure not called: the engine sends no old inputs
	state := resource.PropertyMap{"create": strv("echo a"), "stdout": strv("a"), "stderr": strv("")}
	resp, err := s.Diff(t.Context(), &pulumirpc.DiffRequest{
		Urn: testURN, Olds: mustStruct(t, state), News: mustStruct(t, resource.PropertyMap{"create": strv("echo a")}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("outputs in the state were taken for inputs: %v", resp)
	}
}
