package subscribers

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// emails returns the addresses of a page of results.
func emails(res SearchResult) []string {
	var out []string
	for _, s := range res.Rows {
		out = append(out, s.Email)
	}
	return out
}

func TestSearchFindsNamesWithOrWithoutMarks(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	for _, sub := range []Subscriber{
		{Email: "duc@example.jp", Name: "Nguyễn Văn Đức", Language: "vi"},
		{Email: "hoa@example.de", Name: "NGUYỄN THỊ HOA", Language: "vi", Status: Pending},
		{Email: "binh_tran@example.us", Name: "Trần Bình", Language: "en"},
		{Email: "binhxtran@example.us", Name: "Bình 100% Việt", Language: "en"},
	} {
		if _, err := s.Add(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		text, status string
		want         []string
	}{
		{"nguyen", "", []string{"duc@example.jp", "hoa@example.de"}},
		{"Nguyễn", "", []string{"duc@example.jp", "hoa@example.de"}},
		{"ĐỨC", "", []string{"duc@example.jp"}},
		{"thi hoa", "", []string{"hoa@example.de"}},
		{"@EXAMPLE.US", "", []string{"binh_tran@example.us", "binhxtran@example.us"}},
		{"binh_", "", []string{"binh_tran@example.us"}}, // _ is a character, not a wildcard
		{"100%", "", []string{"binhxtran@example.us"}},  // % too
		{"nguyen", Pending, []string{"hoa@example.de"}},
		{"  ", Pending, []string{"hoa@example.de"}},
		{"nobody", "", nil},
	} {
		res, err := s.Search(ctx, Search{Text: c.text, Status: c.status, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := emails(res); !slices.Equal(got, c.want) || res.Matched != len(c.want) {
			t.Errorf("search %q status %q: %v (%d matched), want %v", c.text, c.status, got, res.Matched, c.want)
		}
	}
}

func TestSearchPages(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	var all []string
	for i := range 7 {
		sub, err := s.Add(ctx, Subscriber{Email: fmt.Sprintf("r%d@example.kr", i), Name: fmt.Sprintf("Người đọc %d", i), Language: "vi"})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, sub.Email)
	}
	if _, err := s.Add(ctx, Subscriber{Email: "other@example.kr", Name: "Khác", Language: "vi"}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for offset := 0; offset < 9; offset += 3 {
		res, err := s.Search(ctx, Search{Text: "nguoi doc", Offset: offset, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Matched != 7 {
			t.Errorf("offset %d: %d matched, want 7", offset, res.Matched)
		}
		seen = append(seen, emails(res)...)
	}
	if !slices.Equal(seen, all) {
		t.Errorf("the pages together: %v, want each match once in the order they came: %v", seen, all)
	}
}
