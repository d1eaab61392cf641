package bot

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// endless yields zero bytes for ever.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestCopyPacedCutsSlowReaders: a client that stops reading a media link's
// body is cut after one piece's deadline, while a client that reads gets
// the whole body whatever it takes in all.
func TestCopyPacedCutsSlowReaders(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			done <- copyPaced(w, io.LimitReader(endless{}, 4<<20), 200*time.Millisecond)
			return
		}
		done <- copyPaced(w, endless{}, 200*time.Millisecond)
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /stalled HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil { // the status line, then no more reading
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("copy to a reader that stopped ended with %v, want a write timeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a reader that stopped reading was never cut")
	}

	resp, err := http.Get(srv.URL + "/small")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != 4<<20 || <-done != nil {
		t.Fatalf("a reader that reads got %d bytes, %v", n, err)
	}
}
