package metrics

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg        Config
		httpListen string
		want       string // error prefix; "" = valid
	}{
		{Config{}, "127.0.0.1:8080", ""},
		{Config{Listen: "127.0.0.1:9464"}, "127.0.0.1:8080", ""},
		{Config{Listen: "[::1]:9464"}, "", ""},
		{Config{Listen: "localhost:9464"}, "", ""},
		{Config{Listen: ":9464"}, "", "metrics.listen"},
		{Config{Listen: "0.0.0.0:9464"}, "", "metrics.listen"},
		{Config{Listen: "10.0.0.5:9464"}, "", "metrics.listen"},
		{Config{Listen: "0.0.0.0:9464", TokenEnv: "T", Token: "x"}, "", ""},
		{Config{Listen: "9464"}, "", "metrics.listen"},
		{Config{Listen: "127.0.0.1:8080"}, "127.0.0.1:8080", "metrics.listen"},
		{Config{TokenEnv: "T", Token: "x"}, "127.0.0.1:8080", ""},
		{Config{Listen: "0.0.0.0:9464", TokenEnv: "T"}, "", ""}, // the token is checked by RequireToken
		{Config{TokenEnv: "T", Token: "x"}, "", "metrics.token_env"},
	} {
		err := c.cfg.Validate(c.httpListen)
		if (c.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), c.want+":")) {
			t.Errorf("%+v with http.listen %q: %v, want %q", c.cfg, c.httpListen, err, c.want)
		}
	}
}

// Only the daemon serves /metrics: the token's variable is checked when a
// command needs it, not when the file is read.
func TestRequireToken(t *testing.T) {
	if err := (Config{TokenEnv: "T"}).RequireToken(); err == nil || !strings.HasPrefix(err.Error(), "metrics.token_env:") {
		t.Errorf("token_env set, variable empty: %v, want a metrics.token_env error", err)
	}
	if err := (Config{TokenEnv: "T", Token: "x"}).RequireToken(); err != nil {
		t.Errorf("token present: %v", err)
	}
	if err := (Config{}).RequireToken(); err != nil {
		t.Errorf("no token_env: %v", err)
	}
}
