package config

import (
	"reflect"

	"github.com/haiphong/hpdigest/store/backup"
	"github.com/haiphong/hpdigest/subscribers"
)

// restartOnly are the settings a running daemon cannot change: they bind
// sockets, open the database, hold connections or secrets read from the
// environment at start. Each entry points at the setting in a Config.
var restartOnly = []struct {
	key string
	at  func(*Config) any
	// written, if set, is the setting as the file writes it, for settings
	// that hold secrets read later (Require) from the environment.
	written func(*Config) any
}{
	{key: "database", at: func(c *Config) any { return &c.Database }},
	{key: "http.listen", at: func(c *Config) any { return &c.HTTP.Listen }},
	// The base URL's path is where every route lives.
	{key: "http.base_url", at: func(c *Config) any { return &c.HTTP.BaseURL }},
	{key: "metrics", at: func(c *Config) any { return &c.Metrics }},
	{key: "backup.litestream", at: func(c *Config) any { return &c.Backup.Litestream }},
	{key: "inbound.listen", at: func(c *Config) any { return &c.Inbound.Listen }},
	// The relays' connection pools, rate limits and DKIM keys.
	{key: "smtp", at: func(c *Config) any { return &c.SMTP }},
	// The fetcher's HTTP clients and concurrency limits.
	{key: "fetch", at: func(c *Config) any { return &c.Fetch }},
	// Link-signing keys: their secrets come from the environment, read at
	// start (a restart reads them again).
	{key: "subscribers.keys", at: func(c *Config) any { return &c.Subscribers.Keys }, written: func(c *Config) any {
		keys := make([]subscribers.Key, len(c.Subscribers.Keys))
		for i, k := range c.Subscribers.Keys {
			keys[i] = k.Written()
		}
		return keys
	}},
}

// KeepRestartOnly gives c, a configuration read for a reload, the running
// values of the settings that need a restart, and returns the keys of
// those that differ in c's file. The rest of c is what the reload applies.
func (c *Config) KeepRestartOnly(running *Config) []string {
	// What defaults to a place beside the database stays beside the one
	// in use.
	if c.Database != running.Database {
		if c.ThemesRulesFile == rulesFileBeside(c.Database) {
			c.ThemesRulesFile = rulesFileBeside(running.Database)
		}
		if c.Backup.Dir == backup.DefaultDir(c.Database) {
			c.Backup.Dir = backup.DefaultDir(running.Database)
		}
	}
	var changed []string
	for _, r := range restartOnly {
		next := reflect.ValueOf(r.at(c)).Elem()
		was := reflect.ValueOf(r.at(running)).Elem()
		same := reflect.DeepEqual(next.Interface(), was.Interface())
		if r.written != nil {
			same = reflect.DeepEqual(r.written(c), r.written(running))
		}
		if !same {
			next.Set(was)
			changed = append(changed, r.key)
		}
	}
	return changed
}
