package main

import (
	"fmt"
	"io"

	"github.com/BurntSushi/toml"

	"github.com/haiphong/hpdigest/digest/story"
)

// evalStories measures same-story detection on a labelled JSON Lines file,
// with the shipped gazetteer and, when the config file has a [stories]
// section, its settings and staff gazetteer. Only that section is read, so
// no secret, database or relay is needed. Low scores are not an error; bad
// input is.
func evalStories(path, configPath string, stdout io.Writer) error {
	var cfg struct {
		Stories story.Config `toml:"stories"`
	}
	if configPath != "" {
		if _, err := toml.DecodeFile(configPath, &cfg); err != nil {
			return fmt.Errorf("config %s: %w", configPath, err)
		}
	}
	d, err := story.New(cfg.Stories)
	if err != nil {
		return err
	}
	rep, err := story.EvaluateFile(d, path)
	if err != nil {
		return err
	}
	return rep.Print(stdout)
}
