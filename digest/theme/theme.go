// Package theme sorts items into the digest's themes (diaspora, fdi, china;
// "other" when none fits) from phrase rules that staff can tune in the config.
// Matching works in Vietnamese and English, with and without diacritics, on
// whole words, and every decision can explain itself.
package theme

import "errors"

// Other is the theme of items that match no configured theme.
const Other = "other"

// Theme is one configured theme ([[themes]] in the TOML file).
type Theme struct {
	Key    string `toml:"key"`     // "diaspora", "fdi", "china"
	NameVI string `toml:"name_vi"` // section heading for Vietnamese readers
	NameEN string `toml:"name_en"` // section heading for English readers
	// Rules: filled in by the classifier work (issue 4): weighted phrases,
	// negative phrases, title bonus, threshold.
	Phrases []string `toml:"phrases"`
}

// Name returns the theme's name in lang ("vi" or "en").
func (t Theme) Name(lang string) string {
	if lang == "vi" && t.NameVI != "" {
		return t.NameVI
	}
	if t.NameEN != "" {
		return t.NameEN
	}
	return t.Key
}

// Defaults returns the themes shipped with the project, used when the config
// names none.
func Defaults() []Theme { return nil }

// Result is the classification of one item.
type Result struct {
	Themes      []string           // matched theme keys in config order; empty means Other
	Scores      map[string]float64 // per theme key
	Explanation string             // human-readable: which phrases matched, scores, threshold
}

// Classifier holds compiled rules; it is safe for concurrent use.
type Classifier struct{ themes []Theme }

// New compiles the rules; a bad rule is an error naming the theme.
func New(themes []Theme) (*Classifier, error) {
	return &Classifier{themes: themes}, errors.New("theme: not implemented yet")
}

// Themes returns the configured themes in order.
func (c *Classifier) Themes() []Theme { return c.themes }

// Classify sorts one item by its title and body text (plain text or HTML).
func (c *Classifier) Classify(title, body string) Result { return Result{} }
