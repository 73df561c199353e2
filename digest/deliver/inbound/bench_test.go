package inbound

import (
	"bytes"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"testing"
)

func loadFixtures(b *testing.B) [][]byte {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.eml"))
	if err != nil || len(files) == 0 {
		b.Fatal("no fixtures", err)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkParse classifies every fixture once per iteration; compare it
// with BenchmarkReadMessage (only reading header and body with net/mail)
// in the same run:
//
//	go test -run '^$' -bench . -benchmem ./digest/deliver/inbound/
func BenchmarkParse(b *testing.B) {
	msgs := loadFixtures(b)
	p := testParser()
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := p.Parse(m, Envelope{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReadMessage is the baseline: what any reader of these messages
// has to do.
func BenchmarkReadMessage(b *testing.B) {
	msgs := loadFixtures(b)
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			msg, err := mail.ReadMessage(bytes.NewReader(m))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, msg.Body)
		}
	}
}
