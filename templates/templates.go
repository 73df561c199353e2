// Package templates holds the email and web templates and the message
// catalogues (every word on screen, in each language), embedded in the
// binary. An operator can override any of them by pointing the config's
// templates_dir at a directory with files of the same relative names: a
// template replaces the built-in one, a catalogue is merged over it (see
// Catalog).
//
// Catalogues: email/messages.toml (the email, its web version and the
// archive), web/public/messages.toml (reader pages and the confirmation
// mail), web/staff/messages.toml (the staff area). To add a message, add its
// key to both tables of the catalogue; TestEveryUsedMessageExists fails when
// a template or the code uses a key that is missing in either language.
package templates

import (
	"embed"
	"errors"
	"io/fs"
	"os"
)

//go:embed email web
var embedded embed.FS

// Embedded returns the templates built into the binary.
func Embedded() fs.FS { return embedded }

// FS returns the embedded templates with files from dir (if not "") taking
// precedence over the embedded ones of the same name.
func FS(dir string) (fs.FS, error) {
	if dir == "" {
		return embedded, nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errors.New("not a directory")}
	}
	return overlay{top: os.DirFS(dir), base: embedded}, nil
}

// overlay serves a file from top when it exists there, else from base.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return o.base.Open(name)
}

// Glob lets template.ParseFS see files from both layers.
func (o overlay) Glob(pattern string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, f := range []fs.FS{o.top, o.base} {
		names, err := fs.Glob(f, pattern)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}
