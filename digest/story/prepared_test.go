package story

import (
	"reflect"
	"testing"
)

// Every labelled item survives the encoding: restored, it has exactly the
// signals a fresh extraction gives, and grouping restored items gives the
// same stories, links, suggestions and explanations as grouping the items.
func TestPreparedRoundTrip(t *testing.T) {
	d := Default()
	for _, set := range evalSets {
		path := set.path
		labelled := readSet(t, path)
		items := make([]Item, len(labelled))
		restored := make([]*Prepared, len(labelled))
		total := 0
		for i, l := range labelled {
			items[i] = l.Item
			data, err := d.Prepare(l.Item).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			total += len(data)
			p, fresh := d.Restore(l.Item, data)
			if fresh {
				t.Fatalf("%s: its own encoding was not used", l.ID)
			}
			if want := d.prepare(l.Item); !reflect.DeepEqual(&p.doc, want) {
				t.Fatalf("%s: restored signals differ:\n got %+v\nwant %+v", l.ID, p.doc, *want)
			}
			restored[i] = p
		}
		if avg := total / len(items); avg > 1024 {
			t.Errorf("%s: %d bytes an item on average, want under a kilobyte", path, avg)
		}
		want, err := d.Group(items, Constraints{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.GroupPrepared(restored, Constraints{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: grouping restored items differs from grouping the items", path)
		}
	}
}

// An encoding is used only for the extraction, gazetteer and text it was
// made with; anything else, damaged or cut short, is prepared afresh.
func TestRestorePreparesAfresh(t *testing.T) {
	d := Default()
	a, b := lgd()
	data, _ := d.Prepare(a).MarshalBinary()

	staff, err := newDetector(Config{Gazetteer: "staff.txt"}, []byte("company lgd: LG Display | LGD\n"))
	if err != nil {
		t.Fatal(err)
	}
	if staff.PreparedVersion() == d.PreparedVersion() {
		t.Fatal("a staff gazetteer does not change the prepared version")
	}
	if p, fresh := staff.Restore(a, data); !fresh || !reflect.DeepEqual(&p.doc, staff.prepare(a)) {
		t.Error("an encoding made with another gazetteer was used")
	}
	edited := a
	edited.Title = "LG Display tăng vốn thêm 2 tỷ USD"
	if p, fresh := d.Restore(edited, data); !fresh || p.Item().Title != edited.Title || !reflect.DeepEqual(&p.doc, d.prepare(edited)) {
		t.Error("an encoding of the item's earlier text was used")
	}
	if _, fresh := d.Restore(b, data); !fresh {
		t.Error("another item's encoding was used")
	}
	for n := range data {
		if p, fresh := d.Restore(a, data[:n]); !fresh || !reflect.DeepEqual(&p.doc, d.prepare(a)) {
			t.Fatalf("encoding cut to %d of %d bytes was used", n, len(data))
		}
	}
	for i := 2; i < len(data); i++ {
		damaged := append([]byte(nil), data...)
		damaged[i] ^= 0xff
		p, _ := d.Restore(a, damaged) // must not panic; a flip in a key may go unnoticed
		if p.Item() != a {
			t.Fatalf("byte %d damaged: item %+v", i, p.Item())
		}
	}

	// Items prepared with another gazetteer are prepared again when grouped.
	items := []*Prepared{d.Prepare(a), d.Prepare(b)}
	got, err := staff.GroupPrepared(items, Constraints{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := staff.Group([]Item{a, b}, Constraints{})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grouping items prepared with another gazetteer: %v, want %v", storiesOf(got), storiesOf(want))
	}
	if _, err := d.GroupPrepared([]*Prepared{items[0], nil}, Constraints{}); err == nil {
		t.Error("a missing item is not an error")
	}
	if _, err := d.GroupPrepared([]*Prepared{items[0], items[0]}, Constraints{}); err == nil {
		t.Error("a duplicate id is not an error")
	}
}

// Whatever the stored bytes, Restore returns the item prepared (from the
// encoding or afresh) and never panics.
func FuzzRestore(f *testing.F) {
	d := Default()
	a, _ := lgd()
	data, _ := d.Prepare(a).MarshalBinary()
	f.Add(data)
	f.Add([]byte{})
	f.Add([]byte("S\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, _ := d.Restore(a, data); p == nil || p.Item() != a {
			t.Fatalf("restored %v", p)
		}
	})
}
