package theme_test

import (
	"fmt"

	"github.com/haiphong/hpdigest/digest/theme"
)

func ExampleClassifier_Classify() {
	c, err := theme.New(theme.Defaults())
	if err != nil {
		panic(err)
	}
	r := c.Classify("Hai Phong va Nam Ninh (Trung Quoc) ky ke hoach hop tac 2026",
		"<p>Hai th&agrave;nh ph&#7889; th&#7889;ng nh&#7845;t tri&#7875;n khai giao l&#432;u v&#259;n h&oacute;a, du l&#7883;ch.</p>")
	// The title is typed without marks, so "Nam Ninh" (fold "marks": it
	// could be "năm Ninh [Bình]") does not count; "Trung Quoc" does.
	fmt.Println(r.Themes)
	fmt.Println(r.Explanation)
	// Output:
	// [china]
	// themes: china
	//   diaspora no: score 0 < threshold 3; no phrase found
	//   fdi no: score 1.5 < threshold 3; "Trung Quốc" +1.5 (title)
	//   china YES: score 6.5 >= threshold 3; "Trung Quốc" +3 (title), "hợp tác" +1.5 (cue, title), "giao lưu" +1 (cue), "du lịch" +1 (cue)
}
