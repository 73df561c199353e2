package theme

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadJSONLines decodes r as JSON Lines: one JSON value of type T a line,
// blank lines skipped. fn gets each value with its line number; its error
// stops the reading. A line that is not one JSON value of that shape is an
// error naming the line. The labelled sets of themes and stories use it.
func ReadJSONLines[T any](r io.Reader, fn func(line int, v T) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var v T
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&v); err != nil {
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te) && te.Field == "":
				return fmt.Errorf("line %d: want a JSON object, got %s", line, te.Value)
			case errors.As(err, &te):
				return fmt.Errorf("line %d: field %q: got %s", line, te.Field, te.Value)
			}
			return fmt.Errorf("line %d: %v", line, err)
		}
		if dec.More() {
			return fmt.Errorf("line %d: more than one JSON value", line)
		}
		if err := fn(line, v); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %v", line+1, err)
	}
	return nil
}
