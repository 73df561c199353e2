package theme

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// AddedPhrase is a phrase staff added to a theme from the staff area. Such
// phrases live in a rules file of their own, next to the database, and are
// added to the config's themes when the daemon starts and whenever staff
// add one: the config file is never rewritten.
type AddedPhrase struct {
	Theme   string    `toml:"theme"`
	Text    string    `toml:"text"`
	Weight  float64   `toml:"weight"`
	AddedBy string    `toml:"added_by"`
	AddedAt time.Time `toml:"added_at"`
}

type rulesFile struct {
	Phrases []AddedPhrase `toml:"phrases"`
}

const rulesFileHeader = `# Phrases added to the theme rules from the staff area (Themes page).
# The daemon adds them to the [[themes]] of its config file, which stays as
# it is. Delete an entry to drop its phrase; restart the daemon (or add a
# phrase from the staff area) to apply a change made here.

`

// ReadRulesFile reads the phrases of a rules file; a file that does not
// exist holds none. Errors name the file and, where known, the line.
func ReadRulesFile(path string) ([]AddedPhrase, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f rulesFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", path, und[0].String())
	}
	for i, p := range f.Phrases {
		if strings.TrimSpace(p.Theme) == "" || strings.TrimSpace(p.Text) == "" {
			return nil, fmt.Errorf("%s: phrases[%d]: theme and text must be set", path, i)
		}
		if _, err := compile(Phrase{Text: p.Text, Weight: p.Weight}); err != nil {
			return nil, fmt.Errorf("%s: phrases[%d] %q: %v", path, i, p.Text, err)
		}
	}
	return f.Phrases, nil
}

// AddToRulesFile appends p to the rules file, creating it if needed. The
// file is replaced in one step, so a crash never leaves half of it.
func AddToRulesFile(path string, p AddedPhrase) error {
	list, err := ReadRulesFile(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(rulesFileHeader)
	if err := toml.NewEncoder(&buf).Encode(rulesFile{Phrases: append(list, p)}); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rules-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WithAdded returns a copy of themes with the added phrases put into their
// themes; phrases of a theme the config no longer has are returned apart.
func WithAdded(themes []Theme, added []AddedPhrase) (out []Theme, ignored []AddedPhrase) {
	out = append([]Theme(nil), themes...)
	for _, a := range added {
		found := false
		for i := range out {
			if out[i].Key == a.Theme {
				out[i] = WithPhrase(out[i:i+1], a.Theme, Phrase{Text: a.Text, Weight: a.Weight})[0]
				found = true
			}
		}
		if !found {
			ignored = append(ignored, a)
		}
	}
	return out, ignored
}
