package digest_test

import (
	"testing"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/feeds/feedstest"
)

// BenchmarkIngestAndClassify is the whole ingestion path of a large feed —
// fetch over HTTP, parse, normalise, sanitise, store — plus classifying
// every new item with the shipped theme rules, as the daemon does. Compare
// with feeds' BenchmarkIngestLargeFeed (the same without classification):
//
//	go test -run '^$' -bench 'Ingest' -benchtime 10x ./feeds ./digest
func BenchmarkIngestAndClassify(b *testing.B) {
	c, err := theme.New(theme.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	feedstest.BenchmarkIngest(b, 1000, func(it feeds.Item) { digest.Classify(c, it) })
}
