//go:build race

package export_test

// memoryRows is the streaming memory test's row count. The race detector makes each row 10–20
// times slower (a 200,000-row run took five minutes on a shared machine), so under -race the
// test writes 50,000 rows and checks the same heap bound; the plain run
// (`go test ./analytics/export`) writes a million.
const memoryRows = 50_000
