package metrics

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// Config is the [metrics] section. /metrics is off unless one of its keys
// is set:
//
//   - listen alone: /metrics on its own address, which must be a loopback
//     one (127.0.0.1, [::1], localhost): anything that can reach it can read it;
//   - token_env alone: /metrics on the main server (http.listen), answered
//     only with "Authorization: Bearer <token>", the token read from that
//     environment variable;
//   - both: its own address, reachable from other machines too, and the token
//     is required there.
type Config struct {
	Listen   string `toml:"listen"`
	TokenEnv string `toml:"token_env"`
	// Token is read from TokenEnv by the config loader.
	Token string `toml:"-"`
}

// Enabled reports whether /metrics is served at all.
func (c Config) Enabled() bool { return c.Listen != "" || c.TokenEnv != "" }

// OnMainServer reports whether /metrics is served by the main HTTP server.
func (c Config) OnMainServer() bool { return c.Listen == "" && c.TokenEnv != "" }

// ResolveToken reads the token from the environment.
func (c *Config) ResolveToken() {
	if c.TokenEnv != "" {
		c.Token = os.Getenv(c.TokenEnv)
	}
}

// RequireToken reports a token_env whose variable is empty or unset: only
// the daemon serves /metrics, so only the daemon needs it.
func (c Config) RequireToken() error {
	if c.TokenEnv != "" && c.Token == "" {
		return fmt.Errorf("metrics.token_env: the environment variable %s is empty or unset", c.TokenEnv)
	}
	return nil
}

// Validate checks the section against the main server's address; errors
// name the key ("metrics.listen: ..."). A listen address other machines can
// reach is refused without a token: metrics tell the size of the list, the
// send schedule and the feeds, which are not for everyone.
func (c Config) Validate(httpListen string) error {
	if c.Listen != "" {
		host, _, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return fmt.Errorf("metrics.listen: %q is not host:port: %v", c.Listen, err)
		}
		if c.TokenEnv == "" && !loopback(host) {
			return fmt.Errorf("metrics.listen: %q can be reached from other machines: listen on 127.0.0.1, or set metrics.token_env so that a bearer token guards /metrics", c.Listen)
		}
		if c.Listen == httpListen && !strings.HasSuffix(c.Listen, ":0") { // port 0: each gets its own
			return fmt.Errorf("metrics.listen: %q is http.listen too: leave metrics.listen empty and set metrics.token_env to serve /metrics there", c.Listen)
		}
	} else if c.TokenEnv != "" && httpListen == "" {
		return fmt.Errorf("metrics.token_env: /metrics would be served on http.listen, which is empty: set metrics.listen")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
