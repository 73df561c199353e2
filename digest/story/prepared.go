package story

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Prepared is an item with the signals grouping compares already
// extracted: its amounts, names, gazetteer entities and wording. Extracting
// them is most of the cost of grouping, so a daemon prepares each item
// once, when it is ingested, keeps the encoding (MarshalBinary) beside the
// item, and restores it for every assembly (Detector.Restore).
type Prepared struct {
	doc doc
	key uint64 // the detector's signals key it was made with
}

// preparedFormat is the version of the extraction and of its encoding:
// change it whenever prepare extracts anything differently, so that
// stored encodings are prepared again.
const preparedFormat = 7

// Prepare extracts the signals of an item.
func (d *Detector) Prepare(it Item) *Prepared {
	return &Prepared{doc: *d.prepare(it), key: d.signalsKey}
}

// Item returns the item the signals were extracted from.
func (p *Prepared) Item() Item { return p.doc.Item }

// PreparedVersion identifies the extraction and the gazetteer (shipped and
// staff) that prepared items depend on: stored encodings made under
// another version are prepared again by Restore. A daemon may keep it
// beside the encodings to find them in bulk.
func (d *Detector) PreparedVersion() string {
	return fmt.Sprintf("%d-%016x", preparedFormat, d.signalsKey)
}

// itemHash covers what extraction reads of an item, so that a stored
// encoding is not used for an item whose text has changed since.
func itemHash(it Item) uint64 {
	day := noDay
	if !it.Published.IsZero() {
		day = dayNumber(it.Published)
	}
	return hashString(it.Lang + "\x00" + it.Title + "\x00" + it.Summary + "\x00" + it.URL + "\x00" + strconv.Itoa(day))
}

// Restore returns the prepared item from a stored encoding. When the
// encoding was made with another extraction or gazetteer, for other text
// of the item, or cannot be read, the item is prepared afresh and fresh is
// true: the caller should store the new encoding.
func (d *Detector) Restore(it Item, data []byte) (p *Prepared, fresh bool) {
	p, err := d.decode(it, data)
	if err != nil {
		return d.Prepare(it), true
	}
	return p, false
}

// MarshalBinary encodes the signals compactly (varints, 64-bit keys; a
// typical item takes well under a kilobyte). The item's own fields are not
// in it: Restore takes them from the caller.
func (p *Prepared) MarshalBinary() ([]byte, error) {
	x := &p.doc
	var e encoder
	e.b = append(e.b, 'S', preparedFormat)
	e.u64(p.key)
	e.u64(itemHash(x.Item))
	e.varint(int64(x.day))
	e.str(x.url)
	e.varint(int64(x.edition))
	e.str(x.edLang)
	e.str(x.edID)
	e.uvarint(uint64(len(x.quants)))
	for _, q := range x.quants {
		e.b = append(e.b, byte(q.kind))
		e.str(q.unit)
		e.u64(math.Float64bits(q.value))
		e.bool(q.title)
	}
	e.uvarint(uint64(len(x.ents)))
	for _, h := range x.ents {
		e.uvarint(uint64(h.entry))
		e.bool(h.title)
		e.bool(h.market)
		e.str(h.text)
	}
	e.uvarint(uint64(len(x.terms)))
	for _, t := range x.terms {
		e.uvarint(uint64(t.entry))
		e.bool(t.title)
	}
	e.uvarint(uint64(len(x.runs)))
	for _, r := range x.runs {
		e.uvarint(uint64(len(r.single)))
		for i := range r.single {
			e.u64(r.single[i])
			e.u64(r.pair[i])
			e.uvarint(uint64(r.cuts[2*i]))
			e.uvarint(uint64(r.cuts[2*i+1]))
		}
		e.u64(r.short)
		e.bool(r.maybe)
		e.bool(r.title)
		e.bool(r.where)
		e.str(r.text)
	}
	e.keys(x.titleSh)
	// The text's shingles include the title's: only the others are kept.
	var rest []uint64
	for _, k := range x.bodySh {
		if !contains(x.titleSh, k) {
			rest = append(rest, k)
		}
	}
	e.keys(rest)
	return e.b, nil
}

var errStale = errors.New("prepared with another extraction, gazetteer or text")

// decode reads an encoding made by MarshalBinary for item it.
func (d *Detector) decode(it Item, data []byte) (*Prepared, error) {
	r := decoder{b: data}
	if len(data) < 2 || data[0] != 'S' || data[1] != preparedFormat {
		return nil, errStale
	}
	r.b = r.b[2:]
	if r.u64() != d.signalsKey || r.u64() != itemHash(it) {
		return nil, errStale
	}
	x := &doc{Item: it}
	x.day = int(r.varint())
	x.url = r.str()
	x.edition = int(r.varint())
	x.edLang = r.str()
	x.edID = r.str()
	if x.edition < -1 || x.edition >= len(d.gaz.entries) {
		return nil, errors.New("bad edition")
	}
	for range r.count(11) {
		q := quantity{kind: qkind(r.byte())}
		q.unit = r.str()
		q.value = math.Float64frombits(r.u64())
		q.title = r.bool()
		if q.kind < qMoney || q.kind > qDate {
			return nil, errors.New("bad quantity")
		}
		x.quants = append(x.quants, q)
	}
	for range r.count(4) {
		h := entHit{entry: int32(r.uvarint())}
		h.title = r.bool()
		h.market = r.bool()
		h.text = r.str()
		if h.entry < 0 || int(h.entry) >= len(d.gaz.entries) || len(x.ents) > 0 && h.entry <= x.ents[len(x.ents)-1].entry {
			return nil, errors.New("bad entity")
		}
		x.ents = append(x.ents, h)
	}
	for range r.count(2) {
		t := termHit{entry: int32(r.uvarint())}
		t.title = r.bool()
		if t.entry < 0 || int(t.entry) >= len(d.gaz.entries) || d.gaz.entries[t.entry].kind != kindTerm ||
			len(x.terms) > 0 && t.entry <= x.terms[len(x.terms)-1].entry {
			return nil, errors.New("bad term")
		}
		x.terms = append(x.terms, t)
	}
	for range r.count(13) {
		n := r.count(18)
		run := nameRun{single: make([]uint64, n), pair: make([]uint64, n), cuts: make([]int32, 2*n)}
		for i := range n {
			run.single[i] = r.u64()
			run.pair[i] = r.u64()
			run.cuts[2*i] = int32(r.uvarint())
			run.cuts[2*i+1] = int32(r.uvarint())
		}
		run.short = r.u64()
		run.maybe = r.bool()
		run.title = r.bool()
		run.where = r.bool()
		run.text = r.str()
		for i, c := range run.cuts {
			if c < 0 || int(c) > len(run.text) || i > 0 && c < run.cuts[i-1] {
				return nil, errors.New("bad name")
			}
		}
		for i := range n {
			switch {
			case run.single[i] != 0 && run.maybe:
				x.maybes = append(x.maybes, run.single[i])
			case run.single[i] != 0:
				x.singles = append(x.singles, run.single[i])
			}
			if run.pair[i] != 0 {
				x.bigrams = append(x.bigrams, run.pair[i])
			}
		}
		x.runs = append(x.runs, run)
	}
	x.titleSh = r.keys()
	x.bodySh = sortUnique(append(slices.Clone(x.titleSh), r.keys()...))
	if r.err != nil || len(r.b) != 0 || !slices.IsSorted(x.titleSh) {
		return nil, errors.New("damaged encoding")
	}
	x.singles = sortUnique(x.singles)
	x.maybes = sortUnique(x.maybes)
	x.bigrams = sortUnique(x.bigrams)
	x.index(d)
	return &Prepared{doc: *x, key: d.signalsKey}, nil
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) u64(v uint64)     { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *encoder) bool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	e.b = append(e.b, b)
}

func (e *encoder) keys(ks []uint64) {
	e.uvarint(uint64(len(ks)))
	for _, k := range ks {
		e.u64(k)
	}
}

// decoder reads what encoder wrote; the first error sticks and every read
// after it returns zero.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("encoding cut short")

func (r *decoder) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

func (r *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint undoes binary.AppendVarint's zig-zag encoding.
func (r *decoder) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *decoder) u64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *decoder) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *decoder) bool() bool { return r.byte() != 0 }

func (r *decoder) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a number of elements that each take at least min bytes, so
// a damaged count cannot make the decoder allocate more than the input.
func (r *decoder) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *decoder) keys() []uint64 {
	n := r.count(8)
	if n == 0 {
		return nil
	}
	ks := make([]uint64, n)
	for i := range ks {
		ks[i] = r.u64()
	}
	return ks
}
