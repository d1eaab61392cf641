package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// errMediaAddress: a media link led to an address media fetches may not
// reach (loopback, private, link-local, shared, ...). Final: retrying
// would reach the same address.
var errMediaAddress = errors.New("media link leads to an address that is not public")

// ParseNetworks reads MEDIA_ALLOWED_NETWORKS: comma-separated CIDRs (or
// single addresses) that media fetches may reach although not public.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// notPublic are the networks a fetch refuses unless allowed, besides what
// netip classifies as loopback, private, link-local, multicast or
// unspecified.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
}

// publicAddr reports whether a is an address a media link may lead to.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// dialGuard is a net.Dialer Control: it runs for the address actually
// dialled, after name resolution, on every connection (redirects
// included), so neither DNS nor a redirect can lead a fetch inside.
func dialGuard(allowed []netip.Prefix) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errMediaAddress, address)
		}
		a := ap.Addr().Unmap()
		if publicAddr(a) {
			return nil
		}
		for _, p := range allowed {
			if p.Contains(a) {
				return nil
			}
		}
		return fmt.Errorf("%w (%s; MEDIA_ALLOWED_NETWORKS lets networks through)", errMediaAddress, a)
	}
}

// allowedKey carries a service's allowed networks to the fetcher's dialer.
type allowedKey struct{}

func withAllowed(ctx context.Context, allowed []netip.Prefix) context.Context {
	return context.WithValue(ctx, allowedKey{}, allowed)
}

// guardedDial dials with the guard of the networks the request's service
// allows.
func guardedDial(base net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		allowed, _ := ctx.Value(allowedKey{}).([]netip.Prefix)
		d := base
		d.Control = dialGuard(allowed)
		return d.DialContext(ctx, network, addr)
	}
}
