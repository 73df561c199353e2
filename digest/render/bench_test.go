package render_test

import "testing"

// BenchmarkVariant is the baseline: rendering a 20-item issue (once per
// language × theme selection).
func BenchmarkVariant(b *testing.B) {
	r := newRenderer(b)
	iss := bigIssue(20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Variant(iss, "vi", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPersonalise is the per-recipient cost on top of a variant.
func BenchmarkPersonalise(b *testing.B) {
	r := newRenderer(b)
	v, err := r.Variant(bigIssue(20), "vi", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Personalise(reader)
	}
}

// BenchmarkNew is the start-up cost (parse, catalogue, styles, self-test).
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		newRenderer(b)
	}
}
