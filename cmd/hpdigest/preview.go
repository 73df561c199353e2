package main

import "github.com/haiphong/hpdigest/digest/render"

// previewRecipient fills the personal parts of a preview with visible
// example values.
func previewRecipient(base string) render.Recipient {
	return render.Recipient{
		Name:           "Nguyễn Văn A",
		Email:          "reader@example.org",
		UnsubscribeURL: base + "/unsubscribe/PREVIEW",
		PreferencesURL: base + "/preferences/PREVIEW",
	}
}
