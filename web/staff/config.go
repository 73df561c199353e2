package staff

import "github.com/haiphong/hpdigest/web/staff/staffconfig"

// Config is the [staff] section (defined in staffconfig so that the config
// package can embed it).
type Config = staffconfig.Config

// Account is a staff account listed in the config.
type Account = staffconfig.Account

func normalizeEmail(s string) (string, error) { return staffconfig.NormalizeEmail(s) }
