package bot

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestCapReaderRefusesOneByteOver(t *testing.T) {
	for _, c := range []struct {
		n       int
		wantErr bool
	}{{0, false}, {10, false}, {11, true}, {1000, true}} {
		r := &capReader{r: bytes.NewReader(make([]byte, c.n)), left: 10}
		got, err := io.ReadAll(r)
		if gotErr := errors.Is(err, errTooBig); gotErr != c.wantErr {
			t.Errorf("%d bytes under a cap of 10: err %v, want too big: %v", c.n, err, c.wantErr)
		}
		if len(got) > 11 {
			t.Errorf("%d bytes under a cap of 10: read %d, want at most one past the cap", c.n, len(got))
		}
	}
}

// dripReader yields one byte every gap, n times.
type dripReader struct {
	n   int
	gap time.Duration
}

func (d *dripReader) Read(p []byte) (int, error) {
	if d.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(d.gap)
	d.n--
	p[0] = 'x'
	return 1, nil
}

func TestIdleReaderCutsOnlyAPause(t *testing.T) {
	// Serial: it relies on 20 ms sleeps staying well under 100 ms.
	cut := make(chan struct{}, 1)
	// Bytes every 20 ms for 300 ms under an idle limit of 100 ms: never cut.
	r := newIdleReader(&dripReader{n: 15, gap: 20 * time.Millisecond}, 100*time.Millisecond, func() { cut <- struct{}{} })
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	r.stop()
	select {
	case <-cut:
		t.Fatal("a body that kept sending was cut")
	case <-time.After(150 * time.Millisecond):
	}
	// Nothing for longer than the limit: cut.
	r = newIdleReader(strings.NewReader(""), 50*time.Millisecond, func() { cut <- struct{}{} })
	defer r.stop()
	select {
	case <-cut:
	case <-time.After(2 * time.Second):
		t.Fatal("a body that stopped sending was not cut")
	}
}
