// main.go — tfcore: a small stand-in for Terraform core that launches and
// drives terraform-provider-cellrouter exactly as Terraform does.
//
//	tfcore [-chdir=DIR] [-emulate=1.N] schema
//	tfcore [-chdir=DIR] validate|plan|apply|destroy|refresh [options]
//	tfcore [-chdir=DIR] import [options] ADDR ID
//	tfcore [-chdir=DIR] query [-generate-config-out=FILE] [options]
//	tfcore [-chdir=DIR] show [-state FILE]
//	tfcore check-mtls|check-tls|check-concurrent|check-shutdown|bench-schema  (see checks.go)
//	tfcore fake-provider  a deliberately faulty provider (see fake.go)
//
// -emulate (or TFCORE_EMULATE) selects the Terraform release whose calls
// and checks tfcore follows (emulate.go); the newest by default.
//
// `plan -out FILE` saves the plan; `apply FILE` applies it (no new refresh,
// refused if the state changed since).
//
// Options: -chdir DIR, -state FILE (default terraform.tfstate), -var k=v,
// -parallelism N (10), -detailed-exitcode (plan: 0 no changes, 1 error,
// 2 changes), -auto-approve (apply/destroy never prompt: it is required).
// TFCORE_PROVIDER names the provider binary (default: next to tfcore);
// TFCORE_HOOK_BEFORE_APPLY is a shell command run between the plan and the
// apply of `apply` (tests use it to change the map out of band).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cellrouter/proto/tfplugin6"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	chdir        string
	state        string
	vars         multiFlag
	parallelism  int
	detailed     bool
	autoApprove  bool
	out          string
	genConfigOut string
	args         []string
}

func usage() {
	fmt.Fprintf(os.Stderr, `Usage: tfcore [-chdir=DIR] [-emulate=VERSION] COMMAND [options] [args]

-emulate (or TFCORE_EMULATE) picks the Terraform release to behave as:
1.4, 1.11, 1.12, 1.13, 1.14 or 1.15 (the default).

Commands:
  schema      print the provider schema (terraform providers schema -json)
  validate    validate the configuration
  plan        show changes required by the configuration
  apply       create or update infrastructure (needs -auto-approve)
  destroy     destroy everything in state (needs -auto-approve)
  refresh     update the state to match remote objects
  show        show the state and outputs
  import      import ADDR ID into the state
  query       list remote objects with the list blocks of *.tfquery.hcl
              (-generate-config-out=FILE writes import blocks and resources)
  check-mtls, check-tls, check-concurrent, check-shutdown, bench-schema
              protocol checks and benchmarks (see checks.go)

Options: -chdir DIR -state FILE -var NAME=VALUE -parallelism N
         -detailed-exitcode -auto-approve -out FILE (plan)
         apply FILE applies a saved plan
`)
}

func parseOptions(cmd string, args []string, o *options) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(&o.chdir, "chdir", o.chdir, "working directory")
	fs.StringVar(&o.state, "state", o.state, "state file")
	fs.Var(&o.vars, "var", "variable NAME=VALUE")
	fs.IntVar(&o.parallelism, "parallelism", o.parallelism, "concurrent operations")
	fs.BoolVar(&o.detailed, "detailed-exitcode", false, "plan exit code 2 on changes")
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "apply without asking")
	fs.StringVar(&o.out, "out", "", "plan: save the plan to this file")
	fs.StringVar(&o.genConfigOut, "generate-config-out", "", "query: write import blocks and configuration to this new file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.parallelism < 1 {
		return fmt.Errorf("-parallelism must be at least 1")
	}
	o.args = fs.Args()
	return nil
}

var (
	// interrupted: no new operation starts once set (first SIGINT/SIGTERM).
	interrupted atomic.Bool
	stopMu      sync.Mutex
	stopList    []*Provider
	stopOnce    sync.Once
)

// stopOnInterrupt: on SIGINT/SIGTERM, Terraform asks running providers to
// stop (StopProvider) and waits for their calls to end; so do we.
func stopOnInterrupt(p *Provider) {
	stopMu.Lock()
	stopList = append(stopList, p)
	stopMu.Unlock()
	stopOnce.Do(func() {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			for range ch {
				if interrupted.Swap(true) {
					fmt.Fprintln(os.Stderr, "\nTwo interrupts received. Exiting immediately. Note that data loss may have occurred.")
					os.Exit(1)
				}
				fmt.Fprintln(os.Stderr, "\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\nGracefully shutting down...")
				stopMu.Lock()
				for _, p := range stopList {
					if p.rpc != nil && !p.Exited() {
						_, _ = p.rpc.StopProvider(context.Background(), &tfplugin6.StopProvider_Request{})
					}
				}
				stopMu.Unlock()
			}
		}()
	})
}

func main() {
	started := time.Now()
	rc := run(os.Args[1:])
	if path := os.Getenv("TFCORE_STATS"); path != "" {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		appendStat(path, fmt.Sprintf("tfcore_elapsed_s=%.3f tfcore_peak_rss_kb=%d tfcore_cpu_s=%.2f exit=%d\n",
			time.Since(started).Seconds(), ru.Maxrss, cpu.Seconds(), rc))
	}
	os.Exit(rc)
}

func run(args []string) int {
	o := &options{state: "terraform.tfstate", parallelism: 10}
	if err := emulationFromEnv(); err != nil {
		fmt.Fprintf(os.Stderr, "tfcore: TFCORE_EMULATE: %v\n", err)
		return 1
	}
	// Global options: -chdir=DIR (as Terraform) and -emulate=VERSION.
	for len(args) > 0 && (strings.HasPrefix(args[0], "-chdir") || strings.HasPrefix(args[0], "-emulate")) {
		name := strings.TrimPrefix(strings.SplitN(args[0], "=", 2)[0], "-")
		var val string
		if v := strings.TrimPrefix(args[0], "-"+name+"="); v != args[0] {
			val = v
			args = args[1:]
		} else if len(args) > 1 && args[0] == "-"+name {
			val = args[1]
			args = args[2:]
		} else {
			usage()
			return 1
		}
		switch name {
		case "chdir":
			o.chdir = val
		case "emulate":
			if err := setEmulation(val); err != nil {
				fmt.Fprintf(os.Stderr, "tfcore: -emulate: %v\n", err)
				return 1
			}
		default:
			usage()
			return 1
		}
	}
	if len(args) == 0 {
		usage()
		return 1
	}
	cmd := args[0]
	switch cmd { // the checks parse their own flags
	case "check-mtls":
		return checkMTLS(args[1:])
	case "check-tls":
		return checkTLS(args[1:])
	case "check-concurrent":
		return checkConcurrent(args[1:])
	case "check-shutdown":
		return checkShutdown(args[1:])
	case "bench-schema":
		return benchSchema(args[1:])
	case "fake-provider":
		return runFakeProvider()
	}
	if err := parseOptions(cmd, args[1:], o); err != nil {
		return 1
	}
	if o.chdir != "" {
		if err := os.Chdir(o.chdir); err != nil {
			fmt.Fprintf(os.Stderr, "Error handling -chdir option: %v\n", err)
			return 1
		}
	}
	ctx := context.Background()
	switch cmd {
	case "schema":
		return cmdSchema(ctx)
	case "validate":
		return cmdValidate(ctx, o)
	case "plan":
		return cmdPlanApply(ctx, o, false, false)
	case "apply":
		if len(o.args) == 1 {
			return cmdApplySaved(ctx, o, o.args[0])
		}
		return cmdPlanApply(ctx, o, true, false)
	case "destroy":
		return cmdPlanApply(ctx, o, true, true)
	case "refresh":
		return cmdRefresh(ctx, o)
	case "show":
		return cmdShow(ctx, o)
	case "import":
		return cmdImport(ctx, o)
	case "query":
		return cmdQuery(ctx, o)
	case "-h", "-help", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "tfcore: unknown command %q\n", cmd)
	usage()
	return 1
}

// report prints diagnostics and says whether there were errors.
func report(cfg *Config, diags Diags) bool {
	var src map[string][]byte
	if cfg != nil {
		src = cfg.Sources
	}
	printDiags(os.Stderr, diags, src)
	return diags.HasErrors()
}

func cmdSchema(ctx context.Context) int {
	p, err := launchProvider(nil)
	if err != nil {
		report(nil, Diags{errorDiag("Failed to load plugin schemas", err.Error())})
		return 1
	}
	defer p.Close()
	ps, diags := getSchema(ctx, p)
	if report(nil, diags) {
		return 1
	}
	out, err := providersSchemaJSON(ps)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tfcore: %v\n", err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}

func cmdValidate(ctx context.Context, o *options) int {
	cfg, diags := loadConfig(".", o.vars)
	if report(cfg, diags) {
		return 1
	}
	s, diags := openSession(ctx, cfg, o.parallelism, false)
	if report(cfg, diags) {
		return 1
	}
	s.Close()
	fmt.Println("Success! The configuration is valid.")
	return 0
}

// cmdPlanApply: plan (and, for apply/destroy, apply in a second provider
// process, as Terraform does).
func cmdPlanApply(ctx context.Context, o *options, doApply, destroy bool) int {
	cfg, diags := loadConfig(".", o.vars)
	if report(cfg, diags) {
		return 1
	}
	st, err := readState(o.state)
	if err != nil {
		report(cfg, Diags{errorDiag("Failed to load state", err.Error())})
		return 1
	}
	if doApply && !o.autoApprove {
		report(cfg, Diags{errorDiag("No -auto-approve",
			"tfcore never prompts: pass -auto-approve to apply or destroy.")})
		return 1
	}
	s, diags := openSession(ctx, cfg, o.parallelism, true)
	if report(cfg, diags) {
		return 1
	}
	refreshed, diags := s.refresh(ctx, st)
	if report(cfg, diags) {
		s.Close()
		return 1
	}
	s.printDrift(os.Stdout, refreshed)
	changes, diags := s.plan(ctx, refreshed, destroy)
	if report(cfg, diags) {
		s.Close()
		return 1
	}
	counts := s.printPlan(os.Stdout, changes)
	s.Close()
	pending := counts.Pending()
	// The refreshed objects are what apply starts from and what the state
	// records for instances left untouched.
	if err := adoptRefreshed(st, refreshed, s.schema); err != nil {
		report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
		return 1
	}
	if !doApply {
		if o.out != "" {
			if err := writePlanFile(o.out, st, o.vars, destroy, changes); err != nil {
				report(cfg, Diags{errorDiag("Failed to write plan file", err.Error())})
				return 1
			}
		}
		// views/operation.go PlanNextStep: only for a plan with changes,
		// and not under TF_IN_AUTOMATION.
		if pending && os.Getenv("TF_IN_AUTOMATION") == "" {
			fmt.Println("\n" + horizontalRule)
			if o.out == "" {
				fmt.Println("\nNote: You didn't use the -out option to save this plan, so Terraform can't\nguarantee to take exactly these actions if you run \"terraform apply\" now.")
			} else {
				fmt.Printf("\nSaved the plan to: %s\n\nTo perform exactly these actions, run the following command to apply:\n    tfcore apply %q\n", o.out, o.out)
			}
		}
		if o.detailed && pending {
			return 2
		}
		return 0
	}
	st.Data = s.dataVals
	return finishApply(ctx, cfg, o, s.schema, st, changes, destroy, pending)
}

// adoptRefreshed replaces the state's instances by their refreshed objects
// (with the identities the reads returned).
func adoptRefreshed(st *State, refreshed map[string]*Refreshed, ps *ProviderSchema) error {
	for addr, r := range refreshed {
		o := RemoteObject{Value: r.Current, Private: r.Private, Identity: r.Identity}
		if err := saveObject(st, ps, addr, r.SI.Type, r.SI.Name, r.SI.Key, o); err != nil {
			return err
		}
	}
	return nil
}

// finishApply applies planned changes in a fresh provider process (the
// apply walk) and writes the state.
func finishApply(ctx context.Context, cfg *Config, o *options, ps *ProviderSchema, st *State, changes []*Change, destroy, pending bool) int {
	if !pending {
		var buf strings.Builder
		if report(cfg, recordOutputs(&buf, st, cfg, ps)) {
			return 1
		}
		if err := st.write(); err != nil {
			report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
			return 1
		}
		if destroy {
			fmt.Println("\nDestroy complete! Resources: 0 destroyed.")
		} else {
			fmt.Println("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.")
		}
		fmt.Print(buf.String())
		return 0
	}
	if interrupted.Load() {
		report(cfg, Diags{errorDiag("Operation cancelled", "tfcore was interrupted before the apply started; nothing was applied.")})
		return 1
	}
	if hook := os.Getenv("TFCORE_HOOK_BEFORE_APPLY"); hook != "" {
		c := exec.Command("/bin/sh", "-c", hook)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			report(cfg, Diags{errorDiag("Hook failed", fmt.Sprintf("TFCORE_HOOK_BEFORE_APPLY: %v", err))})
			return 1
		}
	}
	fmt.Println()
	s2, diags := openSession(ctx, cfg, o.parallelism, true)
	if report(cfg, diags) {
		return 1
	}
	done, diags := s2.apply(ctx, os.Stdout, st, changes)
	s2.Close()
	failed := report(cfg, diags)
	var outputs strings.Builder
	if !failed {
		st.Data = s2.dataVals
		failed = report(cfg, recordOutputs(&outputs, st, cfg, s2.schema))
	}
	if err := st.write(); err != nil {
		report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
		return 1
	}
	if failed {
		return 1
	}
	fmt.Println("\n" + applySummary(done, destroy))
	fmt.Print(outputs.String())
	return 0
}

// applySummary is internal/command/views/apply.go ResourceCount.
func applySummary(c Counts, destroy bool) string {
	switch {
	case destroy:
		return fmt.Sprintf("Destroy complete! Resources: %d destroyed.", c.Destroy)
	case c.Import > 0:
		return fmt.Sprintf("Apply complete! Resources: %d imported, %d added, %d changed, %d destroyed.", c.Import, c.Add, c.Change, c.Destroy)
	}
	return fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d destroyed.", c.Add, c.Change, c.Destroy)
}

// cmdApplySaved applies a plan file written by `plan -out`, without a new
// refresh or plan (each instance still gets its final plan), as Terraform
// applies a saved plan.
func cmdApplySaved(ctx context.Context, o *options, path string) int {
	pf, err := readPlanFile(path)
	if err != nil {
		report(nil, Diags{errorDiag("Failed to load plan file", err.Error())})
		return 1
	}
	cfg, diags := loadConfig(".", pf.Vars)
	if report(cfg, diags) {
		return 1
	}
	st, err := readState(o.state)
	if err != nil {
		report(cfg, Diags{errorDiag("Failed to load state", err.Error())})
		return 1
	}
	if st.Fresh && pf.Serial == 0 {
		// Planned against no state at all, and there still is none.
		st.Lineage = pf.Lineage
	}
	if st.Lineage != pf.Lineage || st.Serial != pf.Serial {
		report(cfg, Diags{errorDiag("Saved plan is stale",
			"The given plan file can no longer be applied because the state was changed by another operation after the plan was created.")})
		return 1
	}
	// Decoding the changes needs the schema: a short-lived provider, as
	// Terraform loads schemas in a process of its own.
	p, err := launchProvider(nil)
	if err != nil {
		report(cfg, Diags{errorDiag("Failed to load plugin schemas", err.Error())})
		return 1
	}
	ps, diags := getSchema(ctx, p)
	p.Close()
	if report(cfg, diags) {
		return 1
	}
	changes, err := pf.decode(st, ps)
	if err != nil {
		report(cfg, Diags{errorDiag("Failed to load plan file", err.Error())})
		return 1
	}
	return finishApply(ctx, cfg, o, ps, st, changes, pf.Destroy, len(changes) > 0)
}

func cmdRefresh(ctx context.Context, o *options) int {
	cfg, diags := loadConfig(".", o.vars)
	if report(cfg, diags) {
		return 1
	}
	st, err := readState(o.state)
	if err != nil {
		report(cfg, Diags{errorDiag("Failed to load state", err.Error())})
		return 1
	}
	s, diags := openSession(ctx, cfg, o.parallelism, true)
	if report(cfg, diags) {
		return 1
	}
	defer s.Close()
	refreshed, diags := s.refresh(ctx, st)
	if report(cfg, diags) {
		return 1
	}
	s.printDrift(os.Stdout, refreshed)
	if err := adoptRefreshed(st, refreshed, s.schema); err != nil {
		report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
		return 1
	}
	var outputs strings.Builder
	if report(cfg, recordOutputs(&outputs, st, cfg, s.schema)) {
		return 1
	}
	if err := st.write(); err != nil {
		report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
		return 1
	}
	fmt.Println("Refresh complete.")
	fmt.Print(outputs.String())
	return 0
}

func cmdImport(ctx context.Context, o *options) int {
	if len(o.args) != 2 {
		fmt.Fprintln(os.Stderr, "Usage: tfcore import [options] ADDR ID")
		return 1
	}
	addr, id := o.args[0], o.args[1]
	cfg, diags := loadConfig(".", o.vars)
	if report(cfg, diags) {
		return 1
	}
	st, err := readState(o.state)
	if err != nil {
		report(cfg, Diags{errorDiag("Failed to load state", err.Error())})
		return 1
	}
	s, diags := openSession(ctx, cfg, o.parallelism, true)
	if report(cfg, diags) {
		return 1
	}
	defer s.Close()
	in := s.byAddr[addr]
	if in == nil {
		report(cfg, Diags{errorDiag("Configuration for import target does not exist",
			fmt.Sprintf("The configuration does not contain %s. Before importing this resource, please create its configuration in the root module.", addr))})
		return 1
	}
	fmt.Printf("%s: Importing from ID %q...\n", addr, id)
	obj, diags := s.importCall(ctx, addr, in.Resource.Type, id, noIdentity, in.Resource.Syntax)
	if report(cfg, diags) {
		return 1
	}
	fmt.Println(addr + ": Import prepared!")
	fmt.Printf("  Prepared %s for import\n", in.Resource.Type)
	// Terraform asks the provider first and refuses an address it manages
	// already afterwards (internal/terraform/node_resource_import.go).
	if _, exists := st.Instances[addr]; exists {
		report(cfg, Diags{errorDiag("Resource already managed by Terraform",
			fmt.Sprintf("Terraform is already managing a remote object for %s. To import to this address you must first remove the existing object from the state.", addr))})
		return 1
	}
	obj, diags = s.readImported(ctx, addr, in.Resource.Type, obj)
	if report(cfg, diags) {
		return 1
	}
	if err := s.saveObject(st, addr, in.Resource.Type, in.Resource.Name, in.Key, obj); err != nil {
		report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
		return 1
	}
	if err := st.write(); err != nil {
		report(cfg, Diags{errorDiag("Failed to save state", err.Error())})
		return 1
	}
	fmt.Println("\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour Terraform state and will henceforth be managed by Terraform.")
	return 0
}
