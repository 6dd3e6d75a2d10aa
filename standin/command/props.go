package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// Property maps keep secret and unknown markers both ways, so that secretness
// and computedness flow from the engine through this plugin and back.
var marshalOpts = plugin.MarshalOptions{
	KeepUnknowns:  true,
	KeepSecrets:   true,
	KeepResources: true,
	SkipNulls:     true,
}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, marshalOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOpts)
}

// The input keys of command:local:Command and command:local:run.
var (
	baseInputKeys    = []string{"stdin", "logging", "interpreter", "dir", "environment", "assetPaths", "archivePaths", "addPreviousOutputInEnv"}
	commandInputKeys = append([]string{"triggers", "create", "update", "delete"}, baseInputKeys...)
	runInputKeys     = append([]string{"command"}, baseInputKeys...)
	outputKeys       = []string{"stdout", "stderr", "assets", "archive"}
)

// inputs are the decoded, plain values of the inputs that matter to running a
// command. Absent inputs are nil.
type inputs struct {
	Command, Create, Update, Delete *string
	Stdin, Logging, Dir             *string
	Interpreter                     []string
	Environment                     map[string]string
	AssetPaths, ArchivePaths        *[]string
	AddPreviousOutputInEnv          *bool

	// Secrets holds every string that is (part of) a secret input, so that it
	// can be kept out of logs and error messages.
	Secrets []string
	// Unknown is true when some input is not known yet (previews only).
	Unknown bool
}

type checkFailure struct{ Property, Reason string }

func (f checkFailure) rpc() *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: f.Property, Reason: f.Reason}
}

// unwrap strips a secret marker, reporting whether there was one.
func unwrap(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for v.IsSecret() {
		secret = true
		v = v.SecretValue().Element
	}
	return v, secret
}

// decodeInputs reads the keys of a property map into inputs, reporting type
// errors as check failures. Keys not listed in keys are ignored.
func decodeInputs(m resource.PropertyMap, keys []string) (inputs, []checkFailure) {
	var in inputs
	var fails []checkFailure
	fail := func(k, want string, v resource.PropertyValue) {
		fails = append(fails, checkFailure{k, fmt.Sprintf("%s must be %s, not %s", k, want, v.TypeString())})
	}
	collectSecrets(resource.NewObjectProperty(m), false, &in.Secrets)
	for _, k := range keys {
		raw, ok := m[resource.PropertyKey(k)]
		if !ok || raw.IsNull() {
			continue
		}
		if raw.ContainsUnknowns() {
			in.Unknown = true
			continue
		}
		v, _ := unwrap(raw)
		switch k {
		case "command", "create", "update", "delete", "stdin", "logging", "dir":
			if !v.IsString() {
				fail(k, "a string", v)
				continue
			}
			s := v.StringValue()
			ptr := map[string]**string{
				"command": &in.Command, "create": &in.Create, "update": &in.Update, "delete": &in.Delete,
				"stdin": &in.Stdin, "logging": &in.Logging, "dir": &in.Dir,
			}[k]
			*ptr = &s
		case "interpreter", "assetPaths", "archivePaths":
			list, ok := stringList(v)
			if !ok {
				fail(k, "a list of strings", v)
				continue
			}
			switch k {
			case "interpreter":
				in.Interpreter = list
			case "assetPaths":
				in.AssetPaths = &list
			default:
				in.ArchivePaths = &list
			}
		case "environment":
			env, ok := stringMap(v)
			if !ok {
				fail(k, "a map of strings", v)
				continue
			}
			in.Environment = env
		case "addPreviousOutputInEnv":
			if !v.IsBool() {
				fail(k, "a boolean", v)
				continue
			}
			b := v.BoolValue()
			in.AddPreviousOutputInEnv = &b
		case "triggers":
			if !v.IsArray() {
				fail(k, "a list", v)
			}
		}
	}
	return in, fails
}

func stringList(v resource.PropertyValue) ([]string, bool) {
	if !v.IsArray() {
		return nil, false
	}
	out := []string{}
	for _, e := range v.ArrayValue() {
		e, _ = unwrap(e)
		if !e.IsString() {
			return nil, false
		}
		out = append(out, e.StringValue())
	}
	return out, true
}

func stringMap(v resource.PropertyValue) (map[string]string, bool) {
	if !v.IsObject() {
		return nil, false
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		e, _ = unwrap(e)
		if e.IsNull() {
			continue
		}
		if !e.IsString() {
			return nil, false
		}
		out[string(k)] = e.StringValue()
	}
	return out, true
}

// collectSecrets appends every string found under a secret marker.
func collectSecrets(v resource.PropertyValue, inSecret bool, acc *[]string) {
	switch {
	case v.IsSecret():
		collectSecrets(v.SecretValue().Element, true, acc)
	case v.IsString():
		if inSecret && v.StringValue() != "" {
			*acc = append(*acc, v.StringValue())
		}
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			collectSecrets(e, inSecret, acc)
		}
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			collectSecrets(e, inSecret, acc)
		}
	case v.IsNumber() || v.IsBool():
		if inSecret {
			*acc = append(*acc, fmt.Sprint(v.V))
		}
	}
}

// redactor replaces known secret strings with "[secret]". Values shorter
// than minRedacted are left alone: a whole map made secret (environment) holds
// values such as "5", and replacing every "5" garbles the output (timestamps)
// while protecting nothing; keys and tokens are longer.
type redactor struct{ secrets []string }

const minRedacted = 6

func newRedactor(secrets []string) redactor {
	s := append([]string(nil), secrets...)
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return redactor{secrets: s}
}

func (r redactor) apply(msg string) string {
	for _, s := range r.secrets {
		if len(s) >= minRedacted {
			msg = strings.ReplaceAll(msg, s, "[secret]")
		}
	}
	return msg
}

// echo copies the given keys of src (markers included) into a new map.
func echo(src resource.PropertyMap, keys []string) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range keys {
		if v, ok := src[resource.PropertyKey(k)]; ok && !v.IsNull() {
			out[resource.PropertyKey(k)] = v
		}
	}
	return out
}

// plainString returns the string in v (secret or not), or "".
func plainString(v resource.PropertyValue) string {
	v, _ = unwrap(v)
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func unknown() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}
