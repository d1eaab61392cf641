package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// optionalScenarios run only when named in -scenarios.
var optionalScenarios = []string{"hosted"}

// allScenarios in the order a run takes them.
var allScenarios = []string{
	"ceiling", "inbound-flood", "inbound-rate", "polling-rate", "polling-flood",
	"outbound-flood", "broadcast", "buttons", "noisy-neighbour", "large-media",
}

type config struct {
	role        string
	stores      []string
	scenarios   []string
	databaseURL string
	poolConns   int
	duration    time.Duration // inbound-rate
	flood       time.Duration // floods and the ceiling
	pollFor     time.Duration // polling-rate
	rate        float64
	chats       int
	concurrency int
	broadcast   int
	bcastRate   float64
	bcastDrain  time.Duration
	buttonChats int
	buttonsFor  time.Duration
	workers     int
	idlePerHost int
	// noisy-neighbour
	noisyCount int
	noisyHangs int
	noisyLimit time.Duration
	// large-media
	mediaDocs  int
	mediaMB    int
	mediaLimit time.Duration
	// the engine's per-channel cap and media pool
	channelWorkers int
	mediaWorkers   int
	// hosted
	hostedChannels int
	hostedBusy     int
	hostedRate     float64
	hostedTraffic  time.Duration
	hostedSync     []time.Duration
	hostedCheck    time.Duration
	hostedAdds     int
	inprocess      bool
	quick          bool
	jsonOut        string
	cpuProfile     string
	memProfile     string
	logPath        string
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var stores, scenarios string
	fs.StringVar(&c.role, "role", "", "internal: 'world' runs the fakes and the load generator (the parent starts it)")
	fs.StringVar(&stores, "store", "both", "store to test: sqlite, postgres or both")
	fs.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios: "+strings.Join(allScenarios, ", ")+"; and, only when named, "+strings.Join(optionalScenarios, ", "))
	var hostedSync string
	fs.IntVar(&c.hostedChannels, "hosted-channels", 1000, "hosted: channels kept in the store and served by both replicas")
	fs.IntVar(&c.hostedBusy, "hosted-busy", 100, "hosted: channels with traffic")
	fs.Float64Var(&c.hostedRate, "hosted-rate", 1, "hosted: messages per second each way on each busy channel")
	fs.DurationVar(&c.hostedTraffic, "hosted-traffic", 20*time.Second, "hosted: how long the busy channels' traffic lasts with every channel hosted")
	fs.StringVar(&hostedSync, "hosted-sync", "5s,500ms", "hosted: CHANNEL_SYNC_INTERVAL values to measure, comma-separated (the replicas restart for each after the first)")
	fs.DurationVar(&c.hostedCheck, "hosted-webhook-check", time.Minute, "hosted: WEBHOOK_CHECK_INTERVAL; the first sync interval's quiet window lasts two of them")
	fs.IntVar(&c.hostedAdds, "hosted-adds", 12, "hosted: channels added one by one through each path (admin API, CLI) per sync interval, timed until both replicas serve them")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL server (default $TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test?sslmode=disable); each scenario gets a fresh schema, dropped after")
	fs.IntVar(&c.poolConns, "pool-max-conns", 0, "PostgreSQL pool size given to the store as pool_max_conns (0: the store's default, 32, as in production without it)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "inbound-rate: how long updates arrive at -rate (the end-to-end target is stated for 60s)")
	fs.DurationVar(&c.flood, "flood", 10*time.Second, "inbound-flood, outbound-flood and ceiling: how long to flood")
	fs.DurationVar(&c.pollFor, "poll-duration", 10*time.Second, "polling-rate: how long updates arrive at -rate")
	fs.Float64Var(&c.rate, "rate", 1000, "inbound-rate and polling-rate: updates per second; polling-flood pushes 10 s worth at once")
	fs.IntVar(&c.chats, "chats", 1000, "people writing (private chats)")
	fs.IntVar(&c.concurrency, "concurrency", 40, "connections of the floods and broadcast (Telegram's default webhook max_connections is 40); the ceiling uses as many")
	fs.IntVar(&c.broadcast, "broadcast", 10000, "broadcast: messages, one per chat")
	fs.Float64Var(&c.bcastRate, "broadcast-rate", 200, "broadcast: messages per second the service (TELEGRAM_RATE_LIMIT) and the fake Telegram allow")
	fs.DurationVar(&c.bcastDrain, "broadcast-drain", 0, "broadcast: longest wait for the sending to finish (0: 1.5 times what the rate needs, plus a minute); a shorter one measures acceptance and the start of the drain only")
	fs.IntVar(&c.buttonChats, "button-chats", 100, "buttons: chats doing round trips at once")
	fs.DurationVar(&c.buttonsFor, "buttons-duration", 10*time.Second, "buttons: how long")
	fs.IntVar(&c.workers, "workers", 32, "delivery engine concurrency (WORKERS; production default 32)")
	fs.IntVar(&c.channelWorkers, "channel-workers", 0, "delivery engine: most jobs one channel has in hand at once (delivery.Options.ChannelWorkers; 0: the engine's default)")
	fs.IntVar(&c.mediaWorkers, "media-workers", 8, "delivery engine: a pool of its own of this size for media fetches (delivery.Options.Isolated[fetch]; 0: fetches share the workers)")
	fs.IntVar(&c.noisyCount, "noisy-broadcast", 20000, "noisy-neighbour: channel A's broadcast, messages (one per chat), sent at -broadcast-rate")
	fs.IntVar(&c.noisyHangs, "noisy-hangs", 40, "noisy-neighbour: channel A's documents whose media link hangs")
	fs.DurationVar(&c.noisyLimit, "noisy-limit", 2*time.Minute, "noisy-neighbour: channel B's conversation lasts until A's broadcast has drained or this long")
	fs.IntVar(&c.mediaDocs, "media-docs", 6, "large-media: documents posted at once")
	fs.IntVar(&c.mediaMB, "media-mb", 45, "large-media: size of each document in MiB (Telegram's upload limit is 50)")
	fs.DurationVar(&c.mediaLimit, "media-limit", 3*time.Minute, "large-media: longest wait for every document to reach Telegram")
	fs.IntVar(&c.idlePerHost, "http-idle-per-host", 0, "give the service an HTTP client keeping this many idle connections per host (0: the service's own default client, as in production)")
	fs.BoolVar(&c.inprocess, "inprocess", false, "run the fakes and load generator in this process (CPU and memory figures then include them)")
	fs.BoolVar(&c.quick, "quick", false, "short run for a smoke test: 5 s at each rate, 3 s floods, 2,000-message broadcast, noisy-neighbour 3,000 within 1m")
	fs.StringVar(&c.jsonOut, "json", "", "also write every figure to this file as JSON")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the service per scenario to <value>-<store>-<scenario>.cpu.pprof")
	fs.StringVar(&c.memProfile, "memprofile", "", "write a heap profile of the service at the end of each scenario to <value>-<store>-<scenario>.heap.pprof")
	fs.StringVar(&c.logPath, "log", "", "the service's log file (default: a temporary file, named at the end)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/loadtest [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.role != "" {
		return c, nil
	}
	switch stores {
	case "both":
		c.stores = []string{"sqlite", "postgres"}
	case "sqlite", "postgres":
		c.stores = []string{stores}
	default:
		return nil, fmt.Errorf("-store: want sqlite, postgres or both, not %q", stores)
	}
	for _, s := range strings.Split(scenarios, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allScenarios, s) && !slices.Contains(optionalScenarios, s) {
			return nil, fmt.Errorf("-scenarios: unknown scenario %q (known: %s)", s, strings.Join(append(slices.Clone(allScenarios), optionalScenarios...), ", "))
		}
		c.scenarios = append(c.scenarios, s)
	}
	for _, v := range strings.Split(hostedSync, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 || d > time.Minute {
			return nil, fmt.Errorf("-hosted-sync: %q is not a duration from 1ns to 1m", v)
		}
		c.hostedSync = append(c.hostedSync, d)
	}
	switch {
	case c.hostedChannels < 1 || c.hostedChannels > 20000 || c.hostedBusy < 1 || c.hostedBusy > c.hostedChannels:
		return nil, errors.New("-hosted-channels must be 1 to 20,000 and -hosted-busy 1 to -hosted-channels")
	case c.hostedRate <= 0 || c.hostedRate > 100 || c.hostedTraffic <= 0 || c.hostedTraffic > 10*time.Minute:
		return nil, errors.New("-hosted-rate must be above 0, at most 100, and -hosted-traffic at most 10m")
	case c.hostedCheck <= 0 || c.hostedCheck > 5*time.Minute || c.hostedAdds < 1 || c.hostedAdds > 100:
		return nil, errors.New("-hosted-webhook-check must be positive, at most 5m, and -hosted-adds 1 to 100")
	}
	if c.databaseURL == "" {
		c.databaseURL = os.Getenv("TEST_DATABASE_URL")
	}
	if c.databaseURL == "" {
		c.databaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		quick("duration", func() { c.duration = 5 * time.Second })
		quick("poll-duration", func() { c.pollFor = 5 * time.Second })
		quick("flood", func() { c.flood = 3 * time.Second })
		quick("broadcast", func() { c.broadcast = 2000 })
		quick("buttons-duration", func() { c.buttonsFor = 3 * time.Second })
		quick("noisy-broadcast", func() { c.noisyCount = 3000 })
		quick("noisy-limit", func() { c.noisyLimit = time.Minute })
	}
	switch {
	case c.rate <= 0 || c.bcastRate <= 0:
		return nil, errors.New("-rate and -broadcast-rate must be positive")
	case c.chats <= 0 || c.concurrency <= 0 || c.broadcast <= 0 || c.buttonChats <= 0 || c.workers <= 0:
		return nil, errors.New("-chats, -concurrency, -broadcast, -button-chats and -workers must be positive")
	case c.duration <= 0 || c.flood <= 0 || c.pollFor <= 0 || c.buttonsFor <= 0:
		return nil, errors.New("durations must be positive")
	case c.duration > time.Hour || c.flood > time.Hour || c.pollFor > time.Hour || c.buttonsFor > time.Hour:
		return nil, errors.New("durations are capped at an hour")
	case c.broadcast > 1_000_000 || c.rate*c.duration.Seconds() > 10_000_000:
		return nil, errors.New("at most 1,000,000 broadcast messages and 10,000,000 updates per run")
	case c.noisyCount <= 0 || c.noisyCount > 1_000_000 || c.noisyHangs < 0 || c.noisyHangs > 1000:
		return nil, errors.New("-noisy-broadcast must be 1 to 1,000,000 and -noisy-hangs 0 to 1,000")
	case c.noisyLimit <= 0 || c.noisyLimit > 30*time.Minute || c.mediaLimit <= 0 || c.mediaLimit > 30*time.Minute:
		return nil, errors.New("-noisy-limit and -media-limit must be positive, at most 30m")
	case c.mediaDocs <= 0 || c.mediaDocs > 20 || c.mediaMB <= 0 || c.mediaMB > 50:
		return nil, errors.New("-media-docs must be 1 to 20 and -media-mb 1 to 50")
	case c.channelWorkers < 0 || c.mediaWorkers < 0:
		return nil, errors.New("-channel-workers and -media-workers must not be negative")
	}
	return c, nil
}
