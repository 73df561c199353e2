package cronspec

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, spec := range []string{"0 7 * * 1", "@daily", "CRON_TZ=Asia/Ho_Chi_Minh 30 3 * * *"} {
		if err := Check(spec); err != nil {
			t.Errorf("Check(%q) = %v, want nil", spec, err)
		}
	}
	err := Check("every monday")
	if err == nil || !strings.HasPrefix(err.Error(), `"every monday" is not a cron spec: `) {
		t.Errorf(`Check("every monday") = %v, want an error naming the spec`, err)
	}
}
