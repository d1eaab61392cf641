package bot

import (
	"errors"
	"net/netip"
	"testing"
)

func TestDialGuard(t *testing.T) {
	t.Parallel()
	allowed, err := ParseNetworks("10.1.0.0/16, 192.0.2.7,fd00:1::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:443", true},          // public
		{"[2606:4700::6810:85e5]:443", true}, // public IPv6
		{"127.0.0.1:8080", false},            // loopback
		{"127.9.9.9:80", false},
		{"[::1]:80", false},
		{"10.0.0.1:80", false}, // RFC 1918
		{"172.16.5.4:80", false},
		{"192.168.1.1:80", false},
		{"169.254.169.254:80", false},    // link-local: cloud metadata
		{"100.64.0.1:80", false},         // CGNAT
		{"0.0.0.0:80", false},            // unspecified
		{"[fd12:3456::1]:80", false},     // unique-local
		{"[fe80::1]:80", false},          // IPv6 link-local
		{"[::ffff:127.0.0.1]:80", false}, // IPv4-mapped loopback
		{"[::ffff:10.0.0.1]:80", false},
		{"224.0.0.1:80", false},  // multicast
		{"10.1.2.3:80", true},    // allowed network
		{"192.0.2.7:80", true},   // allowed address
		{"192.0.2.8:80", true},   // TEST-NET: public as far as the guard knows
		{"[fd00:1::5]:80", true}, // allowed IPv6 network
		{"not-an-address", false},
	} {
		err := dialGuard(allowed)("tcp", c.addr, nil)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want allowed=%v", c.addr, err, c.ok)
		}
		if err != nil && !errors.Is(err, errMediaAddress) {
			t.Errorf("%s: %v is not errMediaAddress", c.addr, err)
		}
	}
}

func TestParseNetworks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []netip.Prefix
		bad  bool
	}{
		{"", nil, false},
		{" 127.0.0.0/8 , ::1/128 ", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, false},
		{"10.1.2.3/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false},
		{"10.0.0.1", []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}, false},
		{"localhost", nil, true},
		{"10.0.0.0/33", nil, true},
	} {
		got, err := ParseNetworks(c.in)
		if (err != nil) != c.bad {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func FuzzParseNetworks(f *testing.F) {
	for _, s := range []string{"", "127.0.0.0/8,::1/128", "10.0.0.1", "x", "1.2.3.4/99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nets, err := ParseNetworks(s)
		if err == nil {
			for _, p := range nets {
				if !p.IsValid() {
					t.Fatalf("%q gave an invalid prefix %v", s, p)
				}
			}
		}
	})
}
