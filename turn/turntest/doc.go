// Package turntest provides a fake Turn Channel API for tests, benchmarks
// and load tests, in the manner of net/http/httptest.
//
// A Server is an httptest server that is strict where Turn's published
// schema is: it authenticates every call with the number's bearer token,
// checks the Content-Type, validates inbound messages, statuses and channel
// creation field by field and answers Turn's error shape
// ({"message": "Bad Request", "errors": {"message": {"id": ["can't be blank"]}}}).
// What it accepts it records, for inspection with Messages, Statuses and
// CreatedChannels and for waiting with WaitMessages and WaitStatuses;
// OnCall hears of every request as it is answered, for load generators
// that must not copy the records.
//
// It also plays Turn's other side: Send posts a signed outbound webhook to a
// connector, and HostMedia serves files behind short-lived signed links like
// the ones in Turn's media messages. FailNext, SetDown and SetLatency inject
// the failures a connector has to survive.
//
//	s := turntest.NewServer()
//	defer s.Close()
//	s.AddNumber("eb2828fa-7605-4c97-bba1-ea74e25c7452", "token")
//	c := turn.NewClient(s.URL, "eb2828fa-7605-4c97-bba1-ea74e25c7452", "token", nil)
package turntest
