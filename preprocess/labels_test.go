package preprocess

import (
	"errors"
	"testing"
)

func TestParseClassIDMap(t *testing.T) {
	got, err := ParseClassIDMap([]byte("0 tench, Tinca tinca\n1 goldfish\n\n2 great white shark\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "tench, Tinca tinca" || got[2] != "great white shark" {
		t.Fatalf("got %q", got)
	}
	for _, bad := range []string{"x tench\n", "0 a\n0 b\n", "0 a\n2 c\n", "-1 a\n"} {
		if _, err := ParseClassIDMap([]byte(bad)); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
