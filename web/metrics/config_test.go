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
		{Config{TokenEnv: "T"}, "127.0.0.1:8080", "metrics.token_env"},
		{Config{TokenEnv: "T", Token: "x"}, "", "metrics.token_env"},
	} {
		err := c.cfg.Validate(c.httpListen)
		if (c.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), c.want+":")) {
			t.Errorf("%+v with http.listen %q: %v, want %q", c.cfg, c.httpListen, err, c.want)
		}
	}
}
