package main

import "encoding/json"

// Tokens served by this stand-in.
const (
	commandToken = "command:local:Command"
	runToken     = "command:local:run"
	loggingToken = "command:local:Logging"
)

// A minimal subset of the Pulumi package schema, enough to describe the two
// tokens served here. Field names follow the schema's JSON spelling.
type packageSpec struct {
	Name        string                  `json:"name"`
	Version     string                  `json:"version"`
	DisplayName string                  `json:"displayName,omitempty"`
	Description string                  `json:"description,omitempty"`
	Keywords    []string                `json:"keywords,omitempty"`
	Homepage    string                  `json:"homepage,omitempty"`
	License     string                  `json:"license,omitempty"`
	Repository  string                  `json:"repository,omitempty"`
	Publisher   string                  `json:"publisher,omitempty"`
	Language    map[string]any          `json:"language,omitempty"`
	Config      map[string]any          `json:"config"`
	Provider    map[string]any          `json:"provider"`
	Types       map[string]typeSpec     `json:"types"`
	Resources   map[string]resourceSpec `json:"resources"`
	Functions   map[string]functionSpec `json:"functions"`
}

type propSpec struct {
	Type                 string    `json:"type,omitempty"`
	Ref                  string    `json:"$ref,omitempty"`
	Items                *propSpec `json:"items,omitempty"`
	AdditionalProperties *propSpec `json:"additionalProperties,omitempty"`
	Description          string    `json:"description,omitempty"`
	Secret               bool      `json:"secret,omitempty"`
	ReplaceOnChanges     bool      `json:"replaceOnChanges,omitempty"`
	Default              any       `json:"default,omitempty"`
}

type enumValue struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

type typeSpec struct {
	Type        string              `json:"type"`
	Description string              `json:"description,omitempty"`
	Enum        []enumValue         `json:"enum,omitempty"`
	Properties  map[string]propSpec `json:"properties,omitempty"`
	Required    []string            `json:"required,omitempty"`
}

type resourceSpec struct {
	Description     string              `json:"description,omitempty"`
	Properties      map[string]propSpec `json:"properties"`
	Required        []string            `json:"required,omitempty"`
	InputProperties map[string]propSpec `json:"inputProperties"`
	RequiredInputs  []string            `json:"requiredInputs,omitempty"`
}

type objectSpec struct {
	Type       string              `json:"type"`
	Properties map[string]propSpec `json:"properties"`
	Required   []string            `json:"required,omitempty"`
}

type functionSpec struct {
	Description string     `json:"description,omitempty"`
	Inputs      objectSpec `json:"inputs"`
	Outputs     objectSpec `json:"outputs"`
}

func str(desc string) propSpec { return propSpec{Type: "string", Description: desc} }

func strList(desc string) propSpec {
	return propSpec{Type: "array", Items: &propSpec{Type: "string"}, Description: desc}
}

// baseInputSpecs are the inputs shared by the resource and the function.
func baseInputSpecs() map[string]propSpec {
	return map[string]propSpec{
		"stdin":   str("Written to the command's standard input."),
		"logging": {Ref: "#/types/" + loggingToken, Description: "Which of stdout and stderr are streamed to Pulumi's log while the command runs (default: both). Outputs are captured either way."},
		"interpreter": strList("Program and arguments that run the command; " +
			"defaults to [\"/bin/sh\", \"-c\"]."),
		"dir": str("Working directory of the command; it must exist."),
		"environment": {
			Type:                 "object",
			AdditionalProperties: &propSpec{Type: "string"},
			Description:          "Variables added to the environment of the command's process.",
		},
		"assetPaths":   strList("Globs of files, relative to dir, returned as `assets` after the command ran."),
		"archivePaths": strList("Globs of files, relative to dir, returned as one `archive` after the command ran."),
		"addPreviousOutputInEnv": {Type: "boolean", Description: "Whether the previous stdout and stderr are " +
			"passed as PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR (default: true)."},
	}
}

// baseOutputSpecs are the outputs shared by the resource and the function.
func baseOutputSpecs() map[string]propSpec {
	return map[string]propSpec{
		"stdout": str("Standard output of the command, one trailing newline removed."),
		"stderr": str("Standard error of the command, one trailing newline removed."),
		"assets": {
			Type:                 "object",
			AdditionalProperties: &propSpec{Ref: "pulumi.json#/Asset"},
			Description:          "Files matched by assetPaths, keyed by their path relative to dir.",
		},
		"archive": {Ref: "pulumi.json#/Archive", Description: "Files matched by archivePaths as one archive."},
	}
}

func commandInputSpecs() map[string]propSpec {
	m := baseInputSpecs()
	m["create"] = str("Run when the resource is created, and on updates when `update` is not set.")
	m["update"] = str("Run when the resource's inputs change; `create` runs instead when this is unset.")
	m["delete"] = str("Run when the resource is deleted.")
	m["triggers"] = propSpec{
		Type:             "array",
		Items:            &propSpec{Ref: "pulumi.json#/Any"},
		ReplaceOnChanges: true,
		Description:      "Values of any type; a change of them replaces the resource.",
	}
	return m
}

func merge(ms ...map[string]propSpec) map[string]propSpec {
	out := map[string]propSpec{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func buildSchema(version string) packageSpec {
	runInputs := baseInputSpecs()
	runInputs["command"] = str("The command to run.")
	return packageSpec{
		Name:        "command",
		Version:     version,
		DisplayName: "Command",
		Description: "Stand-in for the Pulumi Command provider (myia-vllm): only command:local:Command and command:local:run.",
		Keywords:    []string{"pulumi", "command", "category/utility", "kind/native"},
		Homepage:    "https://pulumi.com",
		License:     "Apache-2.0",
		Repository:  "https://github.com/pulumi/pulumi-command",
		Publisher:   "Pulumi",
		Language: map[string]any{
			"nodejs": map[string]any{"respectSchemaVersion": true},
		},
		Config:   map[string]any{},
		Provider: map[string]any{},
		Types: map[string]typeSpec{
			loggingToken: {
				Type: "string",
				Enum: []enumValue{
					{Value: "stdout", Description: "Log stdout only."},
					{Value: "stderr", Description: "Log stderr only."},
					{Value: "stdoutAndStderr", Description: "Log stdout and stderr."},
					{Value: "none", Description: "Log neither."},
				},
			},
		},
		Resources: map[string]resourceSpec{
			commandToken: {
				Description:     "A local command run on create, update and delete.",
				InputProperties: commandInputSpecs(),
				Properties:      merge(commandInputSpecs(), baseOutputSpecs()),
				Required:        []string{"stdout", "stderr"},
			},
		},
		Functions: map[string]functionSpec{
			runToken: {
				Description: "A local command run on every preview and update.",
				Inputs:      objectSpec{Type: "object", Properties: runInputs, Required: []string{"command"}},
				Outputs: objectSpec{
					Type:       "object",
					Properties: merge(runInputs, baseOutputSpecs()),
					Required:   []string{"command", "stdout", "stderr"},
				},
			},
		},
	}
}

func schemaJSON(version string) (string, error) {
	b, err := json.Marshal(buildSchema(version))
	return string(b), err
}
