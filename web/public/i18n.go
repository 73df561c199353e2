package public

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// messages holds every string of the public pages and the confirmation
// mail: key → {Vietnamese, English}. Templates call {{t .Lang "key"}}.
var messages = map[string][2]string{
	"site":                 {"Bản tin Hải Phòng", "Hai Phong Digest"},
	"switch":               {"English", "Tiếng Việt"},
	"subscribe.title":      {"Đăng ký nhận bản tin", "Subscribe to the digest"},
	"subscribe.intro":      {"Bản tin hằng tuần về người Hải Phòng ở nước ngoài, đầu tư nước ngoài và hợp tác với Trung Quốc.", "A weekly digest about Hai Phong's people abroad, foreign investment and cooperation with China."},
	"field.email":          {"Địa chỉ email", "Email address"},
	"field.name":           {"Họ tên (không bắt buộc)", "Name (optional)"},
	"field.language":       {"Ngôn ngữ của bản tin", "Language of the digest"},
	"field.themes":         {"Chủ đề (không chọn = tất cả)", "Themes (none ticked = all)"},
	"field.website":        {"Đừng điền vào ô này", "Leave this field empty"},
	"lang.vi":              {"Tiếng Việt", "Vietnamese"},
	"lang.en":              {"Tiếng Anh", "English"},
	"button.subscribe":     {"Đăng ký", "Subscribe"},
	"check.title":          {"Vui lòng kiểm tra hộp thư", "Please check your inbox"},
	"check.body":           {"Nếu địa chỉ này nhận được thư, chúng tôi vừa gửi tới đó một liên kết xác nhận. Đăng ký chỉ có hiệu lực sau khi bạn bấm vào liên kết đó. Nếu không thấy thư, hãy xem cả thư mục Spam.", "If that address can receive mail, we have just sent it a confirmation link. Your subscription starts only once you follow it. If you do not see the mail, look in your spam folder too."},
	"confirm.title":        {"Xác nhận đăng ký", "Confirm your subscription"},
	"confirm.body":         {"Bấm nút dưới đây để bắt đầu nhận bản tin tại địa chỉ", "Press the button below to start receiving the digest at"},
	"confirm.button":       {"Xác nhận đăng ký", "Confirm subscription"},
	"confirm.already":      {"Địa chỉ này đã được xác nhận. Bạn không cần làm gì thêm.", "This address is already confirmed. There is nothing more to do."},
	"confirmed.title":      {"Đã xác nhận — cảm ơn bạn!", "Confirmed — thank you!"},
	"confirmed.body":       {"Bạn sẽ nhận bản tin kế tiếp. Bạn có thể đổi ngôn ngữ, chủ đề hoặc tạm dừng bất cứ lúc nào.", "You will receive the next issue. You can change the language or themes, or pause, at any time."},
	"prefs.link":           {"Thay đổi tùy chọn", "Change your preferences"},
	"prefs.title":          {"Tùy chọn nhận bản tin", "Your digest preferences"},
	"prefs.for":            {"Tùy chọn cho", "Preferences for"},
	"field.timezone":       {"Múi giờ của bạn", "Your time zone"},
	"tz.default":           {"Mặc định (%s)", "Default (%s)"},
	"err.timezone":         {"Múi giờ không hợp lệ.", "That time zone is not valid."},
	"prefs.pause":          {"Tạm dừng nhận bản tin", "Pause the digest"},
	"prefs.save":           {"Lưu thay đổi", "Save changes"},
	"prefs.saved":          {"Đã lưu thay đổi của bạn.", "Your changes are saved."},
	"prefs.unsub.head":     {"Hủy đăng ký", "Unsubscribe"},
	"prefs.unsub.body":     {"Không muốn nhận bản tin nữa?", "No longer want the digest?"},
	"prefs.pending":        {"Địa chỉ này chưa được xác nhận. Hãy bấm vào liên kết trong thư xác nhận.", "This address is not confirmed yet. Please follow the link in the confirmation mail."},
	"prefs.inactive":       {"Địa chỉ này hiện không nhận bản tin. Muốn nhận lại, hãy đăng ký lại.", "This address does not receive the digest at the moment. To receive it again, subscribe again."},
	"unsub.title":          {"Hủy đăng ký", "Unsubscribe"},
	"unsub.body":           {"Bấm nút dưới đây để ngừng gửi bản tin tới", "Press the button below to stop the digest for"},
	"unsub.button":         {"Hủy đăng ký", "Unsubscribe"},
	"unsub.done.title":     {"Bạn đã hủy đăng ký", "You are unsubscribed"},
	"unsub.done.body":      {"Chúng tôi sẽ không gửi bản tin tới địa chỉ này nữa.", "We will not send the digest to this address again."},
	"unsub.already":        {"Địa chỉ này hiện không nhận bản tin.", "This address does not receive the digest."},
	"resubscribe":          {"Đăng ký lại", "Subscribe again"},
	"bad.title":            {"Liên kết không hợp lệ", "This link does not work"},
	"bad.body":             {"Liên kết không hợp lệ hoặc đã bị thay đổi. Hãy dùng liên kết trong thư mới nhất của chúng tôi.", "The link is invalid or was altered. Please use the link in our most recent mail."},
	"expired.title":        {"Liên kết đã hết hạn", "This link has expired"},
	"expired.body":         {"Liên kết này đã hết hạn. Hãy dùng liên kết trong thư mới nhất, hoặc đăng ký lại.", "This link has expired. Please use the link in our most recent mail, or subscribe again."},
	"stale.body":           {"Liên kết xác nhận này cũ hơn lần hủy đăng ký gần nhất nên không còn dùng được. Hãy đăng ký lại.", "This confirmation link is older than the last unsubscribe and no longer works. Please subscribe again."},
	"slow.title":           {"Quá nhiều yêu cầu", "Too many requests"},
	"slow.body":            {"Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.", "Too many requests from your connection. Please try again in a few minutes."},
	"error.title":          {"Đã có lỗi", "Something went wrong"},
	"error.body":           {"Chúng tôi không xử lý được yêu cầu lúc này. Vui lòng thử lại sau.", "We could not handle the request just now. Please try again later."},
	"forbidden.body":       {"Biểu mẫu này phải được gửi từ chính trang của chúng tôi.", "This form must be sent from our own page."},
	"err.email":            {"Địa chỉ email không hợp lệ. Hãy kiểm tra lại (ví dụ: ten@example.com).", "That email address is not valid. Please check it (for example: name@example.com)."},
	"err.name":             {"Họ tên quá dài (tối đa 100 ký tự).", "The name is too long (100 characters at most)."},
	"err.language":         {"Hãy chọn tiếng Việt hoặc tiếng Anh.", "Please choose Vietnamese or English."},
	"err.themes":           {"Có chủ đề không hợp lệ.", "One of the themes is not valid."},
	"mail.hello":           {"Xin chào %s,", "Hello %s,"},
	"mail.hello.anon":      {"Xin chào,", "Hello,"},
	"mail.confirm.subject": {"Xác nhận đăng ký Bản tin Hải Phòng", "Confirm your Hai Phong Digest subscription"},
	"mail.confirm.body":    {"Ai đó (hy vọng là bạn) vừa đăng ký nhận Bản tin Hải Phòng bằng địa chỉ này. Để xác nhận, hãy mở liên kết sau (có hiệu lực 7 ngày):", "Someone (hopefully you) asked to receive the Hai Phong Digest at this address. To confirm, open this link (valid for 7 days):"},
	"mail.confirm.ignore":  {"Nếu không phải bạn, hãy bỏ qua thư này: bạn sẽ không nhận được gì thêm.", "If this was not you, ignore this mail: you will not hear from us again."},
	"mail.already.subject": {"Bạn đã đăng ký Bản tin Hải Phòng", "You are already subscribed to the Hai Phong Digest"},
	"mail.already.body":    {"Ai đó (hy vọng là bạn) vừa đăng ký lại địa chỉ này. Địa chỉ này đã nhận bản tin; để đổi ngôn ngữ, chủ đề hoặc hủy đăng ký, hãy mở:", "Someone (hopefully you) asked to subscribe this address again. It already receives the digest; to change the language or themes, or to unsubscribe, open:"},
}

// T returns the message for key in lang ("vi" or "en").
func T(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

func tf(lang, key string, args ...any) string { return fmt.Sprintf(T(lang, key), args...) }

var langMatcher = language.NewMatcher([]language.Tag{language.Vietnamese, language.English})

// fromAcceptLanguage picks vi or en from the header; def when it says
// neither.
func fromAcceptLanguage(h, def string) string {
	if h == "" {
		return def
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return def
	}
	_, idx, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return def
	}
	if idx == 1 {
		return "en"
	}
	return "vi"
}

func validLang(s string) string {
	switch strings.ToLower(s) {
	case "vi":
		return "vi"
	case "en":
		return "en"
	}
	return ""
}

const langCookie = "hp_lang"

// pageLang chooses the language of a page: ?lang= or a form field "lang"
// (remembered in a cookie), then the cookie, then fallback (the
// subscriber's own language on token pages, if known), then
// Accept-Language, then def.
func pageLang(w http.ResponseWriter, r *http.Request, fallback, def string) string {
	if l := validLang(r.URL.Query().Get("lang")); l != "" {
		setLangCookie(w, r, l)
		return l
	}
	if r.Method == http.MethodPost {
		if l := validLang(r.PostFormValue("lang")); l != "" {
			setLangCookie(w, r, l)
			return l
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l := validLang(c.Value); l != "" {
			return l
		}
	}
	if fallback != "" {
		return fallback
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"), def)
}

func setLangCookie(w http.ResponseWriter, r *http.Request, l string) {
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}
