package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/theme"
)

// Themes returns the configured themes with the phrases staff added from
// the staff area (the rules file, cfg.ThemesRulesFile). A phrase of a
// theme no longer configured is logged and left out.
func Themes(cfg *config.Config, log *slog.Logger) ([]theme.Theme, error) {
	added, err := theme.ReadRulesFile(cfg.ThemesRulesFile)
	if err != nil {
		return nil, fmt.Errorf("themes_rules_file: %w", err)
	}
	themes, ignored := theme.WithAdded(cfg.Themes, added)
	for _, p := range ignored {
		if log != nil {
			log.Warn("themes_rules_file: phrase of a theme that is not configured; ignored", "file", cfg.ThemesRulesFile, "theme", p.Theme, "phrase", p.Text)
		}
	}
	return themes, nil
}

// reloadRules reads the rules file again and makes the classifier use the
// configured themes with its phrases. The caller holds a.rulesMu, as
// Reload does from reading the file until it installs the themes.
func (a *App) reloadRules() error {
	themes, err := Themes(a.Cfg(), a.Log)
	if err != nil {
		return err
	}
	return a.Classifier.Reload(themes)
}

// ErrBadPhrase is a phrase the rules cannot use (no words, bad weight).
var ErrBadPhrase = errors.New("the phrase cannot be a rule")

// AddPhrase adds a phrase to a theme: it is written to the rules file and
// used at once for every item classified from now on (items already stored
// keep their themes until -reclassify).
func (a *App) AddPhrase(p theme.AddedPhrase) error {
	a.rulesMu.Lock()
	defer a.rulesMu.Unlock()
	if _, err := theme.New(theme.WithPhrase(a.Classifier.Themes(), p.Theme, theme.Phrase{Text: p.Text, Weight: p.Weight})); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPhrase, err)
	}
	if err := theme.AddToRulesFile(a.Cfg().ThemesRulesFile, p); err != nil {
		return fmt.Errorf("themes_rules_file: %w", err)
	}
	return a.reloadRules()
}

// Suggestions proposes phrases for the themes from the staff's own
// decisions, with the labelled items they were drawn from.
func (a *App) Suggestions(ctx context.Context) ([]theme.Suggestion, []theme.Labelled, error) {
	items, err := a.Digests.LabelledItems(ctx, a.Cfg().ThemeKeys())
	if err != nil {
		return nil, nil, err
	}
	return theme.Suggest(a.Classifier, items), items, nil
}
