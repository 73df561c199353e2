package render

// RawHTMLForTest exposes a variant's HTML before personalisation.
func RawHTMLForTest(v *Variant) string { return v.html }
