package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// FetchLimits bound one download of a media link. Turn's links are valid
// for about two minutes, so a download that has not finished within Total
// would not finish at all; a link that stalls is cut after Idle.
type FetchLimits struct {
	Dial   time.Duration // TCP connect
	TLS    time.Duration // TLS handshake
	Header time.Duration // request sent to response headers
	Idle   time.Duration // longest pause while the body is read
	Total  time.Duration // the whole download, store writes included
}

// defaultFetchLimits are the limits of media downloads.
var defaultFetchLimits = FetchLimits{
	Dial: 10 * time.Second, TLS: 10 * time.Second, Header: 30 * time.Second,
	Idle: 30 * time.Second, Total: 110 * time.Second,
}

// mediaFetcher downloads media links. It has a client of its own, apart
// from the Telegram and Turn one: its timeouts fit untrusted links, and it
// is the one place where media connections are made: its dialer refuses
// addresses that are not public (see dialGuard).
type mediaFetcher struct {
	hc  *http.Client
	lim FetchLimits
}

func newMediaFetcher(lim FetchLimits) *mediaFetcher {
	// No proxy: the guard judges the address dialled, and a proxy's would
	// be judged instead of the link's.
	tr := &http.Transport{
		DialContext:           guardedDial(net.Dialer{Timeout: lim.Dial, KeepAlive: 30 * time.Second}),
		TLSHandshakeTimeout:   lim.TLS,
		ResponseHeaderTimeout: lim.Header,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   8,
		ForceAttemptHTTP2:     true,
	}
	return &mediaFetcher{hc: &http.Client{Transport: tr}, lim: lim}
}

// fetcher is the process's media fetcher; tests swap it for shorter limits.
var fetcher atomic.Pointer[mediaFetcher]

func init() { fetcher.Store(newMediaFetcher(defaultFetchLimits)) }

// Why a download was cut (context causes).
var (
	errFetchIdle    = errors.New("media link stopped sending")
	errFetchTooLong = errors.New("media download took too long")
	errTooBig       = fmt.Errorf("media over Telegram's %d MB upload limit", MaxUpload>>20)
)

// fetchMedia streams ref.Link into the store, refusing more than MaxUpload.
// Turn's links expire: a 4xx is final.
func (s *Service) fetchMedia(ctx context.Context, ch *Channel, ref *render.MediaRef) error {
	f := fetcher.Load()
	ctx, cancelTotal := context.WithTimeoutCause(ctx, f.lim.Total, errFetchTooLong)
	defer cancelTotal()
	ctx, cut := context.WithCancelCause(ctx)
	defer cut(nil)

	if !render.WebLink(ref.Link) {
		return delivery.Permanent(errors.New("media link unusable: not an http or https URL with a host"))
	}
	req, err := http.NewRequestWithContext(withAllowed(ctx, s.opt.MediaAllowedNetworks), http.MethodGet, ref.Link, nil)
	if err != nil {
		return delivery.Permanent(fmt.Errorf("media link unusable: %w", err))
	}
	resp, err := f.hc.Do(req)
	if errors.Is(err, errMediaAddress) {
		return delivery.Permanent(fmt.Errorf("fetch media: %w", errMediaAddress))
	}
	if err != nil {
		return delivery.Retry(fmt.Errorf("fetch media: %w", fetchCause(ctx, err)))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return delivery.Retry(fmt.Errorf("fetch media: %s", resp.Status))
	case resp.StatusCode != http.StatusOK:
		return delivery.Permanent(fmt.Errorf("fetch media: %s (link expired or refused)", resp.Status))
	case resp.ContentLength > MaxUpload:
		return delivery.Permanent(errTooBig)
	}
	body := newIdleReader(resp.Body, f.lim.Idle, func() { cut(errFetchIdle) })
	defer body.stop()
	mt := ref.MimeType
	if mt == "" {
		mt, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	}
	m, err := s.st.WriteMedia(ctx, store.MediaMeta{Channel: ch.Config.Key, Key: ref.Key, MimeType: mt, Filename: ref.Filename},
		&capReader{r: body, left: MaxUpload})
	switch {
	case errors.Is(err, errTooBig):
		return delivery.Permanent(errTooBig)
	case err != nil:
		return delivery.Retry(fmt.Errorf("fetch media: %w", fetchCause(ctx, err)))
	}
	ch.log.Debug("media fetched", "key", ref.Key, "bytes", m.Size)
	return nil
}

// fetchCause says why a download failed: the cut's cause when the fetch's
// own context ended it, without the link (its query may be a signature).
func fetchCause(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil && !errors.Is(err, c) {
			return fmt.Errorf("%w (%v)", c, err)
		}
	}
	return err
}

// idleReader calls cut when no byte arrived for d, re-armed by every read
// that brings some.
type idleReader struct {
	r io.Reader
	d time.Duration
	t *time.Timer
}

func newIdleReader(r io.Reader, d time.Duration, cut func()) *idleReader {
	return &idleReader{r: r, d: d, t: time.AfterFunc(d, cut)}
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.t.Reset(i.d)
	}
	return n, err
}

func (i *idleReader) stop() { i.t.Stop() }

// capReader fails with errTooBig once more than left bytes came.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooBig
	}
	return n, err
}
