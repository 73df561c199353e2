package staff

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/templates"
)

// builtIn is the staff catalogue shipped in the binary.
var builtIn = func() *templates.Catalog {
	c, err := templates.LoadCatalog(templates.Embedded(), catalogFile)
	if err != nil {
		panic(err)
	}
	return c
}()

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// tr is message key as the pages show it with the built-in catalogue and
// the default digest name. args fill the other parameters in the order they
// appear in the message; a parameter without a value is left as %s, where
// tests cut a message to match its fixed start.
func tr(lang, key string, args ...any) string {
	s := strings.ReplaceAll(builtIn.Msg(lang, key), "{digest}", digest.DefaultTitle(lang))
	return placeholder.ReplaceAllStringFunc(s, func(string) string {
		if len(args) == 0 {
			return "%s"
		}
		v := fmt.Sprint(args[0])
		args = args[1:]
		return v
	})
}
