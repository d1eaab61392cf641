package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Usage is what a scenario cost, measured around it.
type Usage struct {
	Wall float64 `json:"wall_s"`
	// ServiceCPU is getrusage(RUSAGE_SELF) user+sys of this process, which
	// holds the connector (the fakes and the load generator run in a child
	// process unless -inprocess).
	ServiceCPU float64 `json:"service_cpu_s"`
	// PostgresCPU is user+sys of every process named "postgres" (from
	// /proc/<pid>/stat), 0 for the embedded store.
	PostgresCPU float64 `json:"postgres_cpu_s"`
	// WorldCPU is the child's user+sys: fakes, taps and load generator.
	WorldCPU float64 `json:"world_cpu_s"`
	// PeakRSS is VmHWM of this process, reset (clear_refs 5) when the
	// scenario starts: the most resident memory at any moment of it.
	PeakRSS uint64 `json:"peak_rss_bytes"`
	// PeakHeap is the most live+unswept heap objects seen by sampling
	// runtime/metrics every 50 ms; PeakGoTotal the most memory the Go
	// runtime had mapped (heap, stacks, metadata) at those samples.
	PeakHeap    uint64 `json:"peak_heap_bytes"`
	PeakGoTotal uint64 `json:"peak_go_total_bytes"`
	GCCycles    uint64 `json:"gc_cycles"`
}

// meter measures one scenario.
type meter struct {
	start     time.Time
	cpu0      float64
	pg0       map[int]float64
	child     int
	child0    float64
	gc0       uint64
	stop      chan struct{}
	done      sync.WaitGroup
	peakHeap  uint64
	peakTotal uint64
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

func startMeter(child int, postgres bool) *meter {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	m := &meter{start: time.Now(), cpu0: selfCPU(), child: child, stop: make(chan struct{})}
	if postgres {
		m.pg0 = postgresCPU()
	}
	if child > 0 {
		m.child0 = procCPU(child)
	}
	m.gc0 = m.sample()
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *meter) sample() (gc uint64) {
	metrics.Read(memSamples)
	m.peakHeap = max(m.peakHeap, memSamples[0].Value.Uint64())
	m.peakTotal = max(m.peakTotal, memSamples[1].Value.Uint64())
	return memSamples[2].Value.Uint64()
}

func (m *meter) finish() Usage {
	close(m.stop)
	m.done.Wait()
	gc := m.sample()
	u := Usage{
		Wall:        time.Since(m.start).Seconds(),
		ServiceCPU:  selfCPU() - m.cpu0,
		PeakRSS:     peakRSS(),
		PeakHeap:    m.peakHeap,
		PeakGoTotal: m.peakTotal,
		GCCycles:    gc - m.gc0,
	}
	if m.pg0 != nil {
		for pid, c := range postgresCPU() {
			u.PostgresCPU += c - m.pg0[pid] // a backend that started meanwhile counts from 0
		}
	}
	if m.child > 0 {
		u.WorldCPU = procCPU(m.child) - m.child0
	}
	return u
}

// selfCPU is this process's user+sys CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU is user+sys CPU seconds of pid from /proc/<pid>/stat (0 if gone).
func procCPU(pid int) float64 {
	_, cpu := procStat(pid)
	return cpu
}

func procStat(pid int) (comm string, cpu float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0
	}
	// comm is in parentheses and may hold spaces; fields follow the last ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0
	}
	comm = string(b[open+1 : end])
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return comm, 0
	}
	// After the state (f[0]): utime is field 14 of the line, f[11]; stime f[12].
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return comm, (ut + st) / clockTicks
}

// postgresCPU maps the pid of every process named postgres to its CPU
// seconds: the postmaster, its background workers and every backend.
func postgresCPU() map[int]float64 {
	out := map[int]float64{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if comm, cpu := procStat(pid); comm == "postgres" {
			out[pid] = cpu
		}
	}
	return out
}

// resetPeakRSS resets VmHWM to the current RSS (Linux >= 4.0).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM of this process in bytes.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
