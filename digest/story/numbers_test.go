package story

import (
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/digest/theme"
)

// figures lists what scanQuantities finds, as explanations show it.
func figures(d *Detector, lang, text string) string {
	var out []string
	for _, q := range scanQuantities(theme.Fold(text), lang, &d.units, false, nil) {
		out = append(out, [...]string{"", "money", "percent", "count", "number", "ordinal", "period", "year", "date"}[q.kind]+" "+q.String())
	}
	return strings.Join(out, "; ")
}

func TestAmountsAndNumbersAcrossLanguages(t *testing.T) {
	d := Default()
	cases := []struct {
		lang, text, want string
	}{
		// One amount, the conventions of each language and outlet.
		{"vi", "vốn tăng thêm 1,4 tỷ USD", "money 1.4 billion USD"},
		{"en", "pours additional 1.4 billion USD", "money 1.4 billion USD"},
		{"en", "a US$1.4 bn plant", "money 1.4 billion USD"},
		{"en", "a $1.4 bln plant", "money 1.4 billion USD"},
		{"en", "USD 1.4 billion in FDI", "money 1.4 billion USD"},
		{"vi", "khoảng 1,4 tỷ đô la Mỹ", "money 1.4 billion USD"},
		{"vi", "dự án 750 triệu USD", "money 750 million USD"},
		{"en", "a US$750 million plant", "money 750 million USD"},
		{"en", "a $750m plant", "money 750 million USD"},
		{"en", "the 230-million-USD plant", "money 230 million USD"},
		// Vietnamese thousands dot and decimal comma; English the reverse.
		{"vi", "tổng vốn 6.400 tỷ đồng", "money 6.4 trillion VND"},
		{"en", "built at a cost of VND6.4 trillion", "money 6.4 trillion VND"},
		{"vi", "2,5 nghìn tỷ đồng", "money 2.5 trillion VND"},
		{"vi", "45.000 euro", "money 45,000 EUR"},
		{"en", "45,000 EUR", "money 45,000 EUR"},
		{"vi", "1.234,5 triệu USD", "money 1.235 billion USD"}, // shown to three decimals
		{"en", "1,234.5 million USD", "money 1.235 billion USD"},
		{"vi", "1.234,5 USD", "money 1,234.5 USD"},
		{"en", "1,234.5 USD", "money 1,234.5 USD"},
		{"vi", "vốn 1.4 tỷ USD", "money 1.4 billion USD"}, // a dot not followed by three digits is a decimal point
		{"en", "1,4 billion USD", "money 1.4 billion USD"},
		// Percentages.
		{"vi", "tăng 12,5%", "percent 12.5%"},
		{"en", "up 12.5 per cent", "percent 12.5%"},
		{"en", "up 12.5%", "percent 12.5%"},
		{"vi", "tăng 15 phần trăm", "percent 15%"},
		// Counts of things, known units, any number of words between in English.
		{"vi", "hơn 300 doanh nghiệp tham dự", "count 300 businesses"},
		{"en", "over 300 businesses attended", "count 300 businesses"},
		{"en", "300 South Korean businesses", "count 300 businesses"},
		{"vi", "1.000 kiều bào", "count 1,000 overseas Vietnamese"},
		{"en", "six Korean projects", "count 6 projects"},
		{"en", "8,000 truck and bus tyres a day", "count 8,000 tyres"},
		{"vi", "1,1 triệu TEU", "count 1.1 million TEU"},
		{"vi", "quy mô 35 ha", "count 35 hectares"},
		{"en", "a 35ha factory", "count 35 hectares"},
		{"en", "some 600,000 in the country", "number 600,000"},
		// Editions, periods, dates, years.
		{"vi", "Hội nghị lần thứ 3", "ordinal 3rd"},
		{"vi", "Hội nghị lần thứ ba", "ordinal 3rd"},
		{"vi", "Đại hội lần thứ XV", "ordinal 15th"},
		{"en", "the 3rd conference", "ordinal 3rd"},
		{"en", "Third Conference", "ordinal 3rd"},
		{"vi", "9 tháng đầu năm", "period 9 months"},
		{"en", "in the first nine months", "period 9 months"},
		{"vi", "Chiều 8/10, Ban Quản lý", "date 8 Oct; date afternoon 8 Oct"},
		{"vi", "tối ngày 9-6", "date 9 Jun; date evening 9 Jun"},
		{"en", "On the afternoon of July 13, the delegation", "date 13 Jul; date afternoon 13 Jul"},
		{"vi", "đến tối 11/12", "date 11 Dec"}, // an end date has no time of the event
		{"vi", "6 tháng đầu năm", "period 6 months"},
		{"vi", "nửa đầu năm 2027", "period 6 months; year 2027"},
		{"en", "in the first half", "period 6 months"},
		{"en", "FDI inflows in H1", "period 6 months"},
		{"vi", "Quý I/2027", "period 3 months"},
		{"en", "in Q1", "period 3 months"},
		{"en", "in the third quarter", "period Q3"},
		{"vi", "quý 3", "period Q3"},
		{"en", "second half of the year", "period H2"},
		{"en", "the H1N1 virus", ""}, // a code, not a half of the year
		{"vi", "ngày 24/1/2027", "date 24 Jan"},
		{"vi", "ngày 20 tháng 10", "date 20 Oct"},
		{"en", "on October 20", "date 20 Oct"},
		{"en", "on 20 October", "date 20 Oct"},
		{"vi", "Xuân Quê hương 2027", "year 2027"},
		// Not figures at all.
		{"vi", "tính đến hết tháng 10", ""},
		{"en", "a 24/7 hotline", ""},
		{"en", "https://www.vietnamplus.vn/lg-post1071203.vnp", ""},
		{"en", "the G20 summit", ""},
	}
	for _, c := range cases {
		if got := figures(d, c.lang, c.text); got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.lang, c.text, got, c.want)
		}
	}
}

func TestParseNumberConventions(t *testing.T) {
	cases := []struct {
		s, lang string
		want    float64
	}{
		{"1,4", "vi", 1.4}, {"1.400", "vi", 1400}, {"1.234.567", "vi", 1234567}, {"1.234,5", "vi", 1234.5},
		{"1.4", "en", 1.4}, {"1,400", "en", 1400}, {"1,234,567", "en", 1234567}, {"1,234.5", "en", 1234.5},
		{"1,4", "en", 1.4}, {"1.4", "vi", 1.4}, {"12", "vi", 12},
	}
	for _, c := range cases {
		if got, ok := parseNumber(c.s, c.lang); !ok || got != c.want {
			t.Errorf("parseNumber(%q, %s) = %v, %v; want %v", c.s, c.lang, got, ok, c.want)
		}
	}
}
