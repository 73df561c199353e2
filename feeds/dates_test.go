package feeds

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	ict := time.FixedZone("ICT", 7*3600)
	at := func(y int, m time.Month, d, h, mi, s int, loc *time.Location) time.Time {
		return time.Date(y, m, d, h, mi, s, 0, loc)
	}
	cases := []struct {
		in   string
		want time.Time
	}{
		{"Wed, 26 Jul 2017 19:41:14 +0700", at(2017, 7, 26, 19, 41, 14, ict)},
		{"Wed, 26 Jul 2017 12:41:14 GMT", at(2017, 7, 26, 12, 41, 14, time.UTC)},
		{"Wed, 26 Jul 2017 19:41:14 ICT", at(2017, 7, 26, 19, 41, 14, ict)},
		{"26 Jul 2017 19:41 ICT", at(2017, 7, 26, 19, 41, 0, ict)},
		{"Wed, 26 Jul 2017 19:41:14 GMT+7", at(2017, 7, 26, 19, 41, 14, ict)},
		{"Wed, 26 Jul 2017 19:41:14 GMT+07:00", at(2017, 7, 26, 19, 41, 14, ict)},
		{"26/07/2017 19:41:14 (GMT+7)", at(2017, 7, 26, 19, 41, 14, ict)},
		{"Wed, 26 Jul 2017 08:41:14 EST", at(2017, 7, 26, 13, 41, 14, time.UTC)},
		{"2017-07-26T19:41:14+07:00", at(2017, 7, 26, 19, 41, 14, ict)},
		{"2017-07-26T12:41:14Z", at(2017, 7, 26, 12, 41, 14, time.UTC)},
		{"2017-07-26T12:41:14.123Z", at(2017, 7, 26, 12, 41, 14, time.UTC).Add(123 * time.Millisecond)},
		{"2017-07-26 19:41:14", at(2017, 7, 26, 19, 41, 14, hcm)},
		{"2017-07-26T19:41:14", at(2017, 7, 26, 19, 41, 14, hcm)},
		{"Wed, 26 Jul 2017 19:41:14", at(2017, 7, 26, 19, 41, 14, hcm)},
		{"26/07/2017 19:41", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"26/07/2017 19:41:14", at(2017, 7, 26, 19, 41, 14, hcm)},
		{"6/7/2017 9:05", at(2017, 7, 6, 9, 5, 0, hcm)},
		{"26/07/2017 07:41 PM", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"26/07/2017 7:41:14 AM", at(2017, 7, 26, 7, 41, 14, hcm)},
		{"26/07/2017 07:41 CH", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"26/07/2017 7:41 SA", at(2017, 7, 26, 7, 41, 0, hcm)},
		{"Thứ Tư, 26/07/2017 19:41", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"Thứ tư, 26/07/2017 - 19:41 GMT+7", at(2017, 7, 26, 19, 41, 0, ict)},
		{"thứ 4, 26/07/2017, 19:41 (GMT+7)", at(2017, 7, 26, 19, 41, 0, ict)},
		{"Chủ nhật, 30/07/2017 08:00", at(2017, 7, 30, 8, 0, 0, hcm)},
		{"CN, 30/07/2017 08:00", at(2017, 7, 30, 8, 0, 0, hcm)},
		{"Thứ Hai, ngày 31/07/2017 lúc 08:00", at(2017, 7, 31, 8, 0, 0, hcm)},
		{"19:41 26/07/2017", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"Cập nhật lúc 08:00 ngày 31/07/2017", at(2017, 7, 31, 8, 0, 0, hcm)},
		{"19:41 | 26/07/2017", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"26/07/2017 19h41", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"26-07-2017 19:41", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"26/07/2017", at(2017, 7, 26, 0, 0, 0, hcm)},
		{"07/26/2017 19:41", at(2017, 7, 26, 19, 41, 0, hcm)}, // month-first only when day-first is impossible
		{"July 26, 2017 7:41 PM", at(2017, 7, 26, 19, 41, 0, hcm)},
		{"Wed Jul 26 19:41:14 2017", at(2017, 7, 26, 19, 41, 14, hcm)},
		// NFD input (decomposed tone marks) must match the same weekday.
		{"Thu\u031b\u0301 Tư, 26/07/2017 19:41", at(2017, 7, 26, 19, 41, 0, hcm)},
		// Vietnamese long forms: "tháng" (month) in digits or words, the year
		// after a comma or "năm" (year), with and without a time.
		{"Thứ Sáu, 27 tháng 11, 2026 08:00:00", at(2026, 11, 27, 8, 0, 0, hcm)},
		{"Thứ Sáu, 27 tháng 11, 2026", at(2026, 11, 27, 0, 0, 0, hcm)},
		{"Thứ Sáu, 27 tháng 11, 2026 lúc 08:00:00", at(2026, 11, 27, 8, 0, 0, hcm)},
		{"ngày 27 tháng 11 năm 2026", at(2026, 11, 27, 0, 0, 0, hcm)},
		{"Ngày 27 tháng 11 năm 2026 08:05", at(2026, 11, 27, 8, 5, 0, hcm)},
		{"08:05, ngày 27 tháng 11 năm 2026", at(2026, 11, 27, 8, 5, 0, hcm)},
		{"Thứ sáu, ngày 27 tháng 11 năm 2026, 08:05 (GMT+7)", at(2026, 11, 27, 8, 5, 0, ict)},
		{"27 Tháng Mười Một 2026", at(2026, 11, 27, 0, 0, 0, hcm)},
		{"27 Tháng Mười Một 2026 08:00:00", at(2026, 11, 27, 8, 0, 0, hcm)},
		{"Thứ Sáu, 27 Tháng Mười Một 2026 8:00 CH", at(2026, 11, 27, 20, 0, 0, hcm)},
		{"27 Tháng Mười 2026", at(2026, 10, 27, 0, 0, 0, hcm)},
		{"02 Tháng Mười Hai 2026", at(2026, 12, 2, 0, 0, 0, hcm)},
		{"1 tháng Năm năm 2026", at(2026, 5, 1, 0, 0, 0, hcm)},
		{"3 tháng Tư, 2026", at(2026, 4, 3, 0, 0, 0, hcm)},
		{"27 thang muoi mot 2026 08:00", at(2026, 11, 27, 8, 0, 0, hcm)},
		{"27 thg 11, 2026", at(2026, 11, 27, 0, 0, 0, hcm)},
		{"Thu\u031b\u0301 Sa\u0301u, 27 Tha\u0301ng Mu\u031bo\u031b\u0300i Mo\u0323\u0302t 2026", at(2026, 11, 27, 0, 0, 0, hcm)},
	}
	for _, c := range cases {
		got, ok := parseDate(c.in, hcm)
		if !ok {
			t.Errorf("parseDate(%q): not parsed", c.in)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("parseDate(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "hôm qua", "not a date", "32/13/2017 25:99", "27 tháng 13, 2026", "27 Tháng Mười Ba 2026", "tháng 11 năm 2026"} {
		if got, ok := parseDate(bad, hcm); ok {
			t.Errorf("parseDate(%q) = %v, want no date", bad, got)
		}
	}
}

func TestItemTime(t *testing.T) {
	hcm := loadLoc("")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if got := itemTime([]string{""}, nil, hcm, now); !got.IsZero() {
		t.Errorf("no date: got %v, want zero (= first seen)", got)
	}
	future := now.Add(72 * time.Hour).Format(time.RFC1123Z)
	if got := itemTime([]string{future}, nil, hcm, now); !got.Equal(now) {
		t.Errorf("date 3 days ahead: got %v, want clamped to now %v", got, now)
	}
	soon := now.Add(2 * time.Hour).Format(time.RFC1123Z)
	if got := itemTime([]string{soon}, nil, hcm, now); !got.Equal(now.Add(2 * time.Hour)) {
		t.Errorf("date 2h ahead: got %v, want kept", got)
	}
	// The raw string wins over gofeed's parse (which reads ICT as UTC).
	wrong := time.Date(2017, 7, 26, 19, 41, 0, 0, time.UTC)
	got := itemTime([]string{"26 Jul 2017 19:41 ICT"}, &wrong, hcm, now)
	if want := time.Date(2017, 7, 26, 12, 41, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("ICT: got %v, want %v", got, want)
	}
}
