package render

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/haiphong/hpdigest/templates"
)

// catalog is the email's message catalogue (email/messages.toml, in the
// shape every catalogue shares: see templates.Catalog). Values are plain
// text with {name} parameters; weekdays and months are lists.
type catalog struct{ c *templates.Catalog }

// loadCatalog reads the catalogue (an override merged over the built-in
// one) and checks the lists the dates need.
func loadCatalog(fsys fs.FS) (catalog, error) {
	c, err := templates.LoadCatalog(fsys, fileMessages)
	if err != nil {
		return catalog{}, fmt.Errorf("render: %w", err)
	}
	for _, lang := range Languages {
		if l := c.List(lang, "weekdays"); len(l) != 7 {
			return catalog{}, fmt.Errorf("render: %s: [%s] weekdays must list 7 names, Sunday first", fileMessages, lang)
		}
		for _, k := range []string{"months", "months_short"} {
			if l := c.List(lang, k); len(l) != 12 {
				return catalog{}, fmt.Errorf("render: %s: [%s] %s must list 12 names", fileMessages, lang, k)
			}
		}
	}
	return catalog{c}, nil
}

// msg returns a plain message, or "" if key is unknown or a list.
func (c catalog) msg(lang, key string) string { return c.c.Msg(lang, key) }

// t formats message key with name/value pairs filling {name} parameters.
func (c catalog) t(lang, key string, args ...any) (string, error) {
	return c.c.Text(lang, key, args...)
}

// plural picks key_one or key_other for n and fills {count}.
func (c catalog) plural(lang, key string, n int) (string, error) { return c.c.Plural(lang, key, n) }

// date formats t in loc with the catalogue's pattern key (date_long,
// date_short).
func (c catalog) date(lang, key string, t time.Time, loc *time.Location) string {
	return c.c.Date(lang, key, t, loc)
}
