package main

import (
	"io"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/story"
)

// evalStories measures same-story detection on a labelled JSON Lines file,
// with the shipped gazetteer and defaults or, with -config, the file's
// [stories] section (its settings and staff gazetteer). The config is
// loaded and checked as for every command, but nothing it needs from
// outside is required: no secret, database or relay. Low scores are not
// an error; bad input is.
func evalStories(path, configPath string, stdout io.Writer) error {
	var cfg story.Config
	if configPath != "" {
		c, err := config.Load(configPath)
		if err != nil {
			return err
		}
		cfg = c.Stories
	}
	d, err := story.New(cfg)
	if err != nil {
		return err
	}
	rep, err := story.EvaluateFile(d, path)
	if err != nil {
		return err
	}
	return rep.Print(stdout)
}
