// pulumi-language-nodejs for machines that cannot fetch Pulumi's own.
//
// Pulumi's Node.js language host is a Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) that the
// Go module proxy ironroot's CI reaches refuses (403). Its job during
// preview/up/refresh/destroy is small: say which resource plugins the
// program's npm dependencies need, and start the Node.js SDK's own runner
// (@pulumi/pulumi/cmd/run) with the engine's addresses and the stack config.
// This program does exactly that, over the same gRPC contract, so the real
// engine runs ironroot's real program. Everything else (templates,
// `pulumi install`, policy packs, code generation) is left unimplemented and
// the engine says so if asked. Where Pulumi is installed normally, its own
// language host is used instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time to the Pulumi release this host stands in for.
var version = "0.0.0"

// The Node.js runner exits with this code after it has already shown the
// user an error: the engine must not print a second, generic one.
const exitAfterUserMessage = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetRequiredPackages reports every direct npm dependency whose package.json
// declares itself a Pulumi resource package ("pulumi": {"resource": true}).
func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	dir, err := packageDir(req.GetInfo())
	if err != nil {
		return nil, err
	}
	var project struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &project); err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for name := range project.Dependencies {
		var pkg struct {
			Version string `json:"version"`
			Pulumi  struct {
				Resource bool   `json:"resource"`
				Name     string `json:"name"`
				Version  string `json:"version"`
				Server   string `json:"server"`
			} `json:"pulumi"`
		}
		if err := readJSON(filepath.Join(dir, "node_modules", name, "package.json"), &pkg); err != nil {
			return nil, fmt.Errorf("%s is not installed (run npm ci): %w", name, err)
		}
		if !pkg.Pulumi.Resource {
			continue
		}
		dep := &pulumirpc.PackageDependency{Kind: "resource", Name: pkg.Pulumi.Name, Version: pkg.Pulumi.Version, Server: pkg.Pulumi.Server}
		if dep.Name == "" {
			dep.Name = strings.TrimPrefix(name, "@pulumi/")
		}
		if dep.Version == "" {
			dep.Version = pkg.Version
		}
		resp.Packages = append(resp.Packages, dep)
	}
	return resp, nil
}

// Run starts the SDK's runner in the program's directory and waits for it.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	dir, err := packageDir(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runner := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", "run")
	if _, err := os.Stat(runner); err != nil {
		return &pulumirpc.RunResponse{Error: "@pulumi/pulumi is not installed in " + dir + " (run npm ci)"}, nil
	}
	args := []string{runner,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--organization", req.GetOrganization(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--root-directory", info.GetRootDirectory(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, info.GetEntryPoint())
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(option(info, "typescript", "true") != "false"),
	)
	if tsconfig := option(info, "tsconfig", ""); tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	default:
		return &pulumirpc.RunResponse{Error: "the Node.js program failed: " + err.Error()}, nil
	}
}

// packageDir is the folder of the program's package.json: the program's own
// folder or the nearest one above it, up to the project's root (Pulumi.yaml).
func packageDir(info *pulumirpc.ProgramInfo) (string, error) {
	root := filepath.Clean(info.GetRootDirectory())
	for dir := filepath.Clean(info.GetProgramDirectory()); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			return dir, nil
		}
		if dir == root || dir == filepath.Dir(dir) {
			return "", fmt.Errorf("no package.json between %s and %s", info.GetProgramDirectory(), root)
		}
	}
}

// option reads a `runtime.options` value from Pulumi.yaml.
func option(info *pulumirpc.ProgramInfo, name, fallback string) string {
	if v, ok := info.GetOptions().GetFields()[name]; ok {
		switch x := v.AsInterface().(type) {
		case string:
			return x
		case bool:
			return strconv.FormatBool(x)
		}
	}
	return fallback
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

func main() {
	h := &host{}
	// The engine passes its own address as the last argument.
	if n := len(os.Args); n > 1 {
		h.engineAddress = os.Args[n-1]
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}
