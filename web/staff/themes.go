package staff

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/digest/theme"
)

// ---- themes: rules that learn from curation ----

// maxPhraseLen bounds a phrase added from the page.
const maxPhraseLen = 100

type themeRow struct {
	Key, Name string
	Phrases   int                 // in the config
	Added     []theme.AddedPhrase // from the staff area
	Stats     theme.Stats         // on the staff's decisions
	Labelled  int                 // items staff put in the theme
}

type suggestionView struct {
	theme.Suggestion
	Name string // the theme's name
}

type themesData struct {
	Rows        []themeRow
	Labelled    int // items staff made a decision about
	Suggestions []suggestionView
	RulesFile   string
}

// themesPage shows each theme's rules, how they score on the staff's own
// decisions (include, exclude, move), and phrases those decisions support,
// each with the F1 it would bring and a button to add it.
func (h *Handler) themesPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.showThemes(w, r, s, http.StatusOK, "")
}

func (h *Handler) showThemes(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	lang := h.lang(r)
	suggestions, items, err := h.a.Suggestions(r.Context())
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	cfg := h.a.Cfg()
	added, err := theme.ReadRulesFile(cfg.ThemesRulesFile)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	rep := theme.EvaluateItems(h.a.Classifier, items)
	data := themesData{Labelled: len(items), RulesFile: cfg.ThemesRulesFile}
	for i, t := range cfg.Themes {
		row := themeRow{Key: t.Key, Name: h.themeName(lang, t.Key), Phrases: len(t.Phrases)}
		if i < len(rep.Themes) {
			row.Stats = rep.Themes[i]
			row.Labelled = row.Stats.TP + row.Stats.FN
		}
		for _, p := range added {
			if p.Theme == t.Key {
				row.Added = append(row.Added, p)
			}
		}
		data.Rows = append(data.Rows, row)
	}
	for _, sg := range suggestions {
		data.Suggestions = append(data.Suggestions, suggestionView{Suggestion: sg, Name: h.themeName(lang, sg.Theme)})
	}
	h.render(w, r, s, status, "themes", page{Title: h.tr(lang, "themes.title"), Nav: "themes", Error: errMsg, Data: data})
}

// addPhrase adds a phrase to a theme's rules (the rules file) and reloads
// the classifier: items classified from now on use it.
func (h *Handler) addPhrase(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	key := r.FormValue("theme")
	text := strings.Join(strings.Fields(r.FormValue("phrase")), " ")
	var t *theme.Theme
	for _, x := range h.a.Classifier.Themes() {
		if x.Key == key {
			t = &x
			break
		}
	}
	switch {
	case t == nil:
		h.showThemes(w, r, s, http.StatusBadRequest, h.tr(lang, "err.bad", "value", key))
		return
	case text == "" || utf8.RuneCountInString(text) > maxPhraseLen:
		h.showThemes(w, r, s, http.StatusBadRequest, h.tr(lang, "err.bad", "value", text))
		return
	}
	weight := t.Threshold
	if weight == 0 {
		weight = 1
	}
	err := h.a.AddPhrase(theme.AddedPhrase{Theme: key, Text: text, Weight: weight, AddedBy: s.Email, AddedAt: h.now().UTC()})
	if errors.Is(err, app.ErrBadPhrase) {
		h.showThemes(w, r, s, http.StatusBadRequest, h.tr(lang, "err.bad", "value", text))
		return
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.audit(r.Context(), s.Email, "add phrase", 0, fmt.Sprintf("%s: %s", key, text))
	h.done(w, r, s, h.prefix+"/themes", h.tr(lang, "themes.added", "phrase", text, "theme", h.themeName(lang, key)))
}
