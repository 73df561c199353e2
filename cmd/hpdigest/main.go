// Command hpdigest is the Hai Phong Digest daemon and its one-off jobs.
//
//	hpdigest -demo                        the whole job offline, on sample feeds
//	hpdigest -config FILE                 run the daemon
//	hpdigest -config FILE -send-now       fetch, build and send one issue now
//	hpdigest -config FILE -help           every flag
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/web/staff"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// flags holds the command line.
type flags struct {
	config     string
	demo       bool
	serve      bool
	listen     string
	version    bool
	logLevel   string
	cpuProfile string

	sendNow, dryRun, force bool
	resendFailed           int
	deliveryStatus         int
	fetchNow               bool
	digest                 string
	preview                string
	previewThemes          string

	listFeeds    bool
	reenableFeed string

	addSubscriber, name, lang, themes string
	listSubscribers                   bool
	removeSubscriber, forget          string
	exportSubscriber                  string
	importCSV, exportCSV              string

	evalThemes   string
	evalStories  string
	exportLabels string
	reclassify   bool

	createStaff  string
	hashPassword bool

	opsFlags
	deliverabilityFlags
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	var f flags
	fs := flag.NewFlagSet("hpdigest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "the TOML config `file` (see config.example.toml)")
	fs.BoolVar(&f.demo, "demo", false, "run the whole job offline on sample feeds: writes ./outbox/*.eml and ./hpdigest-demo.db")
	fs.BoolVar(&f.serve, "serve", false, "with -demo: keep serving the web pages (archive, reader pages, staff area) afterwards")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "with -demo -serve: the address to serve on")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole command to `file` (read it with go tool pprof)")

	fs.BoolVar(&f.sendNow, "send-now", false, "fetch, build and send the digest's issue now, then exit (non-zero if any recipient failed)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "with -send-now: write .eml files to the config's outbox_dir instead of using SMTP")
	fs.BoolVar(&f.force, "force", false, "with -send-now: send even if the digest requires approval and the issue is a draft")
	fs.IntVar(&f.resendFailed, "resend-failed", 0, "send issue `number` of the digest again to the recipients it failed for (not to bounced addresses)")
	fs.IntVar(&f.deliveryStatus, "delivery-status", 0, "print who got issue `number` of the digest: counts by state")
	fs.BoolVar(&f.fetchNow, "fetch-now", false, "fetch every feed once, print what happened, and exit")
	fs.StringVar(&f.digest, "digest", "", "the digest `key` for -send-now and -preview (default: the first one)")
	fs.StringVar(&f.preview, "preview", "", "assemble the draft and write its HTML email to `file` (and the text part to file.txt)")
	fs.StringVar(&f.lang, "lang", "vi", "language for -preview and -add-subscriber: vi or en")
	fs.StringVar(&f.previewThemes, "preview-themes", "", "comma-separated themes for -preview (default: all)")

	fs.BoolVar(&f.listFeeds, "feeds", false, "list every feed with its health and exit")
	fs.StringVar(&f.reenableFeed, "reenable-feed", "", "reset the errors of the feed `name` and enable it again")

	fs.StringVar(&f.addSubscriber, "add-subscriber", "", "add a confirmed subscriber with this `email` (with -name, -lang, -themes)")
	fs.StringVar(&f.name, "name", "", "subscriber name for -add-subscriber")
	fs.StringVar(&f.themes, "themes", "", "comma-separated theme keys for -add-subscriber (default: all)")
	fs.BoolVar(&f.listSubscribers, "subscribers", false, "list subscribers and exit")
	fs.StringVar(&f.removeSubscriber, "remove-subscriber", "", "remove the subscriber with this `email`")
	fs.StringVar(&f.forget, "forget", "", "delete every piece of data about the subscriber with this `email` (right to be forgotten)")
	fs.StringVar(&f.exportSubscriber, "export-subscriber", "", "print everything stored about the subscriber with this `email`, as JSON")
	fs.StringVar(&f.importCSV, "import", "", "import subscribers from a CSV `file` (email,name,language,themes)")
	fs.StringVar(&f.exportCSV, "export", "", "export subscribers to a CSV `file` (- for standard output)")

	fs.StringVar(&f.evalThemes, "eval-themes", "", "evaluate the theme rules on a labelled JSON Lines `file` and print precision, recall and F1")
	fs.StringVar(&f.evalStories, "eval-stories", "", "evaluate same-story detection on a labelled JSON Lines `file` and print pair precision, recall and F1 and every wrong decision; with -config, the file's [stories] settings and staff gazetteer, read and checked by the normal loader (no secret or database needed)")
	fs.StringVar(&f.exportLabels, "export-labels", "", "write the staff's decisions about items (include, exclude, move) as a labelled JSON Lines `file` in the -eval-themes format")
	fs.BoolVar(&f.reclassify, "reclassify", false, "run the current theme rules over every stored item and exit")
	fs.StringVar(&f.createStaff, "create-staff", "", "create or reset the staff account `email` (with -name); the password is read from HPDIGEST_STAFF_PASSWORD or standard input")
	fs.BoolVar(&f.hashPassword, "hash-password", false, "read a password from HPDIGEST_STAFF_PASSWORD or standard input and print its hash for [[staff.accounts]]")
	f.opsFlags.register(fs)
	f.deliverabilityFlags.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	return &f, nil
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v + " " + info.GoVersion
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hpdigest:", err)
		return 2
	}
	log, err := newLogger(f.logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hpdigest:", err)
		return 2
	}
	if f.version {
		fmt.Fprintln(stdout, "hpdigest", version())
		return 0
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "hpdigest: -cpuprofile:", err)
			return 2
		}
		defer stop()
	}
	if f.demo {
		return reportErr(stderr, runDemo(ctx, stdout, log, f.serve, f.listen))
	}
	if f.hashPassword {
		pw, err := readPassword(os.Stdin)
		if err == nil {
			var hash string
			if hash, err = staff.HashPassword(pw); err == nil {
				fmt.Fprintln(stdout, hash)
			}
		}
		return reportErr(stderr, err)
	}
	if f.evalThemes != "" {
		return reportErr(stderr, evalThemes(f.evalThemes, f.config, stdout))
	}
	if f.evalStories != "" {
		return reportErr(stderr, evalStories(f.evalStories, f.config, stdout))
	}
	if f.dkimKeygen != "" {
		return reportErr(stderr, dkimKeygen(&f.deliverabilityFlags, f.config, stdout))
	}
	if f.config == "" {
		fmt.Fprintln(stderr, "hpdigest: -config FILE is required (or try -demo); see -help")
		return f.failCode(2)
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		fmt.Fprintln(stderr, "hpdigest:", err)
		return f.failCode(2)
	}
	if f.checkDNS {
		return checkDNS(ctx, cfg, &f.deliverabilityFlags, stdout, stderr)
	}
	need := needs(f)
	if err := cfg.Require(need...); err != nil {
		fmt.Fprintln(stderr, "hpdigest:", err)
		return f.failCode(2)
	}
	if code, ok := runOps(ctx, cfg, f.opsFlags, stdout, stderr); ok {
		return code
	}
	opts := app.Options{Log: log, ThrowawayLinkKey: !slices.Contains(need, config.NeedLinkKeys), Needs: need}
	if f.dryRun {
		opts.DryRunDir = cfg.OutboxDir
	}
	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(stderr, "hpdigest:", err)
		return f.failCode(1)
	}
	defer a.Close()
	return command(ctx, a, f, stdout, stderr)
}

// needs lists the parts of the config the command uses besides what every
// command reads: the daemon, -send-now and -resend-failed need the SMTP
// relay (unless -dry-run) and the link-signing keys; -unsubscribe-mail
// needs the keys to check the link a reader mailed back. The other commands
// need neither (a -preview's links are signed with a throwaway key).
func needs(f *flags) []config.Need {
	sends := f.sendNow || f.resendFailed != 0 || daemon(f)
	switch {
	case daemon(f) && f.dryRun:
		return []config.Need{config.NeedLinkKeys, config.NeedMetricsToken, config.NeedIMAPPassword}
	case daemon(f):
		return []config.Need{config.NeedSMTP, config.NeedLinkKeys, config.NeedMetricsToken, config.NeedIMAPPassword}
	case sends && f.dryRun:
		return []config.Need{config.NeedLinkKeys}
	case sends:
		return []config.Need{config.NeedSMTP, config.NeedLinkKeys}
	case f.inboundMail:
		return []config.Need{config.NeedLinkKeys}
	}
	return nil
}

// daemon reports whether the flags ask for no one-off job (see command).
func daemon(f *flags) bool {
	oneOff := f.sendNow || f.resendFailed != 0 || f.deliveryStatus != 0 || f.fetchNow || f.preview != "" ||
		f.listFeeds || f.reenableFeed != "" || f.addSubscriber != "" || f.listSubscribers ||
		f.removeSubscriber != "" || f.forget != "" || f.exportSubscriber != "" || f.inboundMail ||
		f.importCSV != "" || f.exportCSV != "" || f.createStaff != "" || f.reclassify || f.exportLabels != "" ||
		f.backup != "" || f.restore != "" || f.vacuum
	return !oneOff
}

// command runs the one-off job the flags ask for, or the daemon.
func command(ctx context.Context, a *app.App, f *flags, stdout, stderr io.Writer) int {
	switch {
	case f.sendNow:
		return sendNow(ctx, a, f, stdout, stderr)
	case f.resendFailed != 0:
		return resendFailed(ctx, a, f, stdout, stderr)
	case f.deliveryStatus != 0:
		return reportErr(stderr, deliveryStatus(ctx, a, f, stdout))
	case f.fetchNow:
		return reportErr(stderr, fetchNow(ctx, a, stdout))
	case f.preview != "":
		return reportErr(stderr, preview(ctx, a, f, stdout))
	case f.listFeeds:
		return reportErr(stderr, listFeeds(ctx, a, stdout))
	case f.reenableFeed != "":
		return reportErr(stderr, a.Feeds.Reenable(ctx, f.reenableFeed))
	case f.addSubscriber != "":
		return reportErr(stderr, a.Subscribers.CLIAdd(ctx, stdout, f.addSubscriber, f.name, f.lang, f.themes))
	case f.listSubscribers:
		return reportErr(stderr, a.Subscribers.CLIList(ctx, stdout))
	case f.removeSubscriber != "":
		return reportErr(stderr, a.Subscribers.CLIRemove(ctx, stdout, f.removeSubscriber))
	case f.forget != "":
		return reportErr(stderr, a.Subscribers.CLIForget(ctx, stdout, f.forget))
	case f.exportSubscriber != "":
		return reportErr(stderr, a.Subscribers.CLIExportSubscriber(ctx, stdout, f.exportSubscriber))
	case f.inboundMail:
		return inboundMail(ctx, a, os.Stdin)
	case f.importCSV != "":
		progress := subscribers.NewImportProgress(stderr, a.Log, 5*time.Second)
		return reportErr(stderr, a.Subscribers.CLIImport(ctx, stdout, f.importCSV, progress))
	case f.exportCSV != "":
		return reportErr(stderr, a.Subscribers.CLIExport(ctx, stdout, f.exportCSV))
	case f.createStaff != "":
		return reportErr(stderr, createStaff(ctx, a, f.createStaff, f.name, os.Stdin, stdout))
	case f.exportLabels != "":
		return reportErr(stderr, exportLabels(ctx, a, f.exportLabels, stdout))
	case f.reclassify:
		n, err := a.Reclassify(ctx)
		if err == nil {
			fmt.Fprintf(stdout, "re-classified %d items\n", n)
		}
		return reportErr(stderr, err)
	}
	return reportErr(stderr, runDaemon(ctx, a))
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func reportErr(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "hpdigest:", err)
	return 1
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}
