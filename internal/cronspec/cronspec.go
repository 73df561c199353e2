// Package cronspec checks the cron specs the configuration schedules
// jobs with.
package cronspec

import (
	"fmt"

	"github.com/robfig/cron/v3"
)

// Check returns an error naming spec when it is not a standard cron spec
// (five fields, or a descriptor such as "@daily"; "CRON_TZ=" allowed).
func Check(spec string) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("%q is not a cron spec: %v", spec, err)
	}
	return nil
}
