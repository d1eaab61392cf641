package bot

// SetFetchLimits makes media downloads use lim until restore is called, so
// tests of stalled links need not wait the production timeouts.
func SetFetchLimits(lim FetchLimits) (restore func()) {
	old := fetcher.Swap(newMediaFetcher(lim))
	return func() { fetcher.Store(old) }
}
