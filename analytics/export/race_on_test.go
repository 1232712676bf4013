//go:build race

package export_test

// memoryRows is the streaming memory test's row count. The race detector makes each row about
// ten times slower and doubles the heap of every goroutine, so under -race the test writes a
// fifth of the million rows; the plain run (`go test ./analytics/export`) writes a million.
const memoryRows = 200_000
