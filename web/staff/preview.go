package staff

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/render"
)

// previewChoice is the language and theme selection of a preview.
type previewChoice struct {
	Lang   string
	Themes []string // chosen, in the digest's order; never empty
	All    bool     // every theme chosen
}

func (h *Handler) choice(r *http.Request, d digest.Digest) previewChoice {
	c := previewChoice{Lang: r.FormValue("lang")}
	if c.Lang != "vi" && c.Lang != "en" {
		c.Lang = "vi"
	}
	want := map[string]bool{}
	for _, t := range r.Form["theme"] {
		want[t] = true
	}
	for _, t := range d.Themes {
		if want[t] {
			c.Themes = append(c.Themes, t)
		}
	}
	if len(c.Themes) == 0 {
		c.Themes = append([]string(nil), d.Themes...)
	}
	c.All = len(c.Themes) == len(d.Themes)
	return c
}

// Query is the choice as URL parameters.
func (c previewChoice) Query() string {
	v := url.Values{"lang": {c.Lang}}
	for _, t := range c.Themes {
		v.Add("theme", t)
	}
	return v.Encode()
}

// Has reports whether theme t is chosen.
func (c previewChoice) Has(t string) bool {
	for _, x := range c.Themes {
		if x == t {
			return true
		}
	}
	return false
}

// compose builds the message a reader with this choice gets, addressed to
// to: the daemon's own message (app.MessageFor), with unsubscribe and
// preferences links signed for no subscriber, so clicking them in a preview
// or a test copy changes nothing.
func (h *Handler) compose(d digest.Digest, iss *digest.Issue, c previewChoice, to, name string) (*deliver.Message, *render.Variant, error) {
	v, err := h.a.Renderer().Variant(h.a.RenderIssue(d, iss, c.Themes), c.Lang, nil)
	if err != nil {
		return nil, nil, err
	}
	return h.a.MessageFor(d, v, deliver.Recipient{Email: to, Name: name, Language: c.Lang}), v, nil
}

type previewData struct {
	Digest  digest.Digest
	Issue   *digest.Issue
	Choice  previewChoice
	Subject string
	Items   int
	Text    string
	Size    int
}

func (h *Handler) previewPage(w http.ResponseWriter, r *http.Request, s *session) {
	iss, d, ok := h.loadIssue(w, r, s)
	if !ok {
		return
	}
	c := h.choice(r, d)
	m, v, err := h.compose(d, iss, c, s.Email, s.Name)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	data := previewData{Digest: d, Issue: iss, Choice: c, Subject: m.Subject, Items: v.Items, Text: m.Text, Size: len(m.HTML)}
	h.render(w, r, s, http.StatusOK, "preview", page{Title: h.tr(h.lang(r), "preview.title", "number", iss.Number), Nav: "dashboard", Data: data})
}

func (h *Handler) previewHTML(w http.ResponseWriter, r *http.Request, s *session) {
	h.previewPart(w, r, s, "text/html; charset=utf-8", func(m *deliver.Message) string { return m.HTML })
}

func (h *Handler) previewText(w http.ResponseWriter, r *http.Request, s *session) {
	h.previewPart(w, r, s, "text/plain; charset=utf-8", func(m *deliver.Message) string { return m.Text })
}

// previewPart serves one part of the message the preview's reader gets.
func (h *Handler) previewPart(w http.ResponseWriter, r *http.Request, s *session, contentType string, part func(*deliver.Message) string) {
	iss, d, ok := h.loadIssue(w, r, s)
	if !ok {
		return
	}
	m, _, err := h.compose(d, iss, h.choice(r, d), s.Email, s.Name)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write([]byte(part(m)))
}

// previewEML returns the whole message as the relay would get it, built by
// the delivery engine's own writer.
func (h *Handler) previewEML(w http.ResponseWriter, r *http.Request, s *session) {
	iss, d, ok := h.loadIssue(w, r, s)
	if !ok {
		return
	}
	c := h.choice(r, d)
	m, _, err := h.compose(d, iss, c, s.Email, s.Name)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	data, err := h.rawMessage(r.Context(), m)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d-%s.eml"`, d.Key, iss.Number, c.Lang))
	w.Write(data)
}

// rawMessage is the whole message as the relay would get it, written by the
// delivery engine (with its DKIM signature when one is configured).
func (h *Handler) rawMessage(_ context.Context, m *deliver.Message) ([]byte, error) {
	return h.a.Engine.Render(m)
}

// sendTest mails the preview to the editor's own address, with "[TEST]"
// before the subject; no outbox row, no subscriber is involved.
func (h *Handler) sendTest(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	iss, d, ok := h.loadIssue(w, r, s)
	if !ok {
		return
	}
	c := h.choice(r, d)
	back := fmt.Sprintf("%s/issues/%d/preview?%s", h.prefix, iss.ID, c.Query())
	m, _, err := h.compose(d, iss, c, s.Email, s.Name)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	m.Subject = "[TEST] " + m.Subject
	ctx, cancel := withTimeout(r.Context(), h.testTimeout())
	defer cancel()
	if err := h.a.Engine.SendOne(ctx, m); err != nil {
		h.log.Warn("staff: test copy", "to", s.Email, "err", err)
		h.done(w, r, s, back, h.tr(lang, "err.test", "error", strings.TrimSpace(err.Error())))
		return
	}
	h.audit(r.Context(), s.Email, "test copy", iss.ID, c.Lang+" "+strings.Join(c.Themes, ","))
	h.done(w, r, s, back, h.tr(lang, "done.test", "email", s.Email))
}
