package main

import (
	"context"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// replaceOnChanges lists the inputs whose change replaces the resource. As in
// the official plugin, only a change of the whole value is forced to a
// replace here; a change of one element (triggers[0]) is an update at this
// level, and the engine turns it into a replace through the replaceOnChanges
// option ("triggers[*]") that the generated SDKs set.
var replaceOnChanges = map[string]bool{"triggers": true}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var oldInputs resource.PropertyMap
	if s.usesOldInputs() {
		if oldInputs, err = unmarshal(req.GetOldInputs()); err != nil {
			return nil, err
		}
	} else {
		// Old engines: the inputs are echoed in the state.
		oldInputs = echo(state, commandInputKeys)
	}
	return diffInputs(state, oldInputs, news, req.GetIgnoreChanges()), nil
}

// diffInputs compares old and new inputs. Inputs named in ignoreChanges keep
// their value from the state; "version" and "__"-prefixed keys are ignored.
func diffInputs(state, oldInputs, news resource.PropertyMap, ignoreChanges []string) *pulumirpc.DiffResponse {
	news = news.Copy()
	for _, k := range ignoreChanges {
		if v, ok := state[resource.PropertyKey(k)]; ok {
			news[resource.PropertyKey(k)] = v
		}
	}
	for k := range news {
		if k == "version" || strings.HasPrefix(string(k), "__") {
			delete(news, k)
		}
	}

	objDiff := oldInputs.Diff(news)
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		HasDetailedDiff: true,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
	}
	if objDiff == nil || !objDiff.AnyChanges() {
		return resp
	}
	resp.Changes = pulumirpc.DiffResponse_DIFF_SOME

	diffs, replaces := map[string]bool{}, map[string]bool{}
	for path, d := range plugin.NewDetailedDiffFromObjectDiff(objDiff, false) {
		head := path
		if pp, err := resource.ParsePropertyPath(path); err == nil && len(pp) > 0 {
			if s, ok := pp[0].(string); ok {
				head = s
			}
		}
		kind := d.Kind
		if replaceOnChanges[path] {
			kind = kind.AsReplace()
		}
		resp.DetailedDiff[path] = &pulumirpc.PropertyDiff{Kind: rpcKind(kind)}
		diffs[head] = true
		if kind.IsReplace() {
			replaces[head] = true
		}
	}
	resp.Diffs = sortedKeys(diffs)
	resp.Replaces = sortedKeys(replaces)
	return resp
}

func rpcKind(k plugin.DiffKind) pulumirpc.PropertyDiff_Kind {
	switch k {
	case plugin.DiffAdd:
		return pulumirpc.PropertyDiff_ADD
	case plugin.DiffAddReplace:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case plugin.DiffDelete:
		return pulumirpc.PropertyDiff_DELETE
	case plugin.DiffDeleteReplace:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	case plugin.DiffUpdateReplace:
		return pulumirpc.PropertyDiff_UPDATE_REPLACE
	default:
		return pulumirpc.PropertyDiff_UPDATE
	}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
